"""The outbox and the queue with real commits (the spare database): an event exists only if
its transaction committed, and only a commit enqueues the dispatch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from sqlalchemy import func, select

from taskdesk.domain.events import DISPATCH_JOB, emit
from taskdesk.models import Event
from taskdesk.queue import build_huey, queue_of


def enqueued(app: webtest.TestApp) -> list[str]:
    return [task.name for task in queue_of(app.app.registry).huey.pending()]


def events_of_kind(app: webtest.TestApp, kind: str) -> int:
    context = queue_of(app.app.registry).context
    with context.transaction() as dbsession:
        return int(dbsession.scalar(select(func.count()).where(Event.kind == kind)) or 0)


def test_a_rolled_back_change_leaves_no_event_and_enqueues_nothing(
    spare_app: Callable[..., webtest.TestApp]
) -> None:
    app = spare_app()
    context = queue_of(app.app.registry).context

    def failing_change() -> None:
        with context.transaction() as dbsession:
            emit(dbsession, "test.rolled_back", project_id=None)
            dbsession.flush()
            raise RuntimeError("the change fails after its event was written")

    with pytest.raises(RuntimeError):
        failing_change()
    assert events_of_kind(app, "test.rolled_back") == 0
    assert enqueued(app) == []


def test_a_commit_enqueues_one_dispatch_for_all_its_events(
    spare_app: Callable[..., webtest.TestApp]
) -> None:
    app = spare_app()
    context = queue_of(app.app.registry).context
    with context.transaction() as dbsession:
        for _ in range(3):
            emit(dbsession, "test.committed", project_id=None)
    assert events_of_kind(app, "test.committed") == 3
    assert enqueued(app) == [queue_of(app.app.registry).jobs[DISPATCH_JOB].name]


def test_a_released_savepoint_enqueues_nothing_before_the_commit(
    spare_app: Callable[..., webtest.TestApp]
) -> None:
    """SQLAlchemy reports a savepoint's release as a commit: the dispatch must still wait
    for the real one, or the worker looks for events no one else can see yet."""
    app = spare_app()
    context = queue_of(app.app.registry).context
    with context.transaction() as dbsession:
        with dbsession.begin_nested():
            emit(dbsession, "test.in_savepoint", project_id=None)
        assert enqueued(app) == []
    assert enqueued(app) == [queue_of(app.app.registry).jobs[DISPATCH_JOB].name]


def test_a_rolled_back_savepoint_keeps_the_jobs_of_the_transaction(
    spare_app: Callable[..., webtest.TestApp]
) -> None:
    """A savepoint rolled back inside a transaction that then commits: the events written
    outside the savepoint are committed, so their dispatch is enqueued."""
    app = spare_app()
    context = queue_of(app.app.registry).context
    with context.transaction() as dbsession:
        emit(dbsession, "test.kept", project_id=None)
        savepoint = dbsession.begin_nested()
        emit(dbsession, "test.undone", project_id=None)
        savepoint.rollback()
    assert events_of_kind(app, "test.kept") == 1
    assert events_of_kind(app, "test.undone") == 0
    assert enqueued(app) == [queue_of(app.app.registry).jobs[DISPATCH_JOB].name]


def test_the_dispatch_marks_committed_events_dispatched(
    spare_app: Callable[..., webtest.TestApp]
) -> None:
    app = spare_app()
    queue = queue_of(app.app.registry)
    with queue.context.transaction() as dbsession:
        emit(dbsession, "test.dispatched", project_id=None)
    pending: Any = queue.huey.dequeue()
    queue.huey.execute(pending)  # what the worker does with it
    with queue.context.transaction() as dbsession:
        assert dbsession.scalar(select(Event.dispatched_at).where(
            Event.kind == "test.dispatched")) is not None


def test_the_sqlite_queue_keeps_jobs_across_connections_without_waiting_for_the_disk(
        tmp_path: Any) -> None:
    """The queue file is written as the database is (WAL, synchronous=NORMAL): a job put by
    one connection is there for the worker's, and a put does not wait for the disk as
    Huey's default (FULL) would."""
    url = f"sqlite:///{tmp_path}/queue/jobs.db"
    putter, worker = build_huey(url, "q"), build_huey(url, "q")
    putter.storage.enqueue(b"job")
    assert worker.storage.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert putter.storage.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert worker.storage.dequeue() == b"job"
    assert putter.pending_count() == 0
