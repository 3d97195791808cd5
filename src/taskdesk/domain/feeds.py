"""The reads behind lists, shared by the web and the API: projects, activity, members,
comments (API tokens: :func:`taskdesk.domain.accounts.list_tokens`).

Each function runs a fixed number of SQL statements whatever the number of rows. Lists across
projects filter by :func:`visible_projects` in SQL; lists inside one project or task trust
the caller to have checked that the viewer may see it.

Lists in id order page by keyset (:mod:`taskdesk.domain.keyset`). The ``tasks_*`` and
``projects_*`` functions read the same lists for many tasks or projects at once, in one
statement (GraphQL's nested fields).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer, holds_role_in, viewer_holds_role, visible_projects
from taskdesk.domain.keyset import window, windows
from taskdesk.domain.links import link_entry_visible
from taskdesk.domain.statistics import open_task_counts
from taskdesk.models import Activity, Comment, Group, Project, ProjectMember, Task, User
from taskdesk.settings import Workflow


@dataclass(frozen=True)
class ProjectSummary:
    id: int
    slug: str
    name: str
    description: str
    visibility: str
    is_archived: bool
    #: The viewer's roles in the project (direct and through groups), sorted.
    roles: tuple[str, ...]
    open_tasks: int


@dataclass(frozen=True)
class ActivityRow:
    """An activity entry with the names it is shown with."""

    id: int
    created_at: datetime
    action: str
    changes: dict[str, Any]
    project_slug: str
    project_name: str
    task_number: int | None
    task_title: str | None
    actor_username: str | None
    actor_name: str | None


@dataclass(frozen=True)
class MemberRow:
    #: The membership's id (the keyset of the id order).
    id: int
    #: ``user:<username>`` or ``group:<name>``, the key of the membership in the tree.
    key: str
    kind: str
    #: The user's display name, or the group's name.
    name: str
    #: The user's username; empty for a group.
    username: str
    is_active: bool
    role: str


@dataclass(frozen=True)
class CommentRow:
    """A comment with its author's names (None for both once the author is deleted)."""

    id: int
    body: str
    author_id: int | None
    author: str | None
    author_name: str | None
    created_at: datetime
    updated_at: datetime
    version: int


def sees_any_project(dbsession: Session, viewer: Viewer) -> bool:
    """Whether ``viewer`` may see at least one project (one cheap EXISTS)."""
    return bool(dbsession.scalar(
        select(exists().select_from(Project).where(visible_projects(viewer)))))


def project_summaries(
    dbsession: Session,
    viewer: Viewer,
    workflow: Workflow,
    *,
    limit: int = 500,
) -> list[ProjectSummary]:
    """The projects ``viewer`` may see, by name, with their roles and open-task counts.

    Three statements: the projects, the viewer's memberships in them, and one grouped count.
    """
    statement = (
        select(Project.id, Project.slug, Project.name, Project.description,
               Project.visibility, Project.is_archived)
        .where(visible_projects(viewer))
        .order_by(Project.is_archived, func.lower(Project.name), Project.id)
        .limit(limit)
    )
    projects = dbsession.execute(statement).all()
    if not projects:
        return []
    ids = [row.id for row in projects]
    roles: dict[int, set[str]] = {}
    for project_id, role in dbsession.execute(
        select(ProjectMember.project_id, ProjectMember.role).where(
            ProjectMember.project_id.in_(ids), viewer_holds_role(viewer)
        )
    ):
        roles.setdefault(project_id, set()).add(role)
    counts = open_task_counts(dbsession, ids, workflow)
    return [
        ProjectSummary(
            id=row.id, slug=row.slug, name=row.name, description=row.description,
            visibility=row.visibility, is_archived=row.is_archived,
            roles=tuple(sorted(roles.get(row.id, ()))), open_tasks=counts.get(row.id, 0),
        )
        for row in projects
    ]


def projects_by_id(dbsession: Session, viewer: Viewer, *, after: int = 0,
                   limit: int | None = None,
                   offset: int = 0) -> list[Project]:
    """The projects ``viewer`` may see, in id order (rows: their ACLs are computed from them).
    :func:`project_summaries` is the same list by name, with roles and counts."""
    statement = select(Project).where(visible_projects(viewer))
    return list(dbsession.scalars(
        window(statement, Project.id, after=after, limit=limit, offset=offset)))


_ACTIVITY = (
    select(
        Activity.id, Activity.created_at, Activity.action, Activity.changes,
        Project.slug, Project.name, Task.number, Task.title,
        User.username, User.display_name,
    )
    .join(Project, Project.id == Activity.project_id)
    .outerjoin(Task, Task.id == Activity.task_id)
    .outerjoin(User, User.id == Activity.actor_id)
)


def activity(
    dbsession: Session,
    viewer: Viewer | None,
    *,
    task_id: int | None = None,
    project_id: int | None = None,
    member_only: bool = False,
    where: Sequence[ColumnElement[bool]] = (),
    newest_first: bool = True,
    after: int = 0,
    limit: int | None = None,
    offset: int = 0,
) -> list[ActivityRow]:
    """Activity entries, in one statement, paged by keyset: newest first (``after``: the
    last, smallest id seen) or oldest first.

    Only projects ``viewer`` may see (None: the caller has checked that it may see the task),
    and only the link entries naming tasks ``viewer`` may see (``domain.links``);
    with ``member_only`` (the dashboard's "my projects") only those where they hold a role
    too. ``task_id`` narrows it to one task (its history), ``project_id`` to one project;
    ``where`` adds conditions on the entries (the feeds' filters, ``domain.activity_feed``).
    """
    statement = _ACTIVITY
    if viewer is not None:
        statement = statement.where(visible_projects(viewer), link_entry_visible(viewer))
    statement = window(statement, Activity.id, after=after, limit=limit, offset=offset,
                       descending=newest_first)
    if member_only:
        if viewer is None:
            raise ValueError("member_only needs a viewer")
        statement = statement.where(holds_role_in(viewer))
    if task_id is not None:
        statement = statement.where(Activity.task_id == task_id)
    if project_id is not None:
        statement = statement.where(Activity.project_id == project_id)
    if where:
        statement = statement.where(*where)
    return [_activity_row(row) for row in dbsession.execute(statement)]


def _activity_row(row: Any) -> ActivityRow:
    return ActivityRow(
        id=row[0], created_at=row[1], action=row[2], changes=row[3] or {},
        project_slug=row[4], project_name=row[5], task_number=row[6], task_title=row[7],
        actor_username=row[8], actor_name=row[9],
    )


def tasks_activity(dbsession: Session, task_ids: Collection[int], *, after: int = 0,
                   limit: int, total: int | None = None) -> dict[int, list[ActivityRow]]:
    """The history of each of ``task_ids``, oldest first, a page of ``limit`` entries after
    ``after`` for each, in one statement (the caller has checked the viewer sees them); at
    most ``total`` entries in all (see :func:`~taskdesk.domain.keyset.windows`)."""
    found: dict[int, list[ActivityRow]] = {task_id: [] for task_id in task_ids}
    if found:
        statement = windows(_ACTIVITY, Activity.task_id, Activity.id, found, after=after,
                            limit=limit, total=total)
        for row in dbsession.execute(statement):
            found[row[-2]].append(_activity_row(row))
    return found


_MEMBERS = (
    select(ProjectMember.id, ProjectMember.role, User.username, User.display_name,
           User.is_active, Group.name)
    .outerjoin(User, User.id == ProjectMember.user_id)
    .outerjoin(Group, Group.id == ProjectMember.group_id)
)


def project_members(dbsession: Session, project_id: int, *, by_name: bool = False,
                    after: int = 0, limit: int | None = None,
                    offset: int = 0) -> list[MemberRow]:
    """The memberships of a project, in one statement: in id order, paged by keyset, or
    ``by_name``: users first, by username, then groups, by name (the whole list)."""
    statement = _MEMBERS.where(ProjectMember.project_id == project_id)
    if by_name:
        if after or limit is not None or offset:
            raise ValueError("paging follows the id order")
        statement = statement.order_by(Group.name.is_not(None), User.username, Group.name)
    else:
        statement = window(statement, ProjectMember.id, after=after, limit=limit,
                           offset=offset)
    return [_member_row(row) for row in dbsession.execute(statement)]


def _member_row(row: Any) -> MemberRow:
    membership_id, role, username, display_name, is_active, group_name = row[:6]
    if username is not None:
        return MemberRow(membership_id, f"user:{username}", "user", display_name, username,
                         is_active, role)
    return MemberRow(membership_id, f"group:{group_name}", "group", group_name, "", True, role)


def projects_members(dbsession: Session, project_ids: Collection[int], *, after: int = 0,
                     limit: int, total: int | None = None) -> dict[int, list[MemberRow]]:
    """The memberships of each of ``project_ids`` in id order, a page of ``limit`` after
    ``after`` for each, in one statement; at most ``total`` in all."""
    found: dict[int, list[MemberRow]] = {project_id: [] for project_id in project_ids}
    if found:
        statement = windows(_MEMBERS, ProjectMember.project_id, ProjectMember.id, found,
                            after=after, limit=limit, total=total)
        for row in dbsession.execute(statement):
            found[row[-2]].append(_member_row(row))
    return found


_COMMENTS = (
    select(Comment.id, Comment.body, Comment.author_id, User.username, User.display_name,
           Comment.created_at, Comment.updated_at, Comment.version)
    .outerjoin(User, User.id == Comment.author_id)
)


def task_comments(dbsession: Session, task_id: int, *, after: int = 0,
                  limit: int | None = None, offset: int = 0) -> list[CommentRow]:
    """A task's comments, oldest first, with their authors' names, in one statement."""
    statement = _COMMENTS.where(Comment.task_id == task_id)
    return [CommentRow(*row) for row in dbsession.execute(
        window(statement, Comment.id, after=after, limit=limit, offset=offset))]


def tasks_comments(dbsession: Session, task_ids: Collection[int], *, after: int = 0,
                   limit: int, newest_first: bool = False,
                   total: int | None = None) -> dict[int, list[CommentRow]]:
    """The comments of each of ``task_ids``, oldest first (or ``newest_first``: "the last
    three comments"), a page of ``limit`` after ``after`` for each, in one statement; at
    most ``total`` in all."""
    found: dict[int, list[CommentRow]] = {task_id: [] for task_id in task_ids}
    if found:
        statement = windows(_COMMENTS, Comment.task_id, Comment.id, found, after=after,
                            limit=limit, descending=newest_first, total=total)
        for row in dbsession.execute(statement):
            found[row[-2]].append(CommentRow(*row[:-2]))
    return found
