"""Housekeeping: the purge rule (shared by the worker's daily job and ``taskdesk INI purge``)
and the SQLite WAL checkpoint."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from taskdesk.maintenance import checkpoint_wal, purge, refresh_statistics
from taskdesk.models import Event, LoginFailure, Notification, get_engine
from taskdesk.models.meta import utcnow
from tests.support.factories import Factory


def test_purge_keeps_what_still_matters(dbsession: Session, factory: Factory,
                                        settings: Any) -> None:
    settings = dataclasses.replace(settings, events_keep_days=30, notifications_keep_days=90)
    user = factory.user("pia")
    now = utcnow()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    events = {
        "old-dispatched": Event(kind="x", dispatched_at=old, created_at=old),
        "recent-dispatched": Event(kind="x", dispatched_at=recent, created_at=recent),
        "old-pending": Event(kind="x", created_at=old),
        "old-parked": Event(kind="x", parked_at=old, created_at=old, attempts=8),
    }
    for key, event in events.items():
        event.dedupe_key = f"purge-test:{key}"
    dbsession.add_all(events.values())
    dbsession.flush()
    very_old = now - timedelta(days=91)
    notifications = {
        "read-long-ago": very_old, "read-lately": now - timedelta(days=89), "unread": None}
    for event_id, (key, read_at) in enumerate(notifications.items(), start=10**6):
        dbsession.add(Notification(user_id=user.id, event_id=event_id,
                                   kind=key, reason="watching", created_at=very_old,
                                   read_at=read_at))
    dbsession.add(LoginFailure(key="address:10.0.0.1", created_at=old))
    dbsession.flush()
    user_ids = [user.id]

    purged = purge(dbsession, settings)

    assert (purged.events, purged.notifications, purged.login_failures) == (1, 1, 1)
    left = set(dbsession.scalars(select(Event.dedupe_key).where(
        Event.dedupe_key.like("purge-test:%"))))
    assert left == {"purge-test:recent-dispatched", "purge-test:old-pending",
                    "purge-test:old-parked"}
    assert set(dbsession.scalars(select(Notification.kind).where(
        Notification.user_id.in_(user_ids)))) == {"read-lately", "unread"}
    assert str(purged) == ("removed 0 expired sessions, 1 old sign-in failures, 0 expired "
                           "idempotency keys, 1 dispatched events, 1 read notifications and "
                           "0 unused attachment files")

    keep_all = dataclasses.replace(settings, notifications_keep_days=0)
    assert purge(dbsession, keep_all).notifications == 0


def test_the_wal_checkpoint_empties_the_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite"
    engine = get_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x TEXT)"))
            connection.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "y" * 500}] * 200)
        wal = Path(f"{path}-wal")
        assert wal.stat().st_size > 0
        busy, frames, done = checkpoint_wal(engine) or (None, None, None)
        assert busy == 0
        assert frames == done
        assert wal.stat().st_size == 0  # TRUNCATE
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 200
    finally:
        engine.dispose()


def test_the_wal_checkpoint_is_sqlite_only(engine: Any, backend: str) -> None:
    result = checkpoint_wal(engine)
    assert (result is None) == (backend == "postgresql")


def test_refreshing_statistics_vacuums_on_postgresql(engine: Any, backend: str) -> None:
    """On PostgreSQL the pages a bulk load wrote are marked all-visible (VACUUM) as well as
    analysed, which the board's capped counts need to stay index-only scans."""
    if backend != "postgresql":
        pytest.skip("SQLite's ANALYZE: test_cli.py::test_analyze_gives_the_planner_row_counts")

    def stats() -> tuple[int, int]:
        with engine.connect() as connection:
            vacuums, analyses = connection.execute(text(
                "SELECT vacuum_count, analyze_count FROM pg_stat_user_tables "
                "WHERE relname = 'tasks'")).one()
            return int(vacuums), int(analyses)

    vacuums, analyses = stats()
    refresh_statistics(engine)
    assert stats() == (vacuums + 1, analyses + 1)
