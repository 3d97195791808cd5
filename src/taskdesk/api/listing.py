"""Keyset-paged reads behind the API's lists other than tasks (those come from
:func:`taskdesk.domain.task_list.list_tasks`).

Each list is ordered by id and pages after the last id seen; each statement is built once at
import time and takes the varying values as bound parameters. Each answer holds at most
``limit + 1`` rows: the extra one tells whether a next page exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, Integer, bindparam, select
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer, visible_projects
from taskdesk.models import Activity, ApiToken, Comment, Group, Project, ProjectMember, User

_after: BindParameter[int] = bindparam("after", type_=Integer)
_limit: BindParameter[int] = bindparam("limit", type_=Integer)
_offset: BindParameter[int] = bindparam("offset", type_=Integer)

_COMMENTS = (
    select(Comment.id, Comment.body, Comment.author_id, Comment.created_at,
           Comment.updated_at, Comment.version, User.username.label("author"),
           User.display_name.label("author_name"))
    .outerjoin(User, User.id == Comment.author_id)
    .where(Comment.task_id == bindparam("task_id"), Comment.id > _after)
    .order_by(Comment.id).limit(_limit).offset(_offset)
)

_ACTIVITY = (
    select(Activity.id, Activity.action, Activity.changes, Activity.created_at,
           User.username.label("actor"))
    .outerjoin(User, User.id == Activity.actor_id)
    .where(Activity.task_id == bindparam("task_id"), Activity.id > _after)
    .order_by(Activity.id).limit(_limit).offset(_offset)
)

_MEMBERS = (
    select(ProjectMember.id, ProjectMember.role, User.username, User.display_name,
           Group.name.label("group_name"))
    .outerjoin(User, User.id == ProjectMember.user_id)
    .outerjoin(Group, Group.id == ProjectMember.group_id)
    .where(ProjectMember.project_id == bindparam("project_id"), ProjectMember.id > _after)
    .order_by(ProjectMember.id).limit(_limit).offset(_offset)
)

_TOKENS = (
    select(ApiToken)
    .where(ApiToken.user_id == bindparam("user_id"), ApiToken.id > _after)
    .order_by(ApiToken.id).limit(_limit).offset(_offset)
)


def _window(after: int, limit: int, offset: int) -> dict[str, int]:
    return {"after": after, "limit": limit + 1, "offset": offset}


def projects(dbsession: Session, viewer: Viewer, after: int, limit: int,
             offset: int) -> Sequence[Project]:
    """The projects ``viewer`` may see (rows: their ACLs are computed from them)."""
    statement = (
        select(Project).where(visible_projects(viewer), Project.id > after)
        .order_by(Project.id).limit(limit + 1).offset(offset)
    )
    return dbsession.scalars(statement).all()


def comments(dbsession: Session, task_id: int, after: int, limit: int,
             offset: int) -> Sequence[Any]:
    return dbsession.execute(
        _COMMENTS, {"task_id": task_id, **_window(after, limit, offset)}
    ).all()


def activity(dbsession: Session, task_id: int, after: int, limit: int,
             offset: int) -> Sequence[Any]:
    return dbsession.execute(
        _ACTIVITY, {"task_id": task_id, **_window(after, limit, offset)}
    ).all()


def members(dbsession: Session, project_id: int, after: int, limit: int,
            offset: int) -> Sequence[Any]:
    return dbsession.execute(
        _MEMBERS, {"project_id": project_id, **_window(after, limit, offset)}
    ).all()


def tokens(dbsession: Session, user_id: int, after: int, limit: int,
           offset: int) -> Sequence[ApiToken]:
    return dbsession.scalars(
        _TOKENS, {"user_id": user_id, **_window(after, limit, offset)}
    ).all()
