"""A create that was committed but whose answer never reached the client (the server was
killed, or the client hung up) is not duplicated by the client's retry with the same
Idempotency-Key: the key lives in the database, across processes and restarts."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.servers import Client, Site, raw_connection

pytestmark = pytest.mark.slow

KEY = "0b8f3c1e-crash-retry"
BODY = {"title": "Exactly once"}


def signed_up(site: Site) -> Client:
    """alice with a write token and the project ``crash``."""
    client = Client(site.port)
    assert client.login("alice").status == 303
    client.create_token()
    created = client.api("POST", "/api/v1/projects", {"slug": "crash", "name": "Crash"})
    assert created.status == 201, created.text
    return client


def raw_post(token: str, key: str) -> bytes:
    body = json.dumps(BODY).encode()
    return (
        f"POST /api/v1/projects/crash/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database, timeout=10) as db:
        return db.execute(sql).fetchall()


def wait_for_commit(database: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not rows(database, "SELECT 1 FROM idempotency_keys WHERE status IS NOT NULL"):
        assert time.monotonic() < deadline, "the create was not committed"
        time.sleep(0.05)


def test_a_retry_after_the_server_was_killed_mid_answer_creates_nothing(site: Site) -> None:
    with site.server("waitress") as server:
        client = signed_up(site)
        with raw_connection(site.port) as sock:
            sock.sendall(raw_post(client.token, KEY))
            wait_for_commit(site.database)
            assert server.process is not None
            server.process.kill()  # before the client read a byte of the answer
            server.process.wait(10)
    with site.server("waitress"):
        retry = client.api("POST", "/api/v1/projects/crash/tasks", BODY,
                           **{"Idempotency-Key": KEY})
        assert retry.status == 201, retry.text
        assert retry.header("Idempotent-Replayed") == "true"
        assert json.loads(retry.body)["number"] == 1
        assert retry.header("Location").endswith("/api/v1/projects/crash/tasks/1")
        listed = client.api("GET", "/api/v1/projects/crash/tasks")
        assert [item["title"] for item in json.loads(listed.body)["items"]] == ["Exactly once"]
    assert rows(site.database, "SELECT count(*) FROM tasks") == [(1,)]


def test_a_retry_after_the_client_hung_up_creates_nothing(site: Site) -> None:
    """The client sends and closes its socket before reading; its retry may reach the server
    before or after the first request ran (it then waits for it): one task either way."""
    with site.server("waitress"):
        client = signed_up(site)
        with raw_connection(site.port) as sock:
            sock.sendall(raw_post(client.token, KEY))
        retry = client.api("POST", "/api/v1/projects/crash/tasks", BODY,
                           **{"Idempotency-Key": KEY})
        assert retry.status == 201, retry.text
        again = client.api("POST", "/api/v1/projects/crash/tasks", BODY,
                           **{"Idempotency-Key": KEY})
        assert (again.status, again.body) == (201, retry.body)
        assert again.header("Idempotent-Replayed") == "true"
    assert rows(site.database, "SELECT count(*) FROM tasks") == [(1,)]
    assert rows(site.database, "SELECT count(*) FROM idempotency_keys") == [(1,)]
