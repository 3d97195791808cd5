"""Who may see what, as SQL: lists filter rows in the database, never in Python."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, literal, or_, select, true

from taskdesk.models import GroupMember, Project, ProjectMember


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


def visible_to_member(user_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Projects a signed-in user who is not a site admin may see: internal ones and those
    they are a member of, directly or through a group. ``user_id`` may be a bound parameter,
    so that statements using it can be built once."""
    my_groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    member_of = select(ProjectMember.project_id).where(
        or_(ProjectMember.user_id == user_id, ProjectMember.group_id.in_(my_groups))
    )
    return or_(Project.visibility == "internal", Project.id.in_(member_of))
