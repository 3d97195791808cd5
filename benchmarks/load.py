"""Load benchmark: requests/s and p50/p99 latency per endpoint on loopback, plus the floor.

    .venv/bin/python -m benchmarks.load --tasks 1000 --server waitress --backend sqlite

One run: a fresh database (SQLite file, or a new PostgreSQL database dropped afterwards)
built from production.ini's settings, migrated, filled with ``taskdesk INI generate-data``;
one server process pinned to CPU 0 and this load generator on CPU 1 (when there are two);
a fixed number of keep-alive connections, each sending its next request as soon as the last
one is answered; per endpoint a warm-up, then a timed window. ``--processes N`` starts N
server processes on N ports (process k pinned to CPU k modulo the cores) and spreads the
connections over them in turn, as a load balancer would: the scale-out figures. The bare-WSGI floor
(benchmarks/floor.py) serves the same JSON list under the same server, measured A B A B
with our list, and our figure is printed as a ratio of it. ``--soak N`` afterwards sends N
mixed read requests and samples the server's RSS. ``--compare-tasks N`` serves a second
database of N tasks beside the first and measures each endpoint on the two sizes A B A B:
the p99 at 1,000,000 tasks against 1,000, within one run.

Results are printed and appended as a Markdown table to ``--out``.
"""

from __future__ import annotations

import argparse
import configparser
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "benchmark-session-secret-" + "b" * 32
BENCH_USER, BENCH_PASSWORD = "bench0001", "benchmark-password"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Endpoint:
    """One benchmarked request; ``{slug}`` and ``{number}`` are filled from the data set."""

    method: str
    path: str
    auth: str  # "token" (API, bearer) or "cookie" (web, signed-in session)
    status: int = 200
    body: str | None = None


GRAPHQL_NESTED = json.dumps({"query": """{ tasks(state: ["open"], first: 50) {
    items { number title labels allowed
            assignee { username displayName } reporter { username displayName }
            project { slug name allowed }
            comments(first: 3, newestFirst: true) { items { body author { username } } } }
    nextCursor } }"""})

ENDPOINTS: dict[str, Endpoint] = {
    "json_list": Endpoint("GET", "/api/v1/projects/{slug}/tasks?state=open&limit=50", "token"),
    "json_detail": Endpoint("GET", "/api/v1/projects/{slug}/tasks/{number}", "token"),
    "json_create": Endpoint("POST", "/api/v1/projects/{slug}/tasks", "token", 201,
                            '{"title": "Benchmark task", "labels": ["bench"]}'),
    # GraphQL: 50 open tasks of the caller's projects with their project, people, labels and
    # last three comments, in one round trip (6 SQL statements whatever the page holds, as
    # tests/functional/graphql/test_statements.py asserts for the same shape).
    "graphql_nested": Endpoint("POST", "/api/graphql", "token", 200, GRAPHQL_NESTED),
    "html_list": Endpoint("GET", "/projects/{slug}/?state=open", "cookie"),
    "html_task": Endpoint("GET", "/projects/{slug}/tasks/{number}", "cookie"),
    "html_board": Endpoint("GET", "/projects/{slug}/board", "cookie"),
}
#: The endpoints measured against the fair floor (benchmarks/floor.py).
FLOORED = ("json_list", "json_detail", "json_create")
SOAK_MIX = ("json_list", "json_detail", "html_task", "html_list", "json_detail", "json_detail")


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float] = field(repr=False)
    rss_mb: float
    #: Unexpected answers by status (0: connection error).
    failures: dict[int, int] = field(default_factory=dict)
    #: CPU seconds the server processes used in the window (user + system, all threads).
    cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Steadier than req/s on a shared machine: other processes take wall time from
        the server, not CPU time per request."""
        return self.cpu_seconds * 1000 / self.requests if self.requests else 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (every thread), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def pin(pid: int, cpu: int) -> None:
    """Pin every thread of ``pid`` and of its child processes (Hypercorn's workers) to
    ``cpu``: affinity is per thread, and a server's threads exist before it is pinned, so
    pinning the pid alone leaves them free to run on the load generator's core."""
    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        return
    for thread in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(thread), {cpu})
        children = Path(f"/proc/{pid}/task/{thread}/children").read_text().split()
        for child in children:
            pin(int(child), cpu)


@contextmanager
def database(backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'bench.sqlite'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"taskdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(os.environ.get("TASKDESK_BENCH_POSTGRES_URL", POSTGRES_ADMIN),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_ini(directory: Path, url: str, port: int, threads: int,
              name: str = "bench.ini") -> Path:
    """production.ini with the benchmark database, port and thread count."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "production.ini", encoding="utf-8")
    parser["app:main"]["sqlalchemy.url"] = url
    parser["alembic"]["script_location"] = str(ROOT / "alembic")
    parser["server:main"]["listen"] = f"127.0.0.1:{port}"
    parser["server:main"]["threads"] = str(threads)
    path = directory / name
    (directory / "var").mkdir(exist_ok=True)  # production.ini's queue file lives there
    with path.open("w") as handle:
        parser.write(handle)
    return path


def environment(ini: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "TASKDESK_SESSION_SECRET": SECRET, "TASKDESK_INI": str(ini),
            "PYTHONWARNINGS": "ignore", "PYTHONPATH": path, **extra}


def taskdesk(ini: Path, *args: str) -> None:
    subprocess.run([str(BIN / "taskdesk"), str(ini), *args], env=environment(ini), check=True,
                   stdout=subprocess.DEVNULL)


def server_command(server: str, app: str, port: int, threads: int, ini: Path) -> list[str]:
    if server == "waitress" and app == "taskdesk.wsgi:app":
        return [str(BIN / "pserve"), str(ini)]
    if server == "waitress":
        return [str(BIN / "waitress-serve"), "--listen", f"127.0.0.1:{port}",
                f"--threads={threads}", app]
    if app == "taskdesk.wsgi:app" and server == "hypercorn":  # as production: taskdesk.asgi
        return [str(BIN / "python"), "-m", "taskdesk.asgi", "--config",
                str(ROOT / "hypercorn.toml"), "--bind", f"127.0.0.1:{port}"]
    return [str(BIN / "hypercorn"), "--config", str(ROOT / "hypercorn.toml"),
            "--bind", f"127.0.0.1:{port}", f"wsgi:{app}"]


def floor_command(server: str, port: int, ini: Path) -> list[str]:
    """The floor under the same server and settings as the app (production.ini's
    [server:main] for Waitress, hypercorn.toml and the same WSGI bridge for Hypercorn)."""
    if server == "hypercorn-wsgi":
        return server_command(server, "benchmarks.floor:app", port, 1, ini)
    command = [str(BIN / "python"), "-m", "benchmarks.floor", "--ini", str(ini),
               "--server", server, "--bind", f"127.0.0.1:{port}"]
    if server == "hypercorn":
        command += ["--config", str(ROOT / "hypercorn.toml")]
    return command


def compare(port: int, floor_port: int, session: Session, name: str) -> list[str]:
    """Send the endpoint's request to the app and to the floor once; how the answers differ
    (``floor.differences``: nothing but the volatile parts may)."""
    from benchmarks.floor import differences

    endpoint = ENDPOINTS[name]
    path = endpoint.path.format(slug=session.slug, number=session.number)
    headers = session.headers(endpoint.auth)
    if endpoint.body is not None:
        headers["Content-Type"] = "application/json"
    answers = []
    for each in (port, floor_port):
        connection = http.client.HTTPConnection("127.0.0.1", each, timeout=30)
        # The same Host for both: the answers' URLs are built from it.
        connection.request(endpoint.method, path, body=endpoint.body,
                           headers={**headers, "Host": f"127.0.0.1:{port}"})
        response = connection.getresponse()
        answers.append((response.status, response.getheaders(), response.read()))
        connection.close()
    return differences(name, answers[0], answers[1])


@contextmanager
def serving(command: list[str], port: int, env: dict[str, str], log: Path,
            cpu: int = 0) -> Iterator[int]:
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=ROOT)
    try:
        wait_for_port(process, port, 60, f"server did not start; see {log}")
        pin(process.pid, cpu)
        yield process.pid
    finally:
        stop(process, signal.SIGTERM, 20)


def wait_for_port(process: subprocess.Popen[bytes], port: int, timeout: float,
                  failure: str) -> None:
    """Wait until 127.0.0.1:``port`` accepts; exit with ``failure`` if ``process`` ends or
    ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(failure) from None
            time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], signal_number: int, timeout: float) -> None:
    """Send ``signal_number``; kill the process if it has not ended within ``timeout`` s."""
    process.send_signal(signal_number)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Session:
    """Credentials and data-set facts, fetched once through the real app."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        csrf = self._csrf(self._call(connection, "GET", "/login", {}))
        form = urlencode({"username": BENCH_USER, "password": BENCH_PASSWORD,
                          "csrf_token": csrf})
        self._call(connection, "POST", "/login",
                   {"Content-Type": "application/x-www-form-urlencoded"}, form)
        csrf = self._csrf(self._call(connection, "GET", "/", {}))
        created = json.loads(self._call(
            connection, "POST", "/api/v1/me/tokens",
            {"Content-Type": "application/json", "X-CSRF-Token": csrf},
            '{"name": "benchmark", "scope": "write"}'))
        self.token = created["secret"]
        projects = json.loads(self._call(connection, "GET", "/api/v1/projects?limit=100",
                                         self.headers("token")))["items"]
        # The user's largest project they may add tasks to (its newest task's number is its
        # size: generate-data numbers from 1 and deletes nothing), so that the board's
        # columns and the list's pages are as full at 1,000 tasks as at 1,000,000.
        newest: dict[str, int] = {}
        for project in projects:
            if "create_task" in project["allowed"]:
                tasks = json.loads(self._call(
                    connection, "GET", f"/api/v1/projects/{project['slug']}/tasks?limit=1",
                    self.headers("token")))["items"]
                if tasks:
                    newest[project["slug"]] = tasks[0]["number"]
        if not newest:
            raise SystemExit(f"{BENCH_USER} may add tasks to no project with tasks")
        self.slug = max(newest, key=newest.__getitem__)
        self.number = newest[self.slug]
        self.project = f"project {self.slug} ({self.number:,} tasks)"
        connection.close()

    @staticmethod
    def _csrf(page: str) -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if match is None:
            raise SystemExit("no CSRF token on the page")
        return match.group(1)

    def _call(self, connection: http.client.HTTPConnection, method: str, path: str,
              headers: dict[str, str], body: str | None = None) -> str:
        sent = dict(headers)
        if self.cookie:
            sent["Cookie"] = self.cookie
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        text = response.read().decode()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        if response.status >= 400:
            raise SystemExit(f"{method} {path}: {response.status} {text[:300]}")
        return text

    def headers(self, auth: str) -> dict[str, str]:
        if auth == "token":
            return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        return {"Cookie": self.cookie}


def load(port: int | list[int], pid: int | list[int], session: Session, name: str,
         endpoint: Endpoint, concurrency: int, seconds: float, warmup: float) -> Result:
    """``port`` and ``pid`` may list several server processes: connection i goes to port
    i modulo their number, and the RSS reported is their sum."""
    ports = port if isinstance(port, list) else [port]
    pids = pid if isinstance(pid, list) else [pid]
    path = endpoint.path.format(slug=session.slug, number=session.number)
    headers = session.headers(endpoint.auth)
    if endpoint.body is not None:
        headers["Content-Type"] = "application/json"
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0}
    failures: dict[int, int] = {}
    lock = threading.Lock()
    phase = {"measure": False, "stop": False}

    def client(port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        requests = errors = 0
        statuses: dict[int, int] = {}
        while not phase["stop"]:
            started = time.perf_counter()
            try:
                connection.request(endpoint.method, path, body=endpoint.body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            if phase["measure"] and not phase["stop"]:
                mine.append(time.perf_counter() - started)
                requests += 1
                if status != endpoint.status:
                    errors += 1
                    statuses[status] = statuses.get(status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            counts["requests"] += requests
            counts["errors"] += errors
            for status, number in statuses.items():
                failures[status] = failures.get(status, 0) + number

    threads = [threading.Thread(target=client, args=(ports[i % len(ports)],))
               for i in range(concurrency)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    phase["measure"] = True
    started = time.perf_counter()
    cpu_before = sum(cpu_seconds(p) for p in pids)
    time.sleep(seconds)
    phase["stop"] = True
    elapsed = time.perf_counter() - started
    cpu_used = sum(cpu_seconds(p) for p in pids) - cpu_before
    for thread in threads:
        thread.join()
    return Result(name, counts["requests"], counts["errors"], elapsed, latencies,
                  sum(rss_mb(p) for p in pids), failures, cpu_used)


def soak(port: int, pid: int, session: Session, total: int,
         concurrency: int) -> list[tuple[int, float]]:
    """Send ``total`` mixed read requests on ``concurrency`` keep-alive connections; the
    server's RSS (MB) after every tenth of them."""
    requests = [(ENDPOINTS[name].path.format(slug=session.slug, number=session.number),
                 session.headers(ENDPOINTS[name].auth)) for name in SOAK_MIX]
    lock = threading.Lock()
    sent = [0]

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        index = 0
        while True:
            with lock:
                if sent[0] >= total:
                    break
                sent[0] += 1
            path, headers = requests[index % len(requests)]
            index += 1
            connection.request("GET", path, headers=headers)
            connection.getresponse().read()
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    samples = [(0, rss_mb(pid))]
    step = max(1, total // 10)
    while any(thread.is_alive() for thread in threads):
        time.sleep(0.2)
        if sent[0] >= samples[-1][0] + step:
            samples.append((sent[0], rss_mb(pid)))
    samples.append((sent[0], rss_mb(pid)))
    return samples


def table(results: list[Result]) -> list[str]:
    lines = ["| endpoint | req/s | p50 ms | p99 ms | errors | server RSS MB | server CPU ms/req |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        statuses = ", ".join(f"{n}x {s or 'conn'}" for s, n in sorted(r.failures.items()))
        errors = f"{r.errors} ({statuses})" if r.errors else "0"
        lines.append(f"| {r.name} | {r.rate:.0f} | {r.percentile(0.5):.1f} | "
                     f"{r.percentile(0.99):.1f} | {errors} | {r.rss_mb:.0f} | "
                     f"{r.cpu_ms_per_request:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--server", choices=("waitress", "hypercorn", "hypercorn-wsgi"),
                        default="waitress",
                        help="hypercorn-wsgi: Hypercorn's own WSGI adapter instead of "
                             "taskdesk.asgi, to compare the two")
    parser.add_argument("--threads", type=int, default=4, help="Waitress threads")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--processes", type=int, default=1,
                        help="server processes on as many ports (the floor is left out)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS),
                        help="comma-separated names from: " + ", ".join(ENDPOINTS))
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--compare-tasks", type=int, default=0, metavar="N",
                        help="also serve a database of N tasks and measure every endpoint "
                             "A B A B on the two sizes (no floor): the p99 ratio of N to "
                             "--tasks")
    parser.add_argument("--soak", type=int, default=0, help="mixed read requests for RSS")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/results.md")
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder")
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})

    with tempfile.TemporaryDirectory(prefix="taskdesk-bench-") as tmp:
        directory = Path(tmp)
        logs = args.logs or directory
        logs.mkdir(parents=True, exist_ok=True)
        if args.compare_tasks:
            compare_sizes(args, directory, logs)
            return
        with database(args.backend, directory) as url:
            port = free_port()
            ini = write_ini(directory, url, port, args.threads)
            fill(ini, args.tasks)
            app_cmd = server_command(args.server, "taskdesk.wsgi:app", port, args.threads, ini)
            if args.processes > 1:
                report(args, scale_out(args, directory, url, ini, port, logs), [])
                return
            floor_port = free_port()
            floor_cmd = floor_command(args.server, floor_port, ini)
            floor_env = environment(ini, FLOOR_DATABASE_URL=url)
            results: list[Result] = []
            refusals: dict[str, list[str]] = {}
            soaked: list[tuple[int, float]] = []
            with ExitStack() as stack:
                pid = stack.enter_context(serving(app_cmd, port, environment(ini),
                                                  logs / "app.log"))
                floor_pid = None
                if not args.no_floor:
                    floor_pid = stack.enter_context(serving(floor_cmd, floor_port, floor_env,
                                                            logs / "floor.log"))
                session = Session(port)
                for name in args.endpoints.split(","):
                    endpoint = ENDPOINTS[name]
                    if floor_pid is None or name not in FLOORED:
                        result = load(port, pid, session, name, endpoint, args.concurrency,
                                      args.seconds, args.warmup)
                        results.append(result)
                        print("\n".join(table([result])[2:]), flush=True)
                        continue
                    found = compare(port, floor_port, session, name)
                    if found:
                        refusals[name] = found
                        print(f"{name}: the floor answers differently, no ratio:\n  "
                              + "\n  ".join(found), flush=True)
                    # A B A B: ours, the floor, ours again, the floor again.
                    for round_ in (1, 2):
                        for label, port_, pid_ in ((name, port, pid),
                                                   (f"floor {name}", floor_port, floor_pid)):
                            result = load(port_, pid_, session, f"{label} #{round_}",
                                          endpoint, args.concurrency, args.seconds,
                                          args.warmup)
                            results.append(result)
                            print("\n".join(table([result])[2:]), flush=True)
                if args.soak:
                    soaked = soak(port, pid, session, args.soak, args.concurrency)

    report(args, results, soaked, refusals, session.project)


def fill(ini: Path, tasks: int) -> None:
    """Migrate the INI's database and add ``tasks`` generated tasks."""
    started = time.perf_counter()
    taskdesk(ini, "migrate")
    taskdesk(ini, "generate-data", "--tasks", str(tasks), "--quiet",
             "--i-know-this-is-production")  # a throwaway database
    print(f"data: {tasks:,} tasks in {time.perf_counter() - started:.0f} s", flush=True)


def compare_sizes(args: argparse.Namespace, directory: Path, logs: Path) -> None:
    """Two databases (``--tasks`` and ``--compare-tasks``), a server on each, and every
    endpoint measured A B A B on the two: p99 at two sizes compared within one run, where
    separate runs moved by 2x on this machine. Only one server is loaded at a time; both
    are pinned to the same core."""
    sizes = (args.tasks, args.compare_tasks)
    results: list[Result] = []
    with ExitStack() as stack:
        targets: list[tuple[int, int, Session]] = []
        for size in sizes:
            folder = directory / f"{size}-tasks"
            folder.mkdir()
            url = stack.enter_context(database(args.backend, folder))
            port = free_port()
            ini = write_ini(folder, url, port, args.threads)
            fill(ini, size)
            pid = stack.enter_context(serving(
                server_command(args.server, "taskdesk.wsgi:app", port, args.threads, ini),
                port, environment(ini), logs / f"app-{size}.log"))
            targets.append((port, pid, Session(port)))
        for name in args.endpoints.split(","):
            for round_ in (1, 2):
                for size, (port, pid, session) in zip(sizes, targets, strict=True):
                    result = load(port, pid, session, f"{name} {size:,} #{round_}",
                                  ENDPOINTS[name], args.concurrency, args.seconds,
                                  args.warmup)
                    results.append(result)
                    print("\n".join(table([result])[2:]), flush=True)
        projects = " and ".join(f"{session.project} at {size:,}"
                                for size, (_, _, session) in zip(sizes, targets, strict=True))
    lines = [f"### {args.server}, {args.backend}, {sizes[1]:,} against {sizes[0]:,} tasks, "
             f"A B A B, {args.concurrency} connections, {args.seconds:.0f} s per window "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"Measured on {projects}.", "", *table(results), "",
             f"| endpoint | p99 ms at {sizes[0]:,} | p99 ms at {sizes[1]:,} | p99 ratio | "
             f"req/s at {sizes[0]:,} | req/s at {sizes[1]:,} |", "|---|---:|---:|---:|---:|---:|"]
    for name in args.endpoints.split(","):
        small, large = ([r for r in results if r.name.startswith(f"{name} {size:,} #")]
                        for size in sizes)
        p99 = [statistics.mean(r.percentile(0.99) for r in each) for each in (small, large)]
        rate = [statistics.mean(r.rate for r in each) for each in (small, large)]
        lines.append(f"| {name} | {p99[0]:.1f} | {p99[1]:.1f} | **{p99[1] / p99[0]:.2f}** | "
                     f"{rate[0]:.0f} | {rate[1]:.0f} |")
    write_report(args.out, lines)


def scale_out(args: argparse.Namespace, directory: Path, url: str, ini: Path, port: int,
              logs: Path) -> list[Result]:
    """``args.processes`` server processes on the same database, on ports of their own
    (each with an INI naming its port, for pserve): every endpoint against all of them."""
    ports = [port] + [free_port() for _ in range(args.processes - 1)]
    cores = os.cpu_count() or 1
    results: list[Result] = []
    with ExitStack() as stack:
        pids = []
        for index, each in enumerate(ports):
            each_ini = ini if index == 0 else write_ini(
                directory, url, each, args.threads, f"bench{index}.ini")
            command = server_command(args.server, "taskdesk.wsgi:app", each, args.threads,
                                     each_ini)
            pids.append(stack.enter_context(serving(
                command, each, environment(each_ini), logs / f"app{index}.log",
                cpu=index % cores)))
        session = Session(ports[0])
        for name in args.endpoints.split(","):
            result = load(ports, pids, session, name, ENDPOINTS[name], args.concurrency,
                          args.seconds, args.warmup)
            results.append(result)
            print("\n".join(table([result])[2:]), flush=True)
    return results


def report(args: argparse.Namespace, results: list[Result],
           soaked: list[tuple[int, float]], refusals: dict[str, list[str]] | None = None,
           project: str = "") -> None:
    processes = f"{args.processes} processes, " if args.processes > 1 else ""
    lines = [f"### {args.server}, {processes}{args.backend}, {args.tasks:,} tasks, "
             f"{args.concurrency} connections, {args.seconds:.0f} s per endpoint "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             *([f"Measured on {project}.", ""] if project else []), *table(results)]
    for name in FLOORED:
        ours = [r for r in results if r.name.startswith(f"{name} #")]
        floors = [r for r in results if r.name.startswith(f"floor {name} #")]
        if not ours or not floors:
            continue
        if refusals and name in refusals:
            lines += ["", f"{name} / floor: **no ratio**, the answers differ: "
                      + "; ".join(refusals[name])]
            continue
        rate = statistics.mean(r.rate for r in ours) / statistics.mean(r.rate for r in floors)
        cpu = (statistics.mean(r.cpu_ms_per_request for r in floors)
               / statistics.mean(r.cpu_ms_per_request for r in ours))
        lines += ["", f"{name} / floor (means of A B A B): **{rate:.2f}** by req/s, "
                  f"**{cpu:.2f}** by server CPU per request"]
    if soaked:
        trail = ", ".join(f"{n:,}: {mb:.0f}" for n, mb in soaked)
        lines += ["", f"RSS MB after N mixed read requests: {trail}"]
    write_report(args.out, lines)


def write_report(out: Path, lines: list[str]) -> None:
    """Print the report and append it to ``out``."""
    report = "\n".join(lines) + "\n"
    print(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as handle:
        handle.write(report + "\n")


if __name__ == "__main__":
    main()
