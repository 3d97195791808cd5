"""Slow clients next to legitimate traffic: latency and errors of normal requests while
hundreds of connections trickle their request heads and bodies.

    .venv/bin/python -m benchmarks.slow_clients --setup waitress --slow 200,1000
    .venv/bin/python -m benchmarks.slow_clients --setup hypercorn --slow 200,1000
    .venv/bin/python -m benchmarks.slow_clients --setup waitress-stock   # before the fixes

One run per set-up: a fresh SQLite database with production.ini's settings (as
benchmarks.load builds it, 200 tasks), one server pinned to CPU 0. Legitimate traffic:
``--clients`` threads, each opening a NEW connection per request (a connection limit hits
exactly those) for the JSON task detail with an API token, ``--pause`` seconds apart.
Phases: a baseline without slow clients, then for each count in ``--slow`` that many slow
connections opened by a separate process (CPU 1): half send a request head one header line
every ``--interval`` seconds and never finish it, half send a complete head announcing a
1 MB body and then one body byte every ``--interval`` seconds. A slow connection the server
closes is opened again at once (an attacker keeps trying), so the count stays up. Each phase
measures ``--seconds`` (default 40: longer than the 30 s request deadlines, so their effect is
inside the window) after the slow connections are open.

Set-ups: ``waitress`` and ``hypercorn`` as production.ini / hypercorn.toml configure them
(taskdesk.waitress_server, taskdesk.asgi); ``waitress-stock`` and ``hypercorn-stock`` as
before those (Waitress's own runner with connection_limit 200, Hypercorn's WSGI adapter).
Reported per phase: requests, errors (by kind), p50/p95/p99 latency, p95 / baseline p95,
server CPU seconds, and how often the server closed a slow connection.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.load import (
    BIN,
    ROOT,
    Session,
    database,
    environment,
    free_port,
    pin,
    serving,
    stop,
    taskdesk,
    wait_for_port,
    write_ini,
)

SETUPS = ("waitress", "hypercorn", "waitress-nginx", "waitress-stock", "hypercorn-stock")

#: The reverse proxy the README recommends in front of Waitress facing many clients: nginx
#: holds slow connections (epoll, a few hundred bytes each), cuts them off by its header and
#: body deadlines, and hands Waitress complete requests over a few keep-alive connections.
#: (The README adds a per-address connection cap, limit_conn, left out here because every
#: benchmark client comes from 127.0.0.1.)
NGINX = """
worker_processes 1;
daemon off;
user root;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_header_timeout 10s;
    client_body_timeout 10s;
    send_timeout 30s;
    keepalive_timeout 5s;
    client_max_body_size 1280k;
    upstream taskdesk {{
        server 127.0.0.1:{upstream};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://taskdesk;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_request_buffering on;
        }}
    }}
}}
"""


@contextmanager
def nginx_front(folder: Path, port: int, upstream: int) -> Iterator[int]:
    """nginx on ``port`` proxying to ``upstream``; its pid. Needs Debian's nginx."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("waitress-nginx needs nginx (apt-get install nginx-light)")
    config = folder / "nginx.conf"
    config.write_text(NGINX.format(folder=folder, port=port, upstream=upstream), "utf-8")
    process = subprocess.Popen([binary, "-c", str(config), "-p", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(process, port, 10, "nginx did not start")
        pin(process.pid, 0)
        yield process.pid
    finally:
        stop(process, signal.SIGQUIT, 10)


def command(setup: str, ini: Path, port: int) -> list[str]:
    if setup in ("waitress", "waitress-nginx"):
        return [str(BIN / "pserve"), str(ini)]
    if setup == "waitress-stock":
        return [str(BIN / "pserve"), str(ini)]  # the INI is rewritten below
    if setup == "hypercorn":
        return [str(BIN / "python"), "-m", "taskdesk.asgi", "--config",
                str(ROOT / "hypercorn.toml"), "--bind", f"127.0.0.1:{port}"]
    return [str(BIN / "hypercorn"), "--config", str(ROOT / "hypercorn.toml"),
            "--bind", f"127.0.0.1:{port}", "wsgi:taskdesk.wsgi:app"]


def stock_waitress(ini: Path) -> None:
    """The [server:main] of before: Waitress's own runner, connection_limit 200."""
    text = ini.read_text("utf-8")
    for own in ("request_timeout", "drain_seconds", "graceful_timeout"):
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith(f"{own} ="))
    text = text.replace("use = call:taskdesk.waitress_server:server_factory",
                        "use = egg:waitress#main")
    text = "\n".join("connection_limit = 200" if line.startswith("connection_limit =")
                     else line for line in text.splitlines())
    ini.write_text(text + "\n", "utf-8")


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and of its child processes (nginx's worker)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for thread in os.listdir(f"/proc/{pid}/task"):
        for child in Path(f"/proc/{pid}/task/{thread}/children").read_text().split():
            total += cpu_seconds(int(child))
    return total


# --- the slow clients (a separate process) ---------------------------------------------

def attack(port: int, count: int, interval: float) -> None:
    """Keep ``count`` slow connections open until SIGTERM; print counts as JSON."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    selector = selectors.DefaultSelector()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stats = {"opened": 0, "closed_by_server": 0, "answers": 0, "refused": 0}
    # per socket: (kind, bytes still to send, next send time)
    state: dict[socket.socket, list[object]] = {}

    def head_lines(kind: str) -> list[bytes]:
        if kind == "head":
            return [b"GET /healthz HTTP/1.1\r\n"] + [
                f"X-Slow-{n}: {'y' * 20}\r\n".encode() for n in range(10_000)]
        return [b"POST /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"] + \
            [b"x"] * 1_000_000

    def open_one(kind: str) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            stats["refused"] += 1
            sock.close()
            return
        stats["opened"] += 1
        state[sock] = [kind, head_lines(kind), time.monotonic()]
        selector.register(sock, selectors.EVENT_READ)

    def drop(sock: socket.socket) -> str:
        kind = str(state.pop(sock)[0])
        selector.unregister(sock)
        sock.close()
        return kind

    for number in range(count):
        open_one("head" if number % 2 else "body")
        if number % 50 == 49:
            time.sleep(0.05)  # do not flood the accept queue at once
    print(json.dumps({"ready": True}), flush=True)
    while not stop.is_set():
        for key, _ in selector.select(timeout=0.05):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if data:
                stats["answers"] += 1  # e.g. a 408; the close follows
                continue
            stats["closed_by_server"] += 1
            open_one(drop(sock))
        now = time.monotonic()
        for sock, entry in list(state.items()):
            _kind, pieces, due = entry
            assert isinstance(due, float)
            assert isinstance(pieces, list)
            if now < due or not pieces:
                continue
            try:
                sock.send(pieces.pop(0))
            except BlockingIOError:
                pass
            except OSError:
                stats["closed_by_server"] += 1
                open_one(drop(sock))
                continue
            entry[2] = now + interval
    print(json.dumps(stats), flush=True)


# --- legitimate traffic ----------------------------------------------------------------

def legitimate(port: int, session: Session, clients: int, pause: float,
               seconds: float) -> dict[str, object]:
    path = f"/api/v1/projects/{session.slug}/tasks/{session.number}"
    headers = session.headers("token")
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            outcome = "ok"
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    outcome = f"status {response.status}"
            except TimeoutError:
                outcome = "timeout (10 s)"
            except (OSError, http.client.HTTPException) as error:
                outcome = type(error).__name__
            finally:
                connection.close()
            elapsed = time.perf_counter() - started
            with lock:
                if outcome == "ok":
                    latencies.append(elapsed)
                else:
                    errors[outcome] = errors.get(outcome, 0) + 1
            time.sleep(pause)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()

    def percentile(share: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000

    return {"ok": len(latencies), "errors": errors, "p50": percentile(0.50),
            "p95": percentile(0.95), "p99": percentile(0.99),
            "mean": statistics.fmean(latencies) * 1000 if latencies else float("nan")}


def run(setup: str, slow_counts: list[int], seconds: float, clients: int, pause: float,
        interval: float) -> list[str]:
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="taskdesk-slow-") as folder, \
            database("sqlite", Path(folder)) as url:
        directory = Path(folder)
        port = free_port()
        ini = write_ini(directory, url, port, 4)
        if setup == "waitress-stock":
            stock_waitress(ini)
        taskdesk(ini, "migrate")
        taskdesk(ini, "generate-data", "--tasks", "200", "--i-know-this-is-production")
        env = environment(ini)
        with ExitStack() as stack:
            pid = stack.enter_context(serving(command(setup, ini, port), port, env,
                                              directory / "server.log"))
            front = 0
            if setup == "waitress-nginx":
                proxy_port = free_port()
                front = stack.enter_context(nginx_front(directory, proxy_port, port))
                port = proxy_port
            session = Session(port)
            legitimate(port, session, clients, pause, 3)  # warm-up
            phases: list[tuple[int, dict[str, object], float, dict[str, int]]] = []
            for slow in [0, *slow_counts]:
                attacker = None
                stats: dict[str, int] = {}
                if slow:
                    attacker = subprocess.Popen(
                        [sys.executable, "-m", "benchmarks.slow_clients", "--attack",
                         str(port), "--slow", str(slow), "--interval", str(interval)],
                        stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
                    assert attacker.stdout is not None
                    attacker.stdout.readline()  # ready
                    time.sleep(interval + 1)  # every slow connection has started
                cpu = cpu_seconds(pid) + (cpu_seconds(front) if front else 0)
                result = legitimate(port, session, clients, pause, seconds)
                cpu = cpu_seconds(pid) + (cpu_seconds(front) if front else 0) - cpu
                if attacker is not None:
                    attacker.send_signal(signal.SIGTERM)
                    out, _ = attacker.communicate(timeout=30)
                    stats = json.loads(out.strip().splitlines()[-1])
                    time.sleep(2)
                phases.append((slow, result, cpu, stats))
                print(setup, slow, result, round(cpu, 1), stats, flush=True)
    baseline = float(str(phases[0][1]["p95"]))
    for slow, result, cpu, stats in phases:
        errors = result["errors"]
        assert isinstance(errors, dict)
        error_text = ", ".join(f"{kind}: {n}" for kind, n in errors.items()) or "0"
        ratio = float(str(result["p95"])) / baseline
        rows.append(
            f"| {setup} | {slow} | {result['ok']} | {error_text} | {result['p50']:.1f} | "
            f"{result['p95']:.1f} | {result['p99']:.1f} | {ratio:.2f} | {cpu:.1f} | "
            f"{stats.get('closed_by_server', '-')} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", choices=SETUPS, action="append")
    parser.add_argument("--slow", default="200,1000", help="slow connection counts")
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--pause", type=float, default=0.05)
    parser.add_argument("--interval", type=float, default=2.0,
                        help="seconds between a slow client's bytes or lines")
    parser.add_argument("--attack", type=int, metavar="PORT", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    counts = [int(n) for n in arguments.slow.split(",") if n]
    if arguments.attack:
        attack(arguments.attack, counts[0], arguments.interval)
        return
    rows = ["| set-up | slow connections | requests ok | errors | p50 ms | p95 ms | p99 ms | "
            "p95 / baseline | server CPU s | slow conns closed by server |",
            "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for setup in arguments.setup or ["waitress", "hypercorn"]:
        rows += run(setup, counts, arguments.seconds, arguments.clients, arguments.pause,
                    arguments.interval)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
