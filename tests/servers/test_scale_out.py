"""Two server processes on one PostgreSQL database: the scale-out path.

Sessions and sign-in throttling live in the database, so it must not matter which process a
user's requests land on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.databases import create_database
from tests.support.servers import (
    Client,
    ServerProcess,
    free_port,
    hypercorn,
    prepare_database,
    waitress,
    write_ini,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from create_database("postgresql", tmp_path_factory)


@pytest.fixture
def two_processes(postgres_url: str, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A Waitress and a Hypercorn process on the same database (the account limit is 5)."""
    ports = free_port(), free_port()
    inis = [write_ini(tmp_path, postgres_url, port) for port in ports]
    prepare_database(inis[0], "alice")
    with ExitStack() as stack:
        servers: list[ServerProcess] = [
            waitress(inis[0], ports[0], tmp_path / "a.log"),
            hypercorn(inis[1], ports[1], tmp_path / "b.log"),
        ]
        for server in servers:
            stack.enter_context(server)
        yield ports


def test_a_session_works_on_both_processes_and_ends_on_both(
    two_processes: tuple[int, int]
) -> None:
    port_a, port_b = two_processes
    on_a = Client(port_a)
    assert on_a.login("alice").status == 303
    assert on_a.get("/api/v1/me").status == 200

    on_b = Client(port_b, cookies=dict(on_a.cookies))
    me = on_b.get("/api/v1/me")
    assert me.status == 200
    assert b'"alice"' in me.body

    on_b.get("/")  # a signed-in page carries the session's current CSRF token
    assert on_b.csrf
    assert on_b.post_form("/logout", {}).status == 303

    replayed = Client(port_a, cookies=dict(on_a.cookies))  # the old cookie, on process A
    after = replayed.get("/api/v1/me")
    assert after.status != 200
    assert b'"alice"' not in after.body


def test_sign_in_throttling_counts_failures_on_both_processes(
    two_processes: tuple[int, int]
) -> None:
    port_a, port_b = two_processes
    for attempt in range(5):  # the account limit, split over the two processes
        failed = Client((port_a, port_b)[attempt % 2]).login("alice", "wrong password")
        assert failed.status == 200
    for port in (port_a, port_b):
        throttled = Client(port).login("alice")  # even the right password
        assert throttled.status == 429
