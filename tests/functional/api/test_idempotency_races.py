"""Two requests with the same Idempotency-Key at the same time: exactly one creates; the other
answers 409 (in progress) or, once the first committed, the first's answer.

Each request runs in a thread of its own through the real WSGI app, on a fresh database that
commits for real. The test holds up the first request inside the database so that the second
surely arrives while it is in flight: on PostgreSQL by locking the project's row (the create
updates its task counter), on SQLite by holding the write lock (every write request waits for
it to begin).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import transaction
import webtest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url

from taskdesk import main
from taskdesk.domain import accounts, projects
from taskdesk.models import IdempotencyKey, Task, get_session_factory, get_tm_session
from taskdesk.settings import parse_settings
from tests.support.apps import HOST, app_settings
from tests.support.databases import create_database, migrated_engine
from tests.support.factories import Factory

pytestmark = pytest.mark.slow

URL = "/api/v1/projects/race/tasks"
BODY = {"title": "Created once"}


@dataclass
class Site:
    engine: Engine
    url: str
    app: Any
    token: str

    def post(self, key: str) -> webtest.TestResponse:
        client = webtest.TestApp(self.app, extra_environ={"HTTP_HOST": HOST})
        return client.post_json(URL, BODY, headers={
            "Authorization": f"Bearer {self.token}", "Idempotency-Key": key},
            expect_errors=True)

    def count(self, model: Any) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def site(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    for url in create_database(backend, tmp_path_factory):
        engine = migrated_engine(url)
        settings = app_settings(url, **{"taskdesk.sqlite.busy_timeout": "20000"})
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(get_session_factory(engine), manager)
            owner = Factory(dbsession, parse_settings(settings)).user("racer")
            projects.create_project(dbsession, owner, {"slug": "race", "name": "Race"})
            _token, secret = accounts.create_token(dbsession, owner,
                                                   {"name": "ci", "scope": "write"})
        app = main({}, **settings)
        site = Site(engine, url, app, secret)
        # Use the token once, so that no request below stamps its last use (a row lock the
        # second request would wait for behind the first).
        webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST}).get(
            "/api/v1/me", headers={"Authorization": f"Bearer {secret}"}, status=200)
        try:
            yield site
        finally:
            app.registry["dbbinds"].engine.dispose()
            engine.dispose()


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["response"] = work()
        except BaseException as error:  # reported by the test
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_requests_with_one_key_create_once_on_postgresql(site: Site) -> None:
    if site.engine.dialect.name != "postgresql":
        pytest.skip("the SQLite case is the next test")
    with site.engine.connect() as blocker:
        blocker.execute(text("SELECT id FROM projects WHERE slug = 'race' FOR UPDATE"))
        first, first_result = in_thread(lambda: site.post("k1"))

        def first_holds_the_key() -> bool:
            with site.engine.connect() as probe:
                return bool(probe.scalar(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = 7655")))  # 0x1DE7, taskdesk.domain.idempotency

        wait_for(first_holds_the_key)
        second = site.post("k1")  # answers at once: it does not wait for the first
        assert first.is_alive()
        blocker.rollback()
    first.join(20)
    assert second.status_int == 409, second.text
    assert second.json["error"]["code"] == "idempotency_key_in_use"
    assert second.headers["Retry-After"] == "1"
    created = first_result["response"]
    assert created.status_int == 201, created.text
    retried = site.post("k1")
    assert (retried.status_int, retried.body) == (201, created.body)
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert site.count(Task) == 1
    assert site.count(IdempotencyKey) == 1


def test_two_requests_with_one_key_create_once_on_sqlite(site: Site) -> None:
    if site.engine.dialect.name != "sqlite":
        pytest.skip("the PostgreSQL case is the previous test")
    path = make_url(site.url).database
    assert path
    lock = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        lock.execute("BEGIN IMMEDIATE")
        threads = [in_thread(lambda: site.post("k1")) for _ in range(2)]
        time.sleep(0.5)
        assert all(thread.is_alive() for thread, _ in threads), "no request waited"
    finally:
        lock.execute("COMMIT")
        lock.close()
    for thread, _ in threads:
        thread.join(30)
    responses = [result["response"] for _, result in threads]
    assert [r.status_int for r in responses] == [201, 201], [r.text for r in responses]
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert responses[0].body == responses[1].body
    assert site.count(Task) == 1
    assert site.count(IdempotencyKey) == 1


def test_many_concurrent_retries_create_once(site: Site) -> None:
    """Eight clients sending the same key together, released by a barrier: one task; every
    answer is the 201 or, on PostgreSQL, possibly a 409 while the first runs."""
    barrier = threading.Barrier(8)

    def post() -> webtest.TestResponse:
        barrier.wait(timeout=30)
        return site.post("many")

    threads = [in_thread(post) for _ in range(8)]
    for thread, _ in threads:
        thread.join(60)
    results = [result for _, result in threads]
    assert not [r["error"] for r in results if "error" in r]
    statuses = sorted(r["response"].status_int for r in results)
    allowed = {201, 409} if site.engine.dialect.name == "postgresql" else {201}
    assert set(statuses) <= allowed, statuses
    created = [r["response"] for r in results if r["response"].status_int == 201]
    assert sum("Idempotent-Replayed" not in r.headers for r in created) == 1
    assert len({r.body for r in created}) == 1
    assert site.count(Task) == 1
