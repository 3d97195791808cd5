"""``taskdesk INI worker`` as a real process: changes made through real servers reach the
inbox, exactly once, on the SQLite queue and on Redis with PostgreSQL, through SIGKILL and
graceful stops."""

from __future__ import annotations

import json
import signal
import socket
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from taskdesk.queue import build_huey
from tests.support.databases import create_database
from tests.support.servers import (
    PASSWORD,
    Client,
    Site,
    WorkerProcess,
    free_port,
    make_site,
    prepare_database,
    taskdesk,
    wait_until,
    waitress,
    write_ini,
)

pytestmark = pytest.mark.slow

#: Seconds any delivery may take in these tests before they fail (a shared, busy machine).
DELIVERY_TIMEOUT = 90


def add_users(ini: Path, *names: str) -> None:
    for name in names:
        taskdesk(ini, "create-user", name, "--password-stdin", stdin=PASSWORD + "\n")


def signed_in(port: int) -> Client:
    client = Client(port)
    assert client.login("alice").status == 303
    client.create_token()
    return client


def call(client: Client, method: str, path: str, data: object, status: int) -> dict[str, object]:
    response = client.api(method, path, data)
    assert response.status == status, response.text[:500]
    return json.loads(response.body) if response.body else {}


def start_project(client: Client, slug: str) -> None:
    """A private project of alice's with bob as a member (carol is no member)."""
    call(client, "POST", "/api/v1/projects",
         {"slug": slug, "name": slug.title(), "visibility": "private"}, 201)
    call(client, "PUT", f"/api/v1/projects/{slug}/members/user:bob", {"role": "member"}, 201)


def task_and_comment(client: Client, slug: str, title: str) -> None:
    """A task assigned to bob (bob: assigned) and a comment naming bob and carol (bob:
    mentioned; carol: nothing, she may not see the project)."""
    task = call(client, "POST", f"/api/v1/projects/{slug}/tasks",
                {"title": title, "assignee": "bob"}, 201)
    call(client, "POST", f"/api/v1/projects/{slug}/tasks/{task['number']}/comments",
         {"body": "@bob @carol have a look"}, 201)


def inbox(engine: Engine, username: str) -> dict[str, int]:
    """{reason: notifications} of ``username``."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT n.reason, count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
            "WHERE u.username = :name GROUP BY n.reason"), {"name": username})
        return {reason: count for reason, count in rows}


def outbox(engine: Engine) -> tuple[int, int]:
    """(pending, parked) events."""
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT sum(CASE WHEN parked_at IS NULL THEN 1 ELSE 0 END), count(parked_at) "
            "FROM events WHERE dispatched_at IS NULL")).one()
        return int(row[0] or 0), int(row[1] or 0)


def delivered(engine: Engine, username: str, expected: dict[str, int]) -> None:
    """Wait until the outbox is empty and ``username`` got ``expected``; then exactly that."""
    wait_until(lambda: outbox(engine) == (0, 0) and inbox(engine, username) == expected,
               DELIVERY_TIMEOUT, f"{username}'s inbox {expected} (has {inbox(engine, username)}, "
               f"outbox {outbox(engine)})")


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = make_site(tmp_path, {"taskdesk.queue.url": f"sqlite:///{tmp_path / 'queue.sqlite'}"})
    add_users(site.ini, "bob", "carol")
    return site


@pytest.fixture
def site_engine(site: Site) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{site.database}")
    yield engine
    engine.dispose()


def test_changes_through_the_web_server_reach_the_inbox_through_the_worker(
    site: Site, site_engine: Engine, tmp_path: Path
) -> None:
    with site.server("waitress"), WorkerProcess(site.ini, tmp_path / "worker.log") as worker:
        client = signed_in(site.port)
        start_project(client, "relay")
        for number in range(3):
            task_and_comment(client, "relay", f"Relay {number}")
        delivered(site_engine, "bob", {"member": 1, "assigned": 3, "mentioned": 3})
        assert inbox(site_engine, "carol") == {}
        assert inbox(site_engine, "alice") == {}  # never told of her own changes
    assert "Traceback" not in worker.output()


# -- Redis and PostgreSQL: two app processes, two workers ------------------------------------
def redis_answers() -> str | None:
    """None when Redis answers on 127.0.0.1:6379, else why not."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return None
            return "Redis on 127.0.0.1:6379 did not answer PING"
    except OSError as error:
        return f"Redis not reachable on 127.0.0.1:6379 ({error})"


@pytest.fixture
def redis_queue() -> Iterator[tuple[str, str]]:
    """(url, name): a queue name of its own on the local Redis, its keys deleted after."""
    reason = redis_answers()
    if reason is not None:
        print(f"skipping: {reason}")
        pytest.skip(reason)
    url, name = "redis://127.0.0.1:6379/0", f"taskdesk-test-{uuid.uuid4().hex[:12]}"
    yield url, name
    build_huey(url, name).storage.flush_all()


@pytest.fixture
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from create_database("postgresql", tmp_path_factory)


def test_two_apps_and_two_workers_on_redis_deliver_every_notification_exactly_once(
    redis_queue: tuple[str, str], postgres_url: str, tmp_path: Path
) -> None:
    url, name = redis_queue
    settings = {"taskdesk.queue.url": url, "taskdesk.queue.name": name}
    ports = free_port(), free_port()
    inis = [write_ini(tmp_path, postgres_url, port, settings) for port in ports]
    prepare_database(inis[0], "alice")
    add_users(inis[0], "bob", "carol")
    engine = create_engine(postgres_url)
    rounds = 12
    try:
        with ExitStack() as stack:
            for index, (ini, port) in enumerate(zip(inis, ports, strict=True)):
                stack.enter_context(waitress(ini, port, tmp_path / f"web-{index}.log"))
            workers = [stack.enter_context(WorkerProcess(ini, tmp_path / f"worker-{i}.log"))
                       for i, ini in enumerate(inis)]
            clients = [signed_in(port) for port in ports]
            start_project(clients[0], "scale")
            for number in range(rounds):
                task_and_comment(clients[number % 2], "scale", f"Scale {number}")
            delivered(engine, "bob", {"member": 1, "assigned": rounds, "mentioned": rounds})
            assert inbox(engine, "carol") == {}
            with engine.connect() as connection:
                assert connection.execute(text(
                    "SELECT count(*) - count(DISTINCT (event_id, user_id)) FROM notifications"
                )).scalar() == 0
            assert build_huey(url, name).pending_count() == 0
        for worker in workers:
            assert "Traceback" not in worker.output()
    finally:
        engine.dispose()


# -- stopping the worker: SIGKILL mid-batch, SIGTERM and SIGINT -----------------------------
#: Events in the backlog: many batches (the dispatcher takes 100 per transaction).
BACKLOG = 1500


def backlog(site: Site, engine: Engine) -> int:
    """A task assigned to bob, then BACKLOG more assignment events for it in the outbox (as
    a burst of changes leaves them), each of which tells bob once; returns the task id."""
    client = signed_in(site.port)
    start_project(client, "burst")
    call(client, "POST", "/api/v1/projects/burst/tasks", {"title": "Busy", "assignee": "bob"},
         201)
    with engine.begin() as connection:
        task_id, project_id = connection.execute(text(
            "SELECT t.id, t.project_id FROM tasks t JOIN projects p ON p.id = t.project_id "
            "WHERE p.slug = 'burst'")).one()
        alice, bob = (connection.execute(text("SELECT id FROM users WHERE username = :n"),
                                         {"n": n}).scalar() for n in ("alice", "bob"))
        connection.execute(text(
            "INSERT INTO events (kind, project_id, task_id, actor_id, data, created_at, "
            "attempts, last_error) VALUES ('task.updated', :project, :task, :actor, :data, "
            "'2026-01-01 00:00:00.000000', 0, '')"),
            [{"project": project_id, "task": task_id, "actor": alice,
              "data": json.dumps({"changes": {}, "assignee_id": bob})}] * BACKLOG)
    return int(task_id)


def told_of_backlog(engine: Engine, task_id: int) -> tuple[int, int]:
    """(notifications, distinct events) bob has of the backlog's task updates."""
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT count(*), count(DISTINCT n.event_id) FROM notifications n "
            "JOIN users u ON u.id = n.user_id WHERE u.username = 'bob' AND n.task_id = :task "
            "AND n.kind = 'task.updated'"), {"task": task_id}).one()
        return int(row[0]), int(row[1])


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    site: Site, site_engine: Engine, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with site.server("waitress"):
        task_id = backlog(site, site_engine)
    with WorkerProcess(site.ini, log) as worker:
        wait_until(lambda: told_of_backlog(site_engine, task_id)[0] > 0, DELIVERY_TIMEOUT,
                   "the worker started on the backlog")
        worker.signal(signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
    killed_at = told_of_backlog(site_engine, task_id)[0]
    assert killed_at < BACKLOG, "the backlog was done before the kill: make it bigger"
    with WorkerProcess(site.ini, log):
        wait_until(lambda: outbox(site_engine) == (0, 0), DELIVERY_TIMEOUT,
                   "the restarted worker finished the backlog")
    assert told_of_backlog(site_engine, task_id) == (BACKLOG, BACKLOG)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_worker_gracefully_and_promptly(
    site: Site, site_engine: Engine, tmp_path: Path, signum: int
) -> None:
    log = tmp_path / "worker.log"
    with site.server("waitress"):
        task_id = backlog(site, site_engine)
    with WorkerProcess(site.ini, log) as worker:
        wait_until(lambda: told_of_backlog(site_engine, task_id)[0] > 0, DELIVERY_TIMEOUT,
                   "the worker started on the backlog")
        worker.signal(signum)
        # It finishes the batch in hand, not the backlog.
        assert worker.wait(30) == 0, worker.output()[-2000:]
    stopped_at = told_of_backlog(site_engine, task_id)
    assert stopped_at[0] == stopped_at[1] < BACKLOG
    pending, parked = outbox(site_engine)
    assert pending > 0  # left for the next run
    assert parked == 0
    assert "worker stopped" in log.read_text(encoding="utf-8")
