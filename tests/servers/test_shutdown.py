"""Stopping servers: Hypercorn drains requests in flight; a killed Waitress leaves no
half-written data.

A request that is honestly slow inside the application: the test holds SQLite's write lock
(``BEGIN IMMEDIATE`` on its own connection), so the app's sign-in, which writes, waits for the
lock within its busy timeout (5 s). While it waits, the server gets SIGTERM; then the test
releases the lock and the request must still complete.
"""

from __future__ import annotations

import random
import signal
import socket
import sqlite3
import threading
import time
from typing import Any

import pytest
from tests.servers.conftest import Site, make_site
from tests.servers.harness import PASSWORD, Client, Response

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


def test_hypercorn_drains_a_request_in_flight_on_sigterm(site: Site) -> None:
    with site.server("hypercorn") as server:
        client = Client(site.port)
        client.get("/login")
        lock = sqlite3.connect(site.database, isolation_level=None, timeout=10)
        try:
            lock.execute("BEGIN IMMEDIATE")
            thread, result = in_background(
                lambda: client.post_form("/login", {"username": "alice", "password": PASSWORD})
            )
            time.sleep(1.0)
            assert thread.is_alive(), result  # waiting for the database inside the app
            server.signal(signal.SIGTERM)
            time.sleep(1.0)
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


def failed_sign_in(port: int, number: int) -> Response:
    client = Client(port)
    client.get("/login")
    return client.post_form("/login", {"username": f"nobody{number}", "password": "wrong"})


def test_killing_waitress_mid_write_leaves_no_half_written_data(tmp_path: Any) -> None:
    """Every failed sign-in writes two rows in one transaction (one keyed by account, one by
    address). Several clients keep writing while the server is SIGKILLed at a random moment:
    afterwards every account row has its address row, every acknowledged write is there, and
    the database file is intact."""
    site: Site = make_site(tmp_path, {"taskdesk.login.address_limit": "100000"})
    acknowledged: list[int] = []
    attempted: list[int] = []
    stop = threading.Event()
    counter = iter(range(1_000_000))
    guard = threading.Lock()

    def writer() -> None:
        while not stop.is_set():
            with guard:
                number = next(counter)
                attempted.append(number)
            try:
                response = failed_sign_in(site.port, number)
            except OSError:
                return
            if response.status == 200:
                with guard:
                    acknowledged.append(number)

    with site.server("waitress") as server:
        threads = [threading.Thread(target=writer, daemon=True) for _ in range(6)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 25 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(random.uniform(0, 0.2))
        server.signal(signal.SIGKILL)
        assert server.wait(5) == -signal.SIGKILL
        stop.set()
        for thread in threads:
            thread.join(10)
    assert len(acknowledged) >= 25

    with sqlite3.connect(site.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        accounts = {k.removeprefix("account:nobody") for (k,) in db.execute(
            "SELECT key FROM login_failures WHERE key LIKE 'account:%'")}
        addresses = db.execute(
            "SELECT count(*) FROM login_failures WHERE key LIKE 'address:%'").fetchone()[0]
    assert len(accounts) == addresses  # both rows of a sign-in, or neither
    assert {str(n) for n in acknowledged} <= accounts  # acknowledged means stored
    assert accounts <= {str(n) for n in attempted}
