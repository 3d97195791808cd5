"""development.ini under pserve, as ``make run`` starts it: the port is chosen on the command
line (``make run PORT=...``), without editing a tracked file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.servers import (
    BIN,
    ROOT,
    Client,
    free_port,
    server_env,
    taskdesk,
    wait_until,
    waitress,
)

pytestmark = pytest.mark.slow


def development_ini(directory: Path) -> Path:
    """development.ini as shipped, but for a SQLite database in ``directory``."""
    text = (ROOT / "development.ini").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^sqlalchemy\.url = .*$",
                  f"sqlalchemy.url = sqlite:///{directory / 'taskdesk.sqlite'}", text)
    text = re.sub(r"(?m)^script_location = .*$", f"script_location = {ROOT / 'alembic'}", text)
    ini = directory / "development.ini"
    ini.write_text(text, encoding="utf-8")
    return ini


def test_pserve_serves_development_ini_on_the_port_given_as_http_port(tmp_path: Path) -> None:
    ini = development_ini(tmp_path)
    taskdesk(ini, "migrate")
    port = free_port()
    with waitress(ini, port, tmp_path / "pserve.log", f"http_port={port}") as server:
        assert Client(port).get("/healthz").status == 200
        assert f"Serving on http://127.0.0.1:{port}" in server.output()


def test_make_run_hands_its_port_to_pserve() -> None:
    planned = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "-C", str(ROOT), "run", "PORT=8123"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()
    assert planned[-1] == ".venv/bin/pserve development.ini http_port=8123"
    assert ".venv/bin/taskdesk development.ini worker --workers 1 &" in "\n".join(planned)


def _group(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (read from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _default_sigint() -> None:
    # A terminal's foreground job gets SIGINT with its default action; a test runner's
    # children may have inherited "ignore".
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_make_run_starts_a_worker_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    """``make run``'s recipe (its install steps skipped with ``-o seed``): the server and a
    worker; Ctrl-C (SIGINT to the foreground process group) ends every process."""
    ini = development_ini(tmp_path)
    taskdesk(ini, "migrate")
    port = free_port()
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "-C", str(ROOT), "-o", "seed", "run",
             f"BIN={BIN}", f"INI={ini}", f"PORT={port}"],
            stdout=out, stderr=subprocess.STDOUT, env=server_env(ini),
            start_new_session=True, preexec_fn=_default_sigint,
        )
    try:
        wait_until(lambda: "worker started" in log.read_text(errors="replace")
                   and "Serving on" in log.read_text(errors="replace"), 60,
                   "the server and the worker started")
        assert Client(port).get("/healthz").status == 200
        assert len(_group(process.pid)) >= 4  # make, its shell, the worker, pserve
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
        wait_until(lambda: not _group(process.pid), 30, "no process of make run left")
        assert "worker stopped" in log.read_text(errors="replace")
    finally:
        if _group(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
