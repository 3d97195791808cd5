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
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from taskdesk.models import Event, insert_missing
from taskdesk.models.meta import utcnow

#: ``session.info`` key: the ``(job name, arguments)`` to enqueue once the session commits.
JOBS_AFTER_COMMIT = "taskdesk.jobs_after_commit"
#: The job that hands pending events to the consumers (registered by taskdesk.queue).
DISPATCH_JOB = "events.dispatch"

#: Kinds raised by periodic jobs rather than by an activity entry (``data``:
#: ``{"due_date": "YYYY-MM-DD"}``; ``dedupe_key``: ``due_soon:<task id>:<date>``).
DUE_SOON = "task.due_soon"
DUE_TODAY = "task.due_today"


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
