"""The people picker's suggestions: compact JSON for what was typed (``?q=``).

Each suggestion view serves one form and requires that form's permission; it lists only
people that form would accept, so it shows nobody the caller could not find by using it:

* ``<project>/assignable`` (``assign``): people who may be assigned in the project (the
  task form, the task page's "Assign to").
* ``<project>/assignees`` (``view``): people assigned to a task of the project, whom every
  reader of its task list sees there already (the list's and the board's filter).
* ``<project>/mentionable`` (``view``): people who may see the project, whom an
  ``@mention`` in its tasks can reach (the comment box and the description field).
* ``<project>/members/candidates`` (``manage_members``): any active person, to add.
* ``admin/groups/<id>/candidates`` (``administer``): any active person, to add.

E-mail addresses are shown, and matched, only for site admins: nobody else sees them in the
UI. An empty ``q`` finds nobody, so no view lists a directory.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from sqlalchemy import ColumnElement

from taskdesk.domain.access import may_be_assigned
from taskdesk.domain.people import assigned_in, find_people
from taskdesk.resources import GroupResource, MemberContainer, ProjectResource
from taskdesk.security.permissions import Permission
from taskdesk.web.declare import web_view


def _suggestions(request: Request, among: ColumnElement[bool] | None = None) -> dict[str, Any]:
    with_email = bool(request.has_permission(Permission.ADMINISTER, request.root))
    people = find_people(request.dbsession, request.GET.get("q", ""), among=among,
                         match_email=with_email)
    # Personal data answering a search: neither a browser nor a proxy keeps it.
    request.response.cache_control = "private, no-store"
    return {"people": [
        {"username": person.username, "display_name": person.display_name,
         **({"email": person.email} if with_email else {})}
        for person in people
    ]}


@web_view(context=ProjectResource, name="assignable", renderer="json",
          permission=Permission.ASSIGN, request_method="GET")
def people_assignable(context: ProjectResource, request: Request) -> dict[str, Any]:
    return _suggestions(request, may_be_assigned(context.row.id))


@web_view(context=ProjectResource, name="assignees", renderer="json",
          permission=Permission.VIEW, request_method="GET")
def people_assignees(context: ProjectResource, request: Request) -> dict[str, Any]:
    return _suggestions(request, assigned_in(context.row.id))


@web_view(context=ProjectResource, name="mentionable", renderer="json",
          permission=Permission.VIEW, request_method="GET")
def people_mentionable(context: ProjectResource, request: Request) -> dict[str, Any]:
    # The people who may be assigned are exactly the active people who may see the project.
    return _suggestions(request, may_be_assigned(context.row.id))


@web_view(context=MemberContainer, name="candidates", renderer="json",
          permission=Permission.MANAGE_MEMBERS, request_method="GET")
def people_member_candidates(context: MemberContainer, request: Request) -> dict[str, Any]:
    return _suggestions(request)


@web_view(context=GroupResource, name="candidates", renderer="json",
          permission=Permission.ADMINISTER, request_method="GET")
def people_group_candidates(context: GroupResource, request: Request) -> dict[str, Any]:
    return _suggestions(request)
