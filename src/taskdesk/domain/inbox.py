"""The in-app inbox: reading a person's notifications, and marking them read.

Rows are written by the notification consumer (one per event and recipient); here they are
only read and marked. Every read keeps what the reader may still see, in SQL, by the rules
of :mod:`taskdesk.domain.access`: a notification about a task that is gone or in a project
the reader left (or that turned private) is not shown, nor counted.

The web inbox shows *entries*: all notifications about one task make one entry (several
changes read as one line), newest entry first; a notification about no task (e.g. being
added to a project) is an entry of its own. An entry's key is the task id, or minus the
notification id for one about no task (:data:`entry_key`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import zope.sqlalchemy
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased, join

from taskdesk.domain.access import Viewer, visible_projects, visible_to_member
from taskdesk.domain.keyset import window
from taskdesk.models import Notification, Project, Task, User, read_rows
from taskdesk.models.meta import utcnow

#: The entry a notification belongs to: its task, or itself when it is about no task.
entry_key: ColumnElement[int] = func.coalesce(Notification.task_id, -Notification.id)
#: The bell shows "99+" past this many unread entries (counting stops there).
COUNT_CAP = 99
#: The newest notifications an entry lists (its totals count them all).
ITEMS_PER_ENTRY = 10
#: At most this many ids in one "mark these read" request.
MAX_IDS = 500


def _readable(viewer: Viewer) -> tuple[Any, ColumnElement[bool]]:
    """The joins and the WHERE clause keeping ``viewer``'s notifications they may still see:
    the task still exists, and its project is one they may see."""
    assert viewer.user_id is not None
    return _readable_by(literal(viewer.user_id), visible_projects(viewer))


def _readable_by(
    user_id: ColumnElement[int], visible: ColumnElement[bool]
) -> tuple[Any, ColumnElement[bool]]:
    """:func:`_readable` for the user ``user_id`` (a value or a bound parameter) who may see
    the projects ``visible`` keeps."""
    joined = (
        join(Notification, Task, Task.id == Notification.task_id, isouter=True)
        .join(Project, Project.id == func.coalesce(Task.project_id, Notification.project_id),
              isouter=True)
    )
    where = and_(
        Notification.user_id == user_id,
        or_(Notification.task_id.is_(None), Task.id.is_not(None)),
        or_(and_(Notification.task_id.is_(None), Notification.project_id.is_(None)),
            and_(Project.id.is_not(None), visible)),
    )
    return joined, where


@cache
def _unread_count_statement(site_admin: bool) -> Select[Any]:
    """:func:`unread_count`'s statement, built once per kind of viewer: every page's header
    runs it, and building it cost more than running it."""
    user_id = bindparam("user_id", type_=Integer)
    joined, where = _readable_by(user_id, true() if site_admin else visible_to_member(user_id))
    keys = (select(entry_key.label("key")).select_from(joined)
            .where(where, Notification.read_at.is_(None)).distinct()
            .limit(bindparam("cap_end", type_=Integer)))
    return select(func.count()).select_from(keys.subquery())


def unread_count(dbsession: Session, viewer: Viewer, *, cap: int = COUNT_CAP) -> int:
    """How many entries hold an unread notification the viewer may see, counting at most
    ``cap + 1`` (one statement; the bell in the header)."""
    if viewer.user_id is None:
        return 0
    statement = _unread_count_statement(viewer.is_site_admin)
    return int(read_rows(dbsession, statement, {
        "user_id": viewer.user_id, "cap_end": cap + 1}).scalar_one())


@dataclass(frozen=True)
class InboxItem:
    """One notification, as the inbox and the API show it."""

    id: int
    kind: str
    reason: str
    project_id: int | None
    task_id: int | None
    comment_id: int | None
    actor_username: str | None
    actor_name: str | None
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    project_slug: str | None = None
    project_name: str | None = None
    task_number: int | None = None
    task_title: str | None = None


@dataclass(frozen=True)
class InboxEntry:
    """The notifications about one task (or one about no task), newest first."""

    key: int
    last_id: int
    total: int
    unread: int
    #: How many different people caused them (someone deleted counts as one).
    actors: int
    project_slug: str | None
    project_name: str | None
    task_number: int | None
    task_title: str | None
    items: list[InboxItem] = field(default_factory=list)

    @property
    def newest(self) -> InboxItem:
        return self.items[0]


def entries(dbsession: Session, viewer: Viewer, *, unread_only: bool = False, after: int = 0,
            limit: int) -> list[InboxEntry]:
    """A page of the viewer's inbox entries, the one with the newest notification first:
    those whose newest notification id is below ``after`` (0: from the top); ``limit``
    (ask for one more to know whether a next page exists). Two statements: the entries,
    then their newest :data:`ITEMS_PER_ENTRY` notifications."""
    if viewer.user_id is None:
        return []
    joined, where = _readable(viewer)
    groups = (
        select(
            entry_key.label("key"),
            func.max(Notification.id).label("last_id"),
            func.count().label("total"),
            func.sum(case((Notification.read_at.is_(None), 1), else_=0)).label("unread"),
            func.count(distinct(func.coalesce(Notification.actor_id, 0))).label("actors"),
            func.max(Notification.task_id).label("task_id"),
            func.max(Project.id).label("project_id"),
        )
        .select_from(joined).where(where).group_by(entry_key)
        .subquery()
    )
    task, project = aliased(Task), aliased(Project)
    statement = (
        select(groups, task.number, task.title, project.slug, project.name)
        .outerjoin(task, task.id == groups.c.task_id)
        .outerjoin(project, project.id == groups.c.project_id)
    )
    if unread_only:
        statement = statement.where(groups.c.unread > 0)
    statement = window(statement, groups.c.last_id, after=after, limit=limit, offset=0,
                       descending=True)
    found = [
        InboxEntry(row.key, row.last_id, row.total, row.unread, row.actors, row.slug,
                   row.name, row.number, row.title)
        for row in dbsession.execute(statement)
    ]
    if not found:
        return found
    by_key = {entry.key: entry for entry in found}
    rank = func.row_number().over(partition_by=entry_key, order_by=Notification.id.desc())
    newest = (
        select(*_ITEM_COLUMNS, entry_key.label("key"), rank.label("rank"))
        .outerjoin(User, User.id == Notification.actor_id)
        .where(Notification.user_id == viewer.user_id, entry_key.in_(list(by_key)))
        .subquery()
    )
    rows = dbsession.execute(
        select(newest).where(newest.c.rank <= ITEMS_PER_ENTRY).order_by(newest.c.id.desc()))
    for row in rows:
        by_key[row.key].items.append(_item(row))
    return found


_ITEM_COLUMNS = (
    Notification.id, Notification.kind, Notification.reason, Notification.project_id,
    Notification.task_id, Notification.comment_id, User.username.label("actor_username"),
    User.display_name.label("actor_name"), Notification.data, Notification.created_at,
    Notification.read_at,
)


def _item(row: Any, **more: Any) -> InboxItem:
    return InboxItem(row.id, row.kind, row.reason, row.project_id, row.task_id, row.comment_id,
                     row.actor_username, row.actor_name, row.data or {}, row.created_at,
                     row.read_at, **more)


def notifications(dbsession: Session, viewer: Viewer, *, unread_only: bool = False,
                  after: int = 0, limit: int, offset: int = 0) -> list[InboxItem]:
    """The viewer's notifications one by one, newest first, with their task and project
    (the API's list): ids below ``after`` (0: from the newest); one statement."""
    if viewer.user_id is None:
        return []
    joined, where = _readable(viewer)
    statement = (
        select(*_ITEM_COLUMNS, Project.slug, Project.name, Task.number, Task.title)
        .select_from(joined).outerjoin(User, User.id == Notification.actor_id).where(where)
    )
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    statement = window(statement, Notification.id, after=after, limit=limit, offset=offset,
                       descending=True)
    return [_item(row, project_slug=row.slug, project_name=row.name, task_number=row.number,
                  task_title=row.title) for row in dbsession.execute(statement)]


def entry_target(dbsession: Session, viewer: Viewer, key: int) -> InboxItem | None:
    """The newest notification of the viewer's entry ``key`` that they may see, with its
    task and project (where "open" leads), or None."""
    if viewer.user_id is None:
        return None
    joined, where = _readable(viewer)
    row = dbsession.execute(
        select(*_ITEM_COLUMNS, Project.slug, Project.name, Task.number, Task.title)
        .select_from(joined).outerjoin(User, User.id == Notification.actor_id)
        .where(where, entry_key == key).order_by(Notification.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return _item(row, project_slug=row.slug, project_name=row.name, task_number=row.number,
                 task_title=row.title)


def mark_read(dbsession: Session, user_id: int, *, entry: int | None = None,
              ids: Sequence[int] | None = None) -> int:
    """Mark the user's unread notifications read: all of them, those of one entry, or those
    with the given ids (ids of other people's notifications are ignored). One UPDATE;
    returns how many changed."""
    condition: ColumnElement[bool] = true()
    if entry is not None:
        condition = entry_key == entry
    if ids is not None:
        condition = and_(condition, Notification.id.in_(list(ids)) if ids else literal(False))
    result = dbsession.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None), condition)
        .values(read_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    zope.sqlalchemy.mark_changed(dbsession)
    return int(getattr(result, "rowcount", 0) or 0)
