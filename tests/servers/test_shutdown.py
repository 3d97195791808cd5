"""Stopping servers: both drain on SIGTERM (readiness 503 while the port still accepts, then
requests in flight finish, then exit 0 at once); a killed Waitress leaves no half-written data;
a worker stopped as it starts exits cleanly.

A request that is honestly slow inside the application: the test holds SQLite's write lock
(``BEGIN IMMEDIATE`` on its own connection), so the app's sign-in, which writes, waits for the
lock within its busy timeout (raised to 20 s). While it waits, the server gets SIGTERM; then
the test releases the lock and the request must still complete.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import (
    BIN,
    PASSWORD,
    Client,
    Response,
    ServerProcess,
    Site,
    hypercorn_config,
    make_site,
    raw_connection,
    server_env,
)

pytestmark = pytest.mark.slow

DRAIN = 2.0


def in_background(work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["response"] = work()
        except Exception as error:
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def draining_server(tmp_path: Path, kind: str) -> tuple[Site, ServerProcess]:
    """A site whose server drains for 2 s and waits for requests up to 15 s."""
    site = make_site(tmp_path, {"taskdesk.sqlite.busy_timeout": "20000"},
                     {"drain_seconds": str(DRAIN), "graceful_timeout": "15"})
    settings = {"config": hypercorn_config(tmp_path, drain_seconds=DRAIN,
                                           graceful_timeout=15)} if kind == "hypercorn" else {}
    return site, site.server(kind, **settings)


def test_sigterm_drains_then_exits_when_requests_in_flight_are_done(
        tmp_path: Path, server_kind: str) -> None:
    site, process = draining_server(tmp_path, server_kind)
    with process as server:
        client = Client(site.port)
        client.get("/login")
        keep_alive = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
        keep_alive.request("GET", "/healthz")
        assert keep_alive.getresponse().read()
        lock = sqlite3.connect(site.database, isolation_level=None, timeout=10)
        try:
            lock.execute("BEGIN IMMEDIATE")
            thread, result = in_background(
                lambda: client.post_form("/login", {"username": "alice", "password": PASSWORD})
            )
            time.sleep(1.0)
            assert thread.is_alive(), result  # waiting for the database inside the app
            server.signal(signal.SIGTERM)
            signalled = time.monotonic()
            time.sleep(0.5)

            # Draining: still accepting, but not ready, and every answer closes its connection.
            ready = Client(site.port).get("/readyz")
            assert ready.status == 503
            assert ready.header("Retry-After")
            assert json.loads(ready.body)["status"] == "draining"
            keep_alive.request("GET", "/healthz")
            last = keep_alive.getresponse()
            assert last.status == 200
            assert last.getheader("Connection", "").lower() == "close"
            last.read()

            time.sleep(max(0.0, signalled + DRAIN + 1.0 - time.monotonic()))
            assert server.process is not None
            assert server.process.poll() is None, "exited with a request in flight"
            with pytest.raises(ConnectionRefusedError):  # the port is closed now
                socket.create_connection(("127.0.0.1", site.port), timeout=2).close()
        finally:
            lock.execute("COMMIT")
            lock.close()
        released = time.monotonic()
        thread.join(10)
        response: Response = result["response"]
        assert response.status == 303, response.text[:300]
        assert server.wait(15) == 0
        assert time.monotonic() - released < 3  # not graceful_timeout (15 s)
    log = server.output()
    assert "Traceback" not in log
    assert "CancelledError" not in log


def test_a_half_sent_request_does_not_hold_up_shutdown(tmp_path: Path, server_kind: str) -> None:
    """A client that sent a request head and part of its body, then stalls: after the drain
    the server closes it (Hypercorn answers 503) instead of waiting graceful_timeout."""
    site, process = draining_server(tmp_path, server_kind)
    with process as server, raw_connection(site.port, timeout=20) as sock:
        sock.sendall(b"POST /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.5)
        server.signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert server.wait(15) == 0
        assert time.monotonic() - signalled < DRAIN + 3
        answer = sock.recv(4096)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 503 ")
    log = server.output()
    assert "Traceback" not in log
    assert not re.search(r"request_id=(?!-)\S+ .*path=/api/v1/me ", log)  # no view ran


def test_killing_waitress_mid_write_leaves_no_half_written_data(tmp_path: Path) -> None:
    """Six API clients create tasks (each: a task row, the project's number counter, two
    label rows, a search row, an activity entry) while Waitress is SIGKILLed at a random
    moment. Afterwards the numbers are exactly 1..counter, every task has all its rows,
    every acknowledged (201) task is there, and the database file is intact."""
    site = make_site(tmp_path)
    acknowledged: list[int] = []
    stop = threading.Event()
    guard = threading.Lock()

    def writer(token: str) -> None:
        client = Client(site.port, token=token)
        while not stop.is_set():
            try:
                response = client.api("POST", "/api/v1/projects/kill/tasks",
                                      {"title": "Written while dying", "labels": ["a", "b"]})
            except (OSError, http.client.HTTPException):
                return  # the server died mid-answer: that answer was not acknowledged
            if response.status == 201:
                with guard:
                    acknowledged.append(int(json.loads(response.body)["number"]))

    with site.server("waitress") as server:
        owner = Client(site.port)
        assert owner.login("alice").status == 303
        token = owner.create_token()
        project = owner.api("POST", "/api/v1/projects", {"slug": "kill", "name": "Kill"})
        assert project.status == 201
        threads = [threading.Thread(target=writer, args=(token,), daemon=True)
                   for _ in range(6)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 30 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(random.uniform(0, 0.2))
        server.signal(signal.SIGKILL)
        assert server.wait(5) == -signal.SIGKILL
        stop.set()
        for thread in threads:
            thread.join(10)
    assert len(acknowledged) >= 30

    with sqlite3.connect(site.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        project_id, counter = db.execute(
            "SELECT id, task_counter FROM projects WHERE slug = 'kill'").fetchone()
        numbers = [n for (n,) in db.execute(
            "SELECT number FROM tasks WHERE project_id = ? ORDER BY number", (project_id,))]
        incomplete = db.execute(
            """SELECT count(*) FROM tasks t WHERE t.project_id = ? AND (
                 (SELECT count(*) FROM task_labels l WHERE l.task_id = t.id) != 2
                 OR NOT EXISTS (SELECT 1 FROM task_search s WHERE s.task_id = t.id)
                 OR (SELECT count(*) FROM activity a
                     WHERE a.task_id = t.id AND a.action = 'task.created') != 1)""",
            (project_id,)).fetchone()[0]
    assert numbers == list(range(1, counter + 1))
    assert incomplete == 0
    assert set(acknowledged) <= set(numbers)
    assert counter >= len(acknowledged)


def test_a_worker_stopped_the_moment_it_says_it_started_exits_cleanly(tmp_path: Path) -> None:
    """A process manager may stop a worker at any moment of its start-up. SIGTERM the
    instant "worker started" is written (Huey's consumer used to set its signal handlers
    only after starting its threads: the signal then killed the process, status -15)."""
    site = make_site(tmp_path)
    worker = subprocess.Popen(
        [str(BIN / "taskdesk"), str(site.ini), "worker", "--workers", "1"], cwd=tmp_path,
        env=server_env(site.ini), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert worker.stdout is not None
        seen = []
        for line in worker.stdout:
            seen.append(line)
            if "worker started" in line:
                worker.send_signal(signal.SIGTERM)
                break
        output = "".join(seen) + worker.communicate(timeout=60)[0]
        assert worker.returncode == 0, output
        assert "worker stopped" in output
    finally:
        worker.kill()
