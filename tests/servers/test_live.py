"""Live updates on real servers: event streams under Hypercorn (one process with the
in-memory broker; two processes through Redis or PostgreSQL), polling under Waitress."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.databases import create_database
from tests.support.live import EventStream
from tests.support.servers import (
    PASSWORD,
    Client,
    Site,
    WorkerProcess,
    free_port,
    hypercorn,
    hypercorn_config,
    make_site,
    prepare_database,
    taskdesk,
    write_ini,
)

pytestmark = pytest.mark.slow

FAST = {"taskdesk.live.recheck_seconds": "1", "taskdesk.live.heartbeat_seconds": "1"}


def _sign_in(port: int, username: str) -> Client:
    client = Client(port)
    assert client.login(username).status == 303
    client.get("/")  # a signed-in page's CSRF token, for the API calls
    return client


def _project(owner: Client, slug: str = "live") -> dict[str, int]:
    assert owner.api("POST", "/api/v1/projects", {"slug": slug, "name": "Live"}).status == 201
    created = owner.api("POST", f"/api/v1/projects/{slug}/tasks", {"title": "Card"})
    assert created.status == 201, created.text
    task = json.loads(created.body)
    return {"id": task["id"], "number": task["number"]}


def _move(client: Client, number: int, status: str, slug: str = "live") -> None:
    moved = client.api("PATCH", f"/api/v1/projects/{slug}/tasks/{number}", {"status": status})
    assert moved.status == 200, moved.text


def _add_member(owner: Client, username: str, slug: str = "live") -> None:
    added = owner.api("PUT", f"/api/v1/projects/{slug}/members/user:{username}",
                      {"role": "member"})
    assert added.status == 201, added.text


@pytest.fixture
def live_site(tmp_path: Path) -> Site:
    site = make_site(tmp_path, {**FAST})
    taskdesk(site.ini, "create-user", "bob", "--password-stdin", stdin=PASSWORD + "\n")
    return site


def test_a_change_made_through_the_app_reaches_an_open_stream(live_site: Site) -> None:
    with live_site.server("hypercorn"):
        alice = _sign_in(live_site.port, "alice")
        task = _project(alice)
        board = alice.get("/projects/live/board")
        assert b'data-live-stream="http://127.0.0.1' in board.body
        with EventStream(alice, "/live/projects/live") as stream:
            assert stream.status == 200
            assert stream.header("Content-Type") == "text/event-stream; charset=utf-8"
            assert stream.next_of("inbox").data == {"unread": 0}
            _move(alice, task["number"], "done")
            change = stream.next_of("change", timeout=5)
            assert change.data["kind"] == "task.updated"
            assert change.data["task"] == task["id"]
            assert change.id == str(change.data["id"])
            assert set(change.data) == {"id", "kind", "task", "comment"}  # ids, no text
            before = stream.comments
            with pytest.raises(AssertionError, match="no event"):
                stream.next(timeout=2.5)  # nothing happens, but heartbeats (one a second)
            assert stream.comments >= before + 2


def test_who_may_not_see_the_project_gets_no_stream(live_site: Site) -> None:
    with live_site.server("hypercorn"):
        alice = _sign_in(live_site.port, "alice")
        _project(alice)
        bob = _sign_in(live_site.port, "bob")
        with EventStream(bob, "/live/projects/live") as stream:
            assert stream.status == 404
            assert b"may not see it" in stream.body
        with EventStream(Client(live_site.port), "/live/projects/live") as stream:
            assert stream.status == 403
            assert b"Sign in" in stream.body
        with EventStream(bob, "/live/elsewhere") as stream:
            assert stream.status == 404


def test_a_removed_member_stops_receiving_within_the_recheck_interval(
        live_site: Site) -> None:
    with live_site.server("hypercorn"):
        alice = _sign_in(live_site.port, "alice")
        task = _project(alice)
        _add_member(alice, "bob")
        bob = _sign_in(live_site.port, "bob")
        with EventStream(bob, "/live/projects/live") as stream:
            assert stream.status == 200
            _move(alice, task["number"], "in_progress")
            assert stream.next_of("change").data["task"] == task["id"]
            removed = alice.api("DELETE", "/api/v1/projects/live/members/user:bob")
            assert removed.status == 204
            started = time.monotonic()
            closed = stream.next_of("closed", timeout=5)  # recheck_seconds = 1
            assert closed.data == {"status": 404}
            assert stream.next(timeout=5) is None  # and the stream ends
            assert time.monotonic() - started < 3
            _move(alice, task["number"], "done")


def test_streams_are_limited_per_person_and_per_process(tmp_path: Path) -> None:
    site = make_site(tmp_path, {"taskdesk.live.max_per_user": "1",
                                "taskdesk.live.max_connections": "2"})
    taskdesk(site.ini, "create-user", "bob", "--password-stdin", stdin=PASSWORD + "\n")
    taskdesk(site.ini, "create-user", "carol", "--password-stdin", stdin=PASSWORD + "\n")
    with site.server("hypercorn"), ExitStack() as streams:
        alice = _sign_in(site.port, "alice")
        first = streams.enter_context(EventStream(alice, "/live/me"))
        assert first.status == 200
        with EventStream(alice, "/live/me") as second:
            assert second.status == 429
            assert b"live update streams open already" in second.body
            assert second.header("Retry-After") == "10"
        bob = streams.enter_context(EventStream(_sign_in(site.port, "bob"), "/live/me"))
        assert bob.status == 200
        with EventStream(_sign_in(site.port, "carol"), "/live/me") as third:
            assert third.status == 503
            assert b"as many live update streams as it may" in third.body
        first.__exit__(None, None, None)
        time.sleep(0.5)  # the server notices the closed connection
        with EventStream(_sign_in(site.port, "carol"), "/live/me") as again:
            assert again.status == 200


def test_last_event_id_resumes_with_the_changes_missed(live_site: Site) -> None:
    with live_site.server("hypercorn"):
        alice = _sign_in(live_site.port, "alice")
        task = _project(alice)
        with EventStream(alice, "/live/projects/live") as stream:
            _move(alice, task["number"], "in_progress")
            seen = stream.next_of("change")
        _move(alice, task["number"], "blocked")  # while no stream is open
        _move(alice, task["number"], "done")
        with EventStream(alice, "/live/projects/live", last_event_id=seen.id) as resumed:
            missed = [resumed.next_of("change"), resumed.next_of("change")]
            assert [int(m.id or 0) for m in missed] == sorted(int(m.id or 0) for m in missed)
            assert all(int(m.id or 0) > int(seen.id or 0) for m in missed)
            assert {m.data["kind"] for m in missed} == {"task.updated"}


def test_shutdown_with_an_open_stream_is_prompt(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    config = hypercorn_config(tmp_path, drain_seconds=1, graceful_timeout=15)
    server = hypercorn(site.ini, site.port, tmp_path / "h.log", config=config)
    with server:
        alice = _sign_in(site.port, "alice")
        with EventStream(alice, "/live/me") as stream:
            assert stream.status == 200
            stream.next_of("inbox")
            started = time.monotonic()
            server.signal(signal.SIGTERM)
            assert stream.next(timeout=10) is None  # the stream ends after the drain
            assert server.wait(10) == 0
            # the drain (1 s), not graceful_timeout (15 s) waiting for the stream
            assert time.monotonic() - started < 5


def test_under_waitress_pages_poll(live_site: Site) -> None:
    with live_site.server("waitress"):
        alice = _sign_in(live_site.port, "alice")
        task = _project(alice)
        board = alice.get("/projects/live/board")
        assert b"data-live-poll=" in board.body
        assert b"data-live-stream" not in board.body
        assert alice.get("/live/projects/live").status == 404  # no streams here
        first = alice.get("/projects/live/changes")
        last = json.loads(first.body)["last"]
        idle = alice.get(f"/projects/live/changes?after={last}")
        etag = idle.header("ETag")
        assert alice.get(f"/projects/live/changes?after={last}",
                         **{"If-None-Match": etag}).status == 304
        _move(alice, task["number"], "done")
        changed = alice.get(f"/projects/live/changes?after={last}", **{"If-None-Match": etag})
        assert changed.status == 200
        assert [c["task"] for c in json.loads(changed.body)["changes"]] == [task["id"]]


# -- two processes ------------------------------------------------------------------------------
@pytest.fixture
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from create_database("postgresql", tmp_path_factory)


def _two_hypercorns(tmp_path: Path, database_url: str,
                    settings: dict[str, str]) -> Iterator[tuple[int, int]]:
    ports = free_port(), free_port()
    inis = [write_ini(tmp_path, database_url, port, settings) for port in ports]
    prepare_database(inis[0], "alice")
    with ExitStack() as stack:
        for index, (ini, port) in enumerate(zip(inis, ports, strict=True)):
            stack.enter_context(hypercorn(ini, port, tmp_path / f"{index}.log"))
        yield ports


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis on 127.0.0.1:6379 ({error})")


@pytest.mark.parametrize("broker", ["redis", "postgresql"])
def test_a_change_through_one_process_reaches_a_stream_on_the_other(
        broker: str, postgres_url: str, tmp_path: Path) -> None:
    name = f"live{free_port()}"  # this run's own channel and queue keys
    settings = {"taskdesk.queue.name": name,
                "taskdesk.queue.url": f"sqlite:///{tmp_path}/queue.sqlite"}
    if broker == "redis":
        _redis_or_skip()
        settings["taskdesk.live.url"] = "redis://127.0.0.1:6379/0"
    else:
        settings["taskdesk.live.url"] = postgres_url
    ports = _two_hypercorns(tmp_path, postgres_url, settings)
    port_a, port_b = next(ports)
    try:
        on_a = _sign_in(port_a, "alice")
        task = _project(on_a)
        on_b = Client(port_b, cookies=dict(on_a.cookies))
        with EventStream(on_b, "/live/projects/live") as stream:
            assert stream.status == 200
            stream.next_of("inbox")
            time.sleep(0.5)  # B's subscription is up (it started with the process)
            started = time.monotonic()
            _move(on_a, task["number"], "done")
            change = stream.next_of("change", timeout=5)
            assert change.data["task"] == task["id"]
            # pushed, not found by the re-check (30 s here)
            assert time.monotonic() - started < 3
    finally:
        ports.close()


def test_the_worker_tells_the_bell_through_redis(tmp_path: Path) -> None:
    _redis_or_skip()
    name = f"live{free_port()}"
    site = make_site(tmp_path, {"taskdesk.queue.name": name,
                                "taskdesk.live.url": "redis://127.0.0.1:6379/0"})
    taskdesk(site.ini, "create-user", "bob", "--password-stdin", stdin=PASSWORD + "\n")
    with site.server("hypercorn"), WorkerProcess(site.ini, tmp_path / "worker.log"):
        alice = _sign_in(site.port, "alice")
        _project(alice)
        bob = _sign_in(site.port, "bob")
        with EventStream(bob, "/live/me") as stream:
            assert stream.next_of("inbox").data == {"unread": 0}
            started = time.monotonic()
            _add_member(alice, "bob")  # the worker notifies bob: "added you to the project"
            stream.next_of("inbox", timeout=15)
            # through Redis from the worker, not the re-check (30 s here)
            assert time.monotonic() - started < 15
        assert json.loads(bob.get("/me/notifications/changes").body)["unread"] == 1
