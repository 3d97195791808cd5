"""What e-mail has to tell each person: their notifications not mailed yet on a mail channel.

A notification is mailed when its reason's channel (see :mod:`taskdesk.domain.preferences`)
is ``email`` (soon, several in one mail) or ``digest`` (once a day); ``mailed_at`` records
that it was handled. The rows are read with the recipient's permissions, now: a
notification about a project the recipient can no longer see comes back with ``visible``
False, and so does one about the recipient's own action; the mailer marks those handled
without telling anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from taskdesk.domain.access import Viewer, visible_projects
from taskdesk.domain.preferences import Channel, channel_column, preference_join
from taskdesk.models import Comment, Notification, NotificationPreference, Project, Task, User


@dataclass(frozen=True)
class PendingRecipient:
    """Someone with notifications waiting for a mail on one channel."""

    user_id: int
    #: When the oldest of them arrived (UTC).
    oldest: datetime
    #: Their own time zone name, or None for the site's.
    time_zone: str | None


@dataclass(frozen=True)
class MailItem:
    """One notification as a mail shows it, re-read now with the recipient's permissions."""

    id: int
    kind: str
    reason: str
    created_at: datetime
    data: dict[str, Any]
    #: False: the recipient may no longer see it (or caused it); not to be told.
    visible: bool
    project_slug: str | None
    project_name: str | None
    task_number: int | None
    task_title: str | None
    due_date: Any
    comment_id: int | None
    #: The comment's current text (None when it is gone).
    comment_body: str | None
    actor_name: str | None


def _pending(channel: Channel, since: datetime) -> Any:
    return (
        select(Notification)
        .outerjoin(NotificationPreference, preference_join())
        .where(Notification.mailed_at.is_(None), Notification.created_at >= since,
               channel_column() == channel.value)
    )


def pending_recipients(dbsession: Session, channel: Channel, *,
                       since: datetime) -> list[PendingRecipient]:
    """Everyone with notifications on ``channel`` not mailed yet that arrived after
    ``since``, with the arrival of their oldest; one statement."""
    pending = _pending(channel, since).subquery()
    rows = dbsession.execute(
        select(pending.c.user_id, func.min(pending.c.created_at), User.time_zone)
        .join(User, User.id == pending.c.user_id)
        .group_by(pending.c.user_id, User.time_zone)
        .order_by(pending.c.user_id)
    )
    return [PendingRecipient(user_id, oldest, zone) for user_id, oldest, zone in rows]


def pending_items(dbsession: Session, user: User, channel: Channel, *, since: datetime,
                  until: datetime | None = None) -> list[MailItem]:
    """``user``'s notifications on ``channel`` not mailed yet (arrived after ``since`` and,
    if given, before ``until``), oldest first, with what a mail shows of each.

    On PostgreSQL the rows are locked (others skipped): two workers mailing at once do not
    send the same notifications twice.
    """
    actor = aliased(User)
    seen = visible_projects(Viewer(user.id, user.is_site_admin))
    not_own = or_(Notification.actor_id.is_(None), Notification.actor_id != user.id)
    visible = case((and_(Project.id.is_not(None), seen, not_own), True), else_=false())
    statement = (
        select(
            Notification.id, Notification.kind, Notification.reason, Notification.created_at,
            Notification.data, visible, Project.slug, Project.name, Task.number, Task.title,
            Task.due_date, Notification.comment_id, Comment.body, actor.display_name,
        )
        .outerjoin(NotificationPreference, preference_join())
        .outerjoin(Project, Project.id == Notification.project_id)
        .outerjoin(Task, Task.id == Notification.task_id)
        .outerjoin(Comment, Comment.id == Notification.comment_id)
        .outerjoin(actor, actor.id == Notification.actor_id)
        .where(Notification.user_id == literal(user.id), Notification.mailed_at.is_(None),
               Notification.created_at >= since, channel_column() == channel.value)
        .order_by(Notification.id)
    )
    if until is not None:
        statement = statement.where(Notification.created_at < until)
    if dbsession.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(of=Notification, skip_locked=True)
    return [
        MailItem(id=row[0], kind=row[1], reason=row[2], created_at=row[3], data=row[4] or {},
                 visible=bool(row[5]), project_slug=row[6], project_name=row[7],
                 task_number=row[8], task_title=row[9], due_date=row[10], comment_id=row[11],
                 comment_body=row[12], actor_name=row[13])
        for row in dbsession.execute(statement)
    ]


def mark_mailed(dbsession: Session, notification_ids: Iterable[int], now: datetime) -> None:
    """Record that these notifications were handled by e-mail (sent, or not to be sent)."""
    ids = sorted(set(notification_ids))
    if ids:
        dbsession.execute(
            update(Notification).where(Notification.id.in_(ids), Notification.mailed_at.is_(None))
            .values(mailed_at=now),
            execution_options={"synchronize_session": False},
        )
