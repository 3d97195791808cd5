"""Project members: list; add a user or group with a role, change a role, remove."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain.errors import DomainError, ValidationError
from taskdesk.domain.feeds import project_members
from taskdesk.domain.people import resolve_person
from taskdesk.domain.projects import remove_member, set_member
from taskdesk.messages import _
from taskdesk.models import Group, User
from taskdesk.resources import MemberContainer, MemberResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view
from taskdesk.web.forms import confirmation, confirmed, flash, form_errors, redirect, refuse
from taskdesk.web.helpers import Helpers


def _page(request: Request, container: MemberContainer, values: dict[str, str],
          errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "nav": "projects",
        "tab": "members",
        "project": container.project.row,
        "members": project_members(request.dbsession, container.project.row.id, by_name=True),
        "roles": tuple(settings_of(request.registry).roles),
        "can_manage": request.has_permission(Permission.MANAGE_MEMBERS, container),
        "values": values,
        "errors": errors,
    }


@web_view(context=MemberContainer, renderer="projects/members.jinja2",
          permission=Permission.VIEW, request_method="GET")
def member_list(context: MemberContainer, request: Request) -> dict[str, Any]:
    return _page(request, context, {"kind": "user", "name": "", "role": "member"}, {})


@web_view(context=MemberContainer, renderer="projects/members.jinja2",
          permission=Permission.MANAGE_MEMBERS, request_method="POST")
def member_add(context: MemberContainer, request: Request) -> Any:
    values = {key: request.POST.get(key, "").strip() for key in ("kind", "name", "role")}
    kind = values["kind"] if values["kind"] in ("user", "group") else "user"
    principal: User | Group
    try:
        if kind == "user":
            principal = resolve_person(request.dbsession, values["name"], field="name")
        else:
            principal = context[f"group:{values['name'].lower()}"].principal
    except ValidationError as error:
        refuse(request)
        return _page(request, context, values, form_errors(error))
    except KeyError:
        refuse(request)
        return _page(request, context, values, {"name": _("No group with this name.")})
    try:
        _membership, created = set_member(
            request.dbsession, settings_of(request.registry), context.project.entity(),
            principal, signed_in(request).user, {"role": values["role"]},
        )
    except DomainError as error:
        refuse(request)
        errors = form_errors(error)
        if "principal" in errors:
            errors["name"] = errors.pop("principal")
        return _page(request, context, values, errors)
    name = principal.display_name if isinstance(principal, User) else principal.name
    mapping = {"name": name, "role": Helpers(request).role(values["role"])}
    if created:
        flash(request, _("${name} added as ${role}.", mapping=mapping))
    else:
        flash(request, _("${name} is now ${role}.", mapping=mapping))
    return redirect(request, context)


@web_view(context=MemberResource, permission=Permission.MANAGE_MEMBERS,
          request_method="POST")
def member_change(context: MemberResource, request: Request) -> HTTPSeeOther:
    try:
        set_member(request.dbsession, settings_of(request.registry), context.project.entity(),
                   context.principal, signed_in(request).user, {"role": request.POST.get("role")})
    except DomainError as error:
        for message in form_errors(error).values():
            flash(request, message, "error")
    else:
        flash(request, _("Role changed."))
    return redirect(request, context.__parent__)


@web_view(context=MemberResource, name="remove", permission=Permission.MANAGE_MEMBERS,
          request_method="POST")
def member_remove(context: MemberResource, request: Request) -> Response:
    if not confirmed(request):
        principal = context.principal
        name = principal.display_name if isinstance(principal, User) else principal.name
        return confirmation(
            request, nav="projects",
            title=_("Remove ${name} from ${project}?", mapping={
                "name": name, "project": context.project.row.name}),
            message=_("Their role in this project ends at once: a private project is then "
                      "hidden from them. You can add them again later."),
            button=_("Remove member"), cancel_url=request.resource_url(context.__parent__))
    try:
        removed = remove_member(request.dbsession, context.project.entity(), context.principal,
                                signed_in(request).user)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        if removed:
            flash(request, _("Member removed."))
    return redirect(request, context.__parent__)
