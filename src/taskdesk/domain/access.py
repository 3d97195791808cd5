"""Who may see what, as SQL: lists filter rows in the database, never in Python."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, false, literal, or_, select, true

from taskdesk.models import GroupMember, Project, ProjectMember, User


@dataclass(frozen=True)
class Viewer:
    """The person a list is for: a user id, or None for anonymous, and the admin flag."""

    user_id: int | None
    is_site_admin: bool = False


def visible_projects(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ``Project`` keeping the projects ``viewer`` may see."""
    if viewer.is_site_admin:
        return true()
    if viewer.user_id is None:
        return Project.id.is_(None)
    return visible_to_member(literal(viewer.user_id))


def holds_role(user_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The membership rule, a WHERE clause on ``ProjectMember``: the rows giving ``user_id`` a
    role, directly or through one of their groups. ``user_id`` may be a bound parameter or a
    column of an enclosing query (``User.id``)."""
    # ``correlate_except``: a ``user_id`` from an enclosing query refers to that query's row,
    # however deeply this clause is nested.
    my_groups = (
        select(GroupMember.group_id).where(GroupMember.user_id == user_id)
        .correlate_except(GroupMember)
    )
    return or_(ProjectMember.user_id == user_id, ProjectMember.group_id.in_(my_groups))


def member_projects(user_id: ColumnElement[int]) -> Select[int]:
    """The ids of the projects ``user_id`` holds a role in (see :func:`holds_role`)."""
    return (
        select(ProjectMember.project_id).where(holds_role(user_id))
        .correlate_except(ProjectMember)
    )


def visible_to_member(user_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Projects a signed-in user who is not a site admin may see: internal ones and those
    they are a member of, directly or through a group. ``user_id`` may be a bound parameter,
    so that statements using it can be built once."""
    return or_(Project.visibility == "internal", Project.id.in_(member_projects(user_id)))


def may_be_assigned(project_id: int) -> ColumnElement[bool]:
    """A WHERE clause on ``User`` keeping the people who may be assigned tasks in the
    project: active users who may see it (site admins, and the users ``visible_to_member``
    lets in: everyone for an internal project, its members directly or through a group)."""
    return and_(User.is_active.is_(True), may_view_project(project_id))


def may_view_project(project_id: int) -> ColumnElement[bool]:
    """A WHERE clause on ``User`` keeping the people who may see the project (and its tasks)
    now: site admins, and the users :func:`visible_to_member` lets in. Active or not: callers
    that need active users say so."""
    sees_project = exists().where(Project.id == project_id,
                                  visible_to_member(User.id.expression))
    return or_(User.is_site_admin.is_(True), sees_project)


def viewer_holds_role(viewer: Viewer) -> ColumnElement[bool]:
    """:func:`holds_role` for ``viewer`` (anonymous holds none)."""
    if viewer.user_id is None:
        return false()
    return holds_role(literal(viewer.user_id))


def holds_role_in(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ``Project`` keeping the projects ``viewer`` holds a role in ("my
    projects"), directly or through a group."""
    return Project.id.in_(select(ProjectMember.project_id).where(viewer_holds_role(viewer)))
