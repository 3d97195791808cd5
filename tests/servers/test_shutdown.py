"""Stopping servers: Hypercorn drains requests in flight; a killed Waitress leaves no
half-written data.

A request that is honestly slow inside the application: the test holds SQLite's write lock
(``BEGIN IMMEDIATE`` on its own connection), so the app's sign-in, which writes, waits for the
lock within its busy timeout (raised to 20 s for the Hypercorn test). While it waits, the
server gets SIGTERM; then the test releases the lock and the request must still complete.
"""

from __future__ import annotations

import http.client
import json
import random
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import PASSWORD, Client, Response, Site, make_site

pytestmark = pytest.mark.slow


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


def test_hypercorn_drains_a_request_in_flight_on_sigterm(tmp_path: Path) -> None:
    # A long busy timeout, so the request surely still waits when the lock is released.
    site = make_site(tmp_path, {"taskdesk.sqlite.busy_timeout": "20000"})
    with site.server("hypercorn") as server:
        client = Client(site.port)
        client.get("/login")
        lock = sqlite3.connect(site.database, isolation_level=None, timeout=10)
        try:
            lock.execute("BEGIN IMMEDIATE")
            thread, result = in_background(
                lambda: client.post_form("/login", {"username": "alice", "password": PASSWORD})
            )
            time.sleep(2.0)
            assert thread.is_alive(), result  # waiting for the database inside the app
            server.signal(signal.SIGTERM)
            time.sleep(1.5)
            assert server.process is not None
            assert server.process.poll() is None, "Hypercorn exited with a request in flight"
            with pytest.raises(ConnectionRefusedError):  # no new connections while draining
                socket.create_connection(("127.0.0.1", site.port), timeout=2).close()
        finally:
            lock.execute("COMMIT")
            lock.close()
        thread.join(10)
        response: Response = result["response"]
        assert response.status == 303, response.text[:300]
        assert server.wait(15) == 0


def test_waitress_has_no_drain(site: Site) -> None:
    """Documented behaviour: SIGTERM ends Waitress at once, the request in flight is lost
    (and rolled back), which is why production runs it under a process manager."""
    with site.server("waitress") as server:
        client = Client(site.port)
        client.get("/login")
        lock = sqlite3.connect(site.database, isolation_level=None, timeout=10)
        try:
            lock.execute("BEGIN IMMEDIATE")
            thread, result = in_background(
                lambda: client.post_form("/login", {"username": "alice", "password": PASSWORD})
            )
            time.sleep(1.0)
            server.signal(signal.SIGTERM)
            assert server.wait(5) == -signal.SIGTERM
        finally:
            lock.execute("COMMIT")
            lock.close()
        thread.join(10)
        assert "error" in result  # the connection was cut, no answer
    with sqlite3.connect(site.database) as db:
        assert db.execute("SELECT count(*) FROM auth_sessions").fetchone() == (0,)


def test_killing_waitress_mid_write_leaves_no_half_written_data(site: Site) -> None:
    """Six API clients create tasks (each: a task row, the project's number counter, two
    label rows, a search row, an activity entry) while Waitress is SIGKILLed at a random
    moment. Afterwards the numbers are exactly 1..counter, every task has all its rows,
    every acknowledged (201) task is there, and the database file is intact."""
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
