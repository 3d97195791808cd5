"""A project's members: list, show, give a role (PUT), remove (DELETE)."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api import conditional
from taskdesk.api.operations import api_view
from taskdesk.api.paging import id_page, next_url, page, simple_list
from taskdesk.api.rendering import json_body
from taskdesk.api.representations import Urls, member_json
from taskdesk.api.support import actor, created, no_content, settings
from taskdesk.domain.feeds import project_members
from taskdesk.domain.projects import find_membership, remove_member, set_member
from taskdesk.domain.schemas import member_schema
from taskdesk.models import ProjectMember, User
from taskdesk.resources import MemberContainer, MemberResource
from taskdesk.security.actions import actions_in
from taskdesk.security.permissions import Permission
from taskdesk.settings import TaskdeskSettings


def membership_schema(task_settings: TaskdeskSettings) -> Any:
    return member_schema(tuple(task_settings.roles))


def _membership(request: Request, member: MemberResource) -> ProjectMember | None:
    return find_membership(request.dbsession, member.project.row.id, member.principal)


def _body(request: Request, member: MemberResource, role: str) -> dict[str, Any]:
    principal = member.principal
    if isinstance(principal, User):
        kind, name, display = "user", principal.username, principal.display_name
    else:
        kind, name, display = "group", principal.name, principal.name
    return member_json(Urls(request), member.project.row.slug, kind, name, display, role,
                       actions_in(request, member.__parent__, MemberResource))


def _state(membership: ProjectMember) -> str:
    return conditional.state("member", membership.id, membership.role)


@api_view(context=MemberContainer, method="GET", permission=Permission.VIEW,
          summary="A project's members (users and groups) and their roles",
          response="MemberList", query="page", conditional=True)
def member_list(context: MemberContainer, request: Request) -> Response:
    params, paging_, after = simple_list(request)
    rows, cursor = id_page(
        project_members(request.dbsession, context.project.row.id, after=after,
                        limit=paging_.limit + 1, offset=paging_.offset),
        paging_,
    )
    urls = Urls(request)
    slug = context.project.row.slug
    allowed = actions_in(request, context, MemberResource)
    items = [
        member_json(urls, slug, row.kind, row.username or row.name, row.name, row.role, allowed)
        for row in rows
    ]
    return page(request, items, next_url(request, params, paging_, cursor))


@api_view(context=MemberResource, method="GET", permission=Permission.VIEW,
          summary="One member's role", response="Member", conditional=True)
def member_show(context: MemberResource, request: Request) -> dict[str, Any] | Response:
    membership = _membership(request, context)
    if membership is None:
        raise HTTPNotFound()
    return conditional.respond(request, _body(request, context, membership.role),
                               _state(membership))


@api_view(context=MemberResource, method="PUT", permission=Permission.MANAGE_MEMBERS,
          summary="Give a user or group a role in the project (201 when new)",
          response="Member", body=membership_schema, may_create=True, conditional=True)
def member_put(context: MemberResource, request: Request) -> dict[str, Any]:
    data = json_body(request)
    current = _membership(request, context)
    if current is not None:
        conditional.check_if_match(request, _state(current))
    membership, is_new = set_member(request.dbsession, settings(request), context.project.entity(),
                                    context.principal, actor(request), data, strict=True)
    body = conditional.tagged(request, _body(request, context, membership.role),
                              _state(membership))
    return created(request, body, body["url"]) if is_new else body


@api_view(context=MemberResource, method="DELETE", permission=Permission.MANAGE_MEMBERS,
          summary="Remove a user's or group's role", response=None, status=204,
          conditional=True)
def member_delete(context: MemberResource, request: Request) -> Response:
    current = _membership(request, context)
    if current is None:
        raise HTTPNotFound()
    conditional.check_if_match(request, _state(current))
    remove_member(request.dbsession, context.project.entity(), context.principal, actor(request))
    return no_content()


