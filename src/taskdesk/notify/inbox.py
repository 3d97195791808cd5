"""The inbox consumer: one ``Notification`` per person told of an event.

Who is told, and why, is the domain's rule (``taskdesk.domain.recipients``). The rows are
written with ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (event, user): an event
dispatched twice (a worker killed after this ran but before its commit) notifies once.
"""

from __future__ import annotations

from pyramid.config import Configurator
from sqlalchemy.orm import Session

from taskdesk.domain.recipients import comment_id_of, recipients
from taskdesk.models import Event, Notification, insert_missing
from taskdesk.queue import JobContext


def notify_people(context: JobContext, dbsession: Session, event: Event) -> None:
    """Write the inbox entries of ``event``; three statements however many are told."""
    told = recipients(dbsession, event)
    comment_id = comment_id_of(event)
    insert_missing(dbsession, Notification, [
        {"user_id": recipient.user_id, "event_id": event.id, "kind": event.kind,
         "reason": recipient.reason.value, "project_id": event.project_id,
         "task_id": event.task_id, "comment_id": comment_id, "actor_id": event.actor_id,
         "data": event.data or {}, "created_at": event.created_at}
        for recipient in told
    ])


def includeme(config: Configurator) -> None:
    config.add_event_consumer("inbox", notify_people)
