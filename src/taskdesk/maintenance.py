"""Housekeeping the worker does on a schedule, and ``taskdesk INI purge`` does on demand.

- :func:`purge`: expired sessions and old sign-in failures (``security.login``), events
  dispatched more than ``taskdesk.events.keep_days`` ago and notifications read more than
  ``taskdesk.notifications.keep_days`` ago (``domain.events``), and attachment blobs no row
  names any more (``domain.attachments.sweep_orphans``, which keeps a grace period for
  requests in flight). One rule for both callers.
- :func:`checkpoint_wal`: on SQLite, fold the write-ahead log back into the database file.
  SQLite checkpoints on its own after commits, but only passively, so under steady traffic
  the ``-wal`` file can keep growing; ``TRUNCATE`` from the worker (never from a request,
  it waits for readers) resets it.

A core include, not part of ``taskdesk.notify``: sessions and throttling rows need purging
whether or not notifications are switched on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyramid.config import Configurator
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from taskdesk.domain.attachments import sweep_orphans
from taskdesk.domain.events import purge_dispatched_events, purge_read_notifications
from taskdesk.models import database_binds
from taskdesk.queue import JobContext
from taskdesk.security.login import purge_expired
from taskdesk.settings import TaskdeskSettings
from taskdesk.storage import store_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    sessions: int
    login_failures: int
    idempotency_keys: int
    events: int
    notifications: int
    blobs: int = 0

    def __str__(self) -> str:
        return (f"removed {self.sessions} expired sessions, {self.login_failures} old sign-in "
                f"failures, {self.idempotency_keys} expired idempotency keys, {self.events} "
                f"dispatched events, {self.notifications} read notifications and "
                f"{self.blobs} unused attachment files")


def purge(dbsession: Session, settings: TaskdeskSettings) -> Purged:
    """Delete what can no longer matter (see the module docstring); return the counts."""
    expired = purge_expired(dbsession, settings)
    events = purge_dispatched_events(dbsession, settings.events_keep_days)
    notifications = purge_read_notifications(dbsession, settings.notifications_keep_days)
    blobs = sweep_orphans(dbsession, store_for(settings))
    return Purged(expired.sessions, expired.failures, expired.idempotency_keys, events,
                  notifications, blobs)


def checkpoint_wal(engine: Engine) -> tuple[int, int, int] | None:
    """``PRAGMA wal_checkpoint(TRUNCATE)`` on a SQLite ``engine`` outside any transaction:
    (busy, log frames, checkpointed frames) as SQLite reports them; None elsewhere."""
    if engine.dialect.name != "sqlite":
        return None
    connection = engine.raw_connection()
    try:
        # The driver begins no transaction of its own (models' dialect), so this runs alone.
        cursor = connection.cursor()
        busy, frames, done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        cursor.close()
    finally:
        connection.close()
    return int(busy), int(frames), int(done)


def refresh_statistics(engine: Engine) -> None:
    """Give the query planner what a bulk load leaves it without. Needed after one:
    PostgreSQL's autovacuum gets to new rows only after a while (until then a plan made for
    14 rows reads 55,000), and SQLite never does by itself.

    SQLite: ``ANALYZE`` (row counts). PostgreSQL: ``VACUUM (ANALYZE)``, which also marks the
    loaded pages all-visible, so that bounded counts (a board's column totals) are
    index-only scans of at most their cap: at 1,000,000 tasks, without it the planner
    scanned the table until each count's cap and took 13.6 ms, with it 1.2 ms
    (benchmarks/README.md). VACUUM runs outside a transaction.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def purge_job(context: JobContext) -> None:
    with context.transaction() as dbsession:
        purged = purge(dbsession, context.settings)
    log.info("purge: %s", purged)


def checkpoint_job(context: JobContext) -> None:
    result = checkpoint_wal(database_binds(context.registry).engine)
    if result is not None and result[0]:
        log.info("WAL checkpoint incomplete (readers busy); the next run tries again")


def includeme(config: Configurator) -> None:
    config.add_periodic_job("maintenance.purge", purge_job, minute="17", hour="3")
    config.add_periodic_job("maintenance.wal_checkpoint", checkpoint_job, minute="*/5")
