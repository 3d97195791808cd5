"""Publishing live updates after commit, from whichever process committed.

* A request (or a job) that emits events (``domain.events.emit``): each ``Event`` row the
  session flushes is noted with its :class:`~taskdesk.domain.live.Change`; once the
  transaction commits, the changes still persistent (a rolled-back savepoint's are not) go
  to the broker, one list per transaction. Nothing is published for a rollback.
* The worker's dispatcher: the ``live`` event consumer notes each event it sees; before the
  dispatcher's transaction commits, one statement finds the people the inbox consumer
  notified of them, and after the commit their streams are told their inbox changed.

SQLAlchemy signals a savepoint's release and rollback as a commit and a rollback too; those
are skipped: only the outermost transaction's commit makes a change visible to others.

The broker travels on the session's ``info`` (like the queue), so this works for request
sessions and job sessions alike, and nothing in the domain knows of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from taskdesk.domain.live import Change
from taskdesk.live.brokers import Broker, Message
from taskdesk.models import Event, Notification
from taskdesk.queue import JobContext

#: ``session.info`` keys: the broker, the changes flushed, the events the dispatcher handed
#: over, and the inbox messages waiting for the commit.
SESSION_BROKER_KEY = "taskdesk.live.broker"
_CHANGES = "taskdesk.live.changes"
_DISPATCHED = "taskdesk.live.dispatched"
_INBOX = "taskdesk.live.inbox"


@sa_event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context: Any) -> None:
    if SESSION_BROKER_KEY not in session.info:
        return
    # After a flush the new rows have their ids, and ``session.new`` still lists them.
    found = [(row, Change.of(row.id, row.kind, row.project_id, row.task_id, row.data))
             for row in session.new if isinstance(row, Event) and row.project_id is not None]
    if found:
        session.info.setdefault(_CHANGES, []).extend(found)


def note_dispatched(context: JobContext, dbsession: Session, event: Event) -> None:
    """The ``live`` event consumer: remember the event, to find its recipients at commit."""
    if SESSION_BROKER_KEY in dbsession.info:
        dbsession.info.setdefault(_DISPATCHED, set()).add(event.id)


@sa_event.listens_for(Session, "before_commit")
def _find_inbox_changes(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint (SQLAlchemy signals those too): wait for the real commit
    event_ids = session.info.pop(_DISPATCHED, None)
    if not event_ids:
        return
    users = sorted(session.scalars(
        select(Notification.user_id).where(Notification.event_id.in_(event_ids)).distinct()))
    if users:
        session.info[_INBOX] = [{"users": users}]


@sa_event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: nothing is visible to others yet
    changes = session.info.pop(_CHANGES, None)
    inbox: list[Message] = session.info.pop(_INBOX, None) or []
    broker: Broker | None = session.info.get(SESSION_BROKER_KEY)
    if broker is None or not (changes or inbox):
        return
    messages: list[Message] = [
        {"project": change.project_id, "change": change.payload()}
        for row, change in changes or () if inspect(row).persistent
    ]
    messages.extend(inbox)
    if messages:
        broker.publish(messages)


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: its events are left out at commit (no longer persistent)
    for key in (_CHANGES, _DISPATCHED, _INBOX):
        session.info.pop(key, None)
