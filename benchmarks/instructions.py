"""Instructions per request of one endpoint, counted by valgrind: a figure the machine's load
does not move.

    .venv/bin/python -m benchmarks.instructions --endpoint json_list

On a shared machine timings move by 5-10% between runs, more than most single changes gain.
Valgrind's cachegrind counts the instructions executed instead: the same code, data and
``PYTHONHASHSEED`` give the same count to within ~0.3%. The script prepares a database like
profile_request.py, runs the app under cachegrind twice (with no measured requests, then with
``--requests``) and prints the difference per request.

Instructions are not time: SQLite's C code runs more of them per nanosecond than the Python
interpreter does. Compare two versions of our code with it, not our app with the floor.
Needs Debian's ``valgrind``; each run takes about 15 s of start-up plus ~50x the requests.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pyramid.paster import bootstrap

from benchmarks.load import ENDPOINTS
from benchmarks.profile_request import Target, caller, prepare

CHILD = "TASKDESK_INSTRUCTIONS_CHILD"
WARM_UP = 30


def _child(requests: int) -> None:
    """Inside valgrind: warm up, then send ``requests`` requests."""
    ini, secret, slug, number, name = os.environ[CHILD].split("|")
    target = Target(Path(ini), secret, {"slug": slug, "number": int(number)})
    with bootstrap(ini) as env:
        call = caller(env["app"], target, name)
        for _ in range(WARM_UP + requests):
            call()


def _count(target: Target, name: str, requests: int) -> int:
    values = (str(target.ini), target.secret, str(target.path_values["slug"]),
              str(target.path_values["number"]), name)
    env = {**os.environ, CHILD: "|".join(values), "PYTHONHASHSEED": "0"}
    run = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-m", "benchmarks.instructions", "--requests", str(requests)],
        env=env, capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="json_list", choices=sorted(ENDPOINTS))
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if CHILD in os.environ:
        _child(args.requests)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="taskdesk-instructions-") as tmp:
        target = prepare(Path(tmp), args.tasks)
        baseline = _count(target, args.endpoint, 0)
        measured = _count(target, args.endpoint, args.requests)
    per_request = (measured - baseline) / args.requests
    print(f"{args.endpoint}: {per_request:,.0f} instructions per request "
          f"({args.requests} requests, {args.tasks:,} tasks)")


if __name__ == "__main__":
    main()
