"""Read models for pages: the projects list, activity feeds, members and comments.

Each function runs a fixed number of SQL statements whatever the number of rows. Lists across
projects filter by :func:`visible_projects` in SQL; lists inside one project or task trust
the caller to have checked that the viewer may see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from taskdesk.domain.access import Viewer, visible_projects
from taskdesk.domain.statistics import open_task_counts
from taskdesk.models import (
    Activity,
    Comment,
    Group,
    GroupMember,
    Project,
    ProjectMember,
    Task,
    User,
)
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
    #: ``user:<username>`` or ``group:<name>``, the key of the membership in the tree.
    key: str
    kind: str
    name: str
    username: str
    is_active: bool
    role: str


def _membership_of(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ProjectMember: rows giving ``viewer`` a role, directly or by group."""
    if viewer.user_id is None:
        return false()
    my_groups = select(GroupMember.group_id).where(GroupMember.user_id == viewer.user_id)
    return or_(ProjectMember.user_id == viewer.user_id, ProjectMember.group_id.in_(my_groups))


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
            ProjectMember.project_id.in_(ids), _membership_of(viewer)
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


def recent_activity(
    dbsession: Session,
    viewer: Viewer,
    *,
    task_id: int | None = None,
    member_only: bool = True,
    limit: int = 20,
) -> list[ActivityRow]:
    """The latest activity entries, newest first, in one statement.

    Only projects ``viewer`` may see; with ``member_only`` (the dashboard's "my projects")
    only those where they hold a role too. ``task_id`` narrows it to one task (its history).
    """
    statement = (
        select(
            Activity.id, Activity.created_at, Activity.action, Activity.changes,
            Project.slug, Project.name, Task.number, Task.title,
            User.username, User.display_name,
        )
        .join(Project, Project.id == Activity.project_id)
        .outerjoin(Task, Task.id == Activity.task_id)
        .outerjoin(User, User.id == Activity.actor_id)
        .where(visible_projects(viewer))
        .order_by(Activity.id.desc())
        .limit(limit)
    )
    if member_only:
        statement = statement.where(
            Project.id.in_(select(ProjectMember.project_id).where(_membership_of(viewer)))
        )
    if task_id is not None:
        statement = statement.where(Activity.task_id == task_id)
    return [
        ActivityRow(
            id=row[0], created_at=row[1], action=row[2], changes=row[3] or {},
            project_slug=row[4], project_name=row[5], task_number=row[6], task_title=row[7],
            actor_username=row[8], actor_name=row[9],
        )
        for row in dbsession.execute(statement)
    ]


def project_members(dbsession: Session, project_id: int) -> list[MemberRow]:
    """Every membership of a project, users first, then groups, in one statement."""
    rows = dbsession.execute(
        select(ProjectMember.role, User.username, User.display_name, User.is_active, Group.name)
        .outerjoin(User, User.id == ProjectMember.user_id)
        .outerjoin(Group, Group.id == ProjectMember.group_id)
        .where(ProjectMember.project_id == project_id)
        .order_by(Group.name.is_not(None), User.username, Group.name)
    )
    members = []
    for role, username, display_name, is_active, group_name in rows:
        if username is not None:
            members.append(MemberRow(f"user:{username}", "user", display_name, username,
                                     is_active, role))
        else:
            members.append(MemberRow(f"group:{group_name}", "group", group_name, "", True,
                                     role))
    return members


def task_comments(dbsession: Session, task_id: int) -> list[Comment]:
    """A task's comments, oldest first, with their authors, in one statement."""
    return list(dbsession.scalars(
        select(Comment).options(joinedload(Comment.author))
        .where(Comment.task_id == task_id).order_by(Comment.id)
    ))
