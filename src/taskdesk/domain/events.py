"""The outbox: changes that cause side effects, written in the change's own transaction.

A domain operation that others must hear of calls :func:`emit` (``activity.record`` does it
for every entry of the audit trail). The row commits or rolls back with the change, so
nothing is announced that did not happen and nothing that happened is lost. After a commit
the queue (``taskdesk.queue``) runs the jobs the transaction asked for with
:func:`run_after_commit`: for events, the dispatcher, which hands every pending event to the
consumers and marks it dispatched. The dispatcher also runs periodically, so an event whose
job was lost (a process killed between commit and enqueue, a queue that was down) is
dispatched all the same.

Nothing here knows the queue: jobs are named, and the names are kept on the session until the
queue reads them after its commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from taskdesk.models import Event, Notification, Project, Task, insert_missing, write_rows
from taskdesk.models.meta import utcnow

#: ``session.info`` key: the ``(job name, arguments)`` to enqueue once the session commits.
JOBS_AFTER_COMMIT = "taskdesk.jobs_after_commit"
#: The job that hands pending events to the consumers (registered by taskdesk.queue).
DISPATCH_JOB = "events.dispatch"

#: Kinds raised by periodic jobs rather than by an activity entry (``data``:
#: ``{"due_date": "YYYY-MM-DD"}``; ``dedupe_key``: ``due_soon:<task id>:<date>``).
DUE_SOON = "task.due_soon"
DUE_TODAY = "task.due_today"

_events: Any = Event.__table__
_INSERT_EVENT = insert(_events)


class Reason(StrEnum):
    """Why someone is told of an event: a notification's ``reason``, and what people choose
    a channel for (inbox, e-mail, digest or nothing) in their preferences."""

    ASSIGNED = "assigned"    # the task was assigned to them
    MENTIONED = "mentioned"  # @username in a description or comment
    WATCHING = "watching"    # a change of a task or project they watch
    DUE = "due"              # a task assigned to them is due tomorrow or today
    MEMBER = "member"        # they were added to a project


def run_after_commit(dbsession: Session, job: str, *args: Any) -> None:
    """Ask for ``job(*args)`` to be enqueued once ``dbsession``'s transaction commits (never
    if it rolls back); asking twice for the same call in one transaction enqueues it once."""
    jobs: list[tuple[str, tuple[Any, ...]]] = dbsession.info.setdefault(JOBS_AFTER_COMMIT, [])
    if (job, args) not in jobs:
        jobs.append((job, args))


def take_jobs_after_commit(dbsession: Session) -> list[tuple[str, tuple[Any, ...]]]:
    """The jobs the finished transaction asked for, forgotten by the session."""
    jobs: list[tuple[str, tuple[Any, ...]]] = dbsession.info.pop(JOBS_AFTER_COMMIT, [])
    return jobs


def emit(
    dbsession: Session,
    kind: str,
    *,
    project_id: int | None,
    task_id: int | None = None,
    actor_id: int | None = None,
    data: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Event:
    """Record an event in the current transaction and have it dispatched after commit.

    ``data`` holds ids, never rendered text: consumers re-read what they show with the
    reader's permissions. A ``dedupe_key`` already used makes the flush fail; periodic jobs
    that may raise the same event twice insert with ``models.insert_missing`` instead.
    """
    event = Event(kind=kind, project_id=project_id, task_id=task_id, actor_id=actor_id,
                  data=data or {}, dedupe_key=dedupe_key)
    dbsession.add(event)
    run_after_commit(dbsession, DISPATCH_JOB)
    return event


def emit_many(dbsession: Session, kind: str, *, project_id: int | None, actor_id: int | None,
              events: Sequence[tuple[int | None, dict[str, Any]]]) -> None:
    """:func:`emit` events of one kind, each a ``(task_id, data)``, in one statement."""
    if not events:
        return
    write_rows(dbsession, _INSERT_EVENT, [
        {"kind": kind, "project_id": project_id, "task_id": task_id, "actor_id": actor_id,
         "data": data} for task_id, data in events])
    run_after_commit(dbsession, DISPATCH_JOB)


# -- what an admin sees of the outbox ------------------------------------------------------
@dataclass(frozen=True)
class OutboxCounts:
    pending: int  # waiting for the dispatcher (it runs after each commit and every minute)
    parked: int   # failed too often: waiting for an admin


@dataclass(frozen=True)
class ParkedEvent:
    id: int
    kind: str
    project_slug: str | None  # None once the project is gone
    task_number: int | None   # None for project events and once the task is gone
    task_title: str | None
    attempts: int
    last_error: str
    created_at: datetime
    parked_at: datetime


def outbox_counts(dbsession: Session) -> OutboxCounts:
    """How many events wait for the dispatcher and how many are parked; one statement."""
    pending = Event.dispatched_at.is_(None) & Event.parked_at.is_(None)
    row = dbsession.execute(select(
        func.count(case((pending, 1))), func.count(Event.parked_at))
        .where(Event.dispatched_at.is_(None))).one()
    return OutboxCounts(int(row[0]), int(row[1]))


def parked_events(dbsession: Session, limit: int = 100) -> list[ParkedEvent]:
    """The newest parked events with their project and task (when still there); one
    statement."""
    rows = dbsession.execute(
        select(Event.id, Event.kind, Project.slug, Task.number, Task.title, Event.attempts,
               Event.last_error, Event.created_at, Event.parked_at)
        .outerjoin(Project, Project.id == Event.project_id)
        .outerjoin(Task, (Task.id == Event.task_id) & (Task.project_id == Event.project_id))
        .where(Event.parked_at.is_not(None), Event.dispatched_at.is_(None))
        .order_by(Event.parked_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return [ParkedEvent(*row) for row in rows]  # type: ignore[arg-type]  # parked_at is set


def retry_event(dbsession: Session, event_id: int) -> bool:
    """Un-park the event (with a fresh count of attempts) and have the dispatcher run after
    commit; False when no parked event has that id (retried already, or never parked)."""
    result = dbsession.execute(
        update(Event)
        .where(Event.id == event_id, Event.parked_at.is_not(None),
               Event.dispatched_at.is_(None))
        .values(parked_at=None, attempts=0)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    run_after_commit(dbsession, DISPATCH_JOB)
    return True


# -- what is kept --------------------------------------------------------------------------
def purge_dispatched_events(dbsession: Session, keep_days: int) -> int:
    """Delete events dispatched more than ``keep_days`` ago; return how many. Pending and
    parked events stay whatever their age: they still have to be told."""
    before = utcnow() - timedelta(days=keep_days)
    result = dbsession.execute(delete(Event).where(Event.dispatched_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_read_notifications(dbsession: Session, keep_days: int) -> int:
    """Delete notifications read more than ``keep_days`` ago (0: keep them all); return how
    many. Unread ones stay, however old: nobody has seen them yet."""
    if keep_days <= 0:
        return 0
    before = utcnow() - timedelta(days=keep_days)
    result = dbsession.execute(delete(Notification).where(Notification.read_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
def emit_missing(dbsession: Session, events: Sequence[Mapping[str, Any]]) -> int:
    """Record the ``events`` (``kind``, ``project_id``, ``task_id``, ``data``, ``dedupe_key``;
    optionally ``actor_id``) whose ``dedupe_key`` is not taken yet, in one statement, and have
    them dispatched after commit; return how many were new. For periodic jobs, which may raise
    the same event twice (two workers, a job run again after a crash)."""
    now = utcnow()
    rows = [{"actor_id": None, "data": {}, **event, "created_at": now, "attempts": 0,
             "last_error": ""} for event in events]
    added = insert_missing(dbsession, Event, rows)
    if added:
        run_after_commit(dbsession, DISPATCH_JOB)
    return added
