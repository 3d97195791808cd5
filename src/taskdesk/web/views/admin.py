"""Site administration (site admins only): users and groups.

Every view requires ``administer``, which only the ``site-admin`` principal holds (root ACL).
Forms post back to a named view; an invalid form is shown again with field-level errors and
what was typed (status 400); a valid one redirects with a flash message (POST-redirect-GET).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain import accounts, two_factor
from taskdesk.domain.errors import DuplicateError, ValidationError
from taskdesk.domain.people import resolve_person
from taskdesk.messages import _
from taskdesk.resources import AdminArea, GroupContainer, GroupResource, UserContainer, UserResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view
from taskdesk.web.forms import confirmation, confirmed, flash, form_errors, form_values

PAGE_SIZE = 25

USER_FIELDS = ("username", "display_name", "email", "password", "is_site_admin")
GROUP_FIELDS = ("name", "description")


def _page_number(value: str | None) -> int:
    """The 1-based page asked for; anything that is not a small positive number is page 1."""
    if value and value.isdigit() and 0 < len(value) <= 6:
        return max(int(value), 1)
    return 1


# -- overview -------------------------------------------------------------------------------
@web_view(context=AdminArea, renderer="admin/index.jinja2", request_method="GET",
          permission=Permission.ADMINISTER)
def admin_index(context: AdminArea, request: Request) -> dict[str, Any]:
    return {"nav": "admin", **accounts.site_counts(request.dbsession)}


# -- users ----------------------------------------------------------------------------------
@web_view(context=UserContainer, renderer="admin/users.jinja2", request_method="GET",
          permission=Permission.ADMINISTER)
def user_list(context: UserContainer, request: Request) -> dict[str, Any]:
    query = request.GET.get("q", "").strip()[:100]
    page = _page_number(request.GET.get("page"))
    users, total = accounts.search_users(
        request.dbsession, query, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return {"nav": "admin", "users": users, "total": total, "query": query,
            "page": page, "pages": pages}


@web_view(context=UserContainer, name="new", renderer="admin/user_new.jinja2",
          request_method="GET", permission=Permission.ADMINISTER)
def user_new(context: UserContainer, request: Request) -> dict[str, Any]:
    return {"nav": "admin", "values": {}, "errors": {}}


@web_view(context=UserContainer, name="new", renderer="admin/user_new.jinja2",
          request_method="POST", permission=Permission.ADMINISTER)
def user_create(context: UserContainer, request: Request) -> Any:
    values = form_values(request, USER_FIELDS)
    try:
        user = accounts.create_user(request.dbsession, values,
                                    actor_id=signed_in(request).user_id,
                                    cost=settings_of(request.registry).password_cost)
    except (ValidationError, DuplicateError) as error:
        request.response.status = 400
        values.pop("password", None)
        return {"nav": "admin", "values": values, "errors": form_errors(error)}
    flash(request, _("User ${username} was created.", mapping={"username": user.username}))
    return HTTPSeeOther(request.resource_url(UserResource(request, str(user.id), context, user)))


def _user_page(context: UserResource, request: Request,
               errors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    user = context.row
    return {
        "nav": "admin",
        "user": user,
        "groups": accounts.user_groups(request.dbsession, user),
        "sessions": accounts.count_sessions(request.dbsession, user),
        "two_factor": two_factor.status(request.dbsession, user.id),
        "is_self": user.id == signed_in(request).user_id,
        "errors": errors or {},
    }


@web_view(context=UserResource, renderer="admin/user.jinja2", request_method="GET",
          permission=Permission.ADMINISTER)
def user_show(context: UserResource, request: Request) -> dict[str, Any]:
    return _user_page(context, request)


def _back_to_user(context: UserResource, request: Request) -> HTTPSeeOther:
    return HTTPSeeOther(request.resource_url(context))


@web_view(context=UserResource, name="deactivate", request_method="POST",
          permission=Permission.ADMINISTER)
def user_deactivate(context: UserResource, request: Request) -> Response:
    user = context.row
    if not confirmed(request):
        return confirmation(
            request, nav="admin", subject=f"{user.display_name} (@{user.username})",
            title=_("Deactivate ${name}?", mapping={"name": user.display_name}),
            message=_("A deactivated user cannot sign in; their sessions and API tokens stop "
                      "working at once. You can reactivate them later."),
            button=_("Deactivate"), cancel_url=request.resource_url(context))
    try:
        accounts.set_active(request.dbsession, user, False, actor=signed_in(request).user)
    except ValidationError as error:
        flash(request, error.fields["is_active"], "error")
    else:
        flash(request, _("${name} was deactivated; their sessions have ended.",
                         mapping={"name": user.display_name}))
    return _back_to_user(context, request)


@web_view(context=UserResource, name="reactivate", request_method="POST",
          permission=Permission.ADMINISTER)
def user_reactivate(context: UserResource, request: Request) -> HTTPSeeOther:
    accounts.set_active(request.dbsession, context.row, True, actor=signed_in(request).user)
    flash(request, _("${name} was reactivated and may sign in again.",
                     mapping={"name": context.row.display_name}))
    return _back_to_user(context, request)


@web_view(context=UserResource, name="password", renderer="admin/user.jinja2",
          request_method="POST", permission=Permission.ADMINISTER)
def user_reset_password(context: UserResource, request: Request) -> Any:
    user = context.row
    # An admin resetting their own password stays signed in in this browser.
    keep = signed_in(request).session_id if user.id == signed_in(request).user_id else None
    try:
        accounts.set_password(request.dbsession, user, request.POST.get("password", ""),
                              keep_session_id=keep, actor_id=signed_in(request).user_id,
                              cost=settings_of(request.registry).password_cost)
    except ValidationError as error:
        request.response.status = 400
        return _user_page(context, request, form_errors(error))
    flash(request, _("The password of ${name} was reset; their other sessions have ended.",
                     mapping={"name": user.display_name}))
    return _back_to_user(context, request)


@web_view(context=UserResource, name="admin", request_method="POST",
          permission=Permission.ADMINISTER)
def user_set_admin(context: UserResource, request: Request) -> HTTPSeeOther:
    user = context.row
    make_admin = request.POST.get("is_site_admin") == "true"
    try:
        accounts.set_site_admin(request.dbsession, user, make_admin,
                                actor=signed_in(request).user)
    except ValidationError as error:
        flash(request, error.fields["is_site_admin"], "error")
    else:
        mapping = {"name": user.display_name}
        if make_admin:
            flash(request, _("${name} is now a site admin.", mapping=mapping))
        else:
            flash(request, _("${name} is no longer a site admin.", mapping=mapping))
    return _back_to_user(context, request)


@web_view(context=UserResource, name="end-sessions", request_method="POST",
          permission=Permission.ADMINISTER)
def user_end_sessions(context: UserResource, request: Request) -> HTTPSeeOther:
    user = context.row
    keep = signed_in(request).session_id if user.id == signed_in(request).user_id else None
    accounts.sign_out_everywhere(request.dbsession, user, keep_session_id=keep,
                                 actor_id=signed_in(request).user_id)
    flash(request, _("All sessions of ${name} have ended.", mapping={"name": user.display_name}))
    return _back_to_user(context, request)


@web_view(context=UserResource, name="reset-two-factor", request_method="POST",
          permission=Permission.ADMINISTER)
def user_reset_two_factor(context: UserResource, request: Request) -> Response:
    user = context.row
    if not confirmed(request):
        return confirmation(
            request, nav="admin", subject=f"{user.display_name} (@{user.username})",
            title=_("Reset two-factor authentication of ${name}?",
                    mapping={"name": user.display_name}),
            message=_("Their authenticator, recovery codes and remembered devices stop "
                      "working. Their next sign-in needs only the password (or sets up two-"
                      "factor authentication again where the site requires it)."),
            button=_("Reset two-factor authentication"),
            cancel_url=request.resource_url(context))
    two_factor.reset(request.dbsession, user.id, actor_id=signed_in(request).user_id)
    flash(request, _("Two-factor authentication of ${name} was reset.",
                     mapping={"name": user.display_name}))
    return _back_to_user(context, request)


# -- groups ---------------------------------------------------------------------------------
@web_view(context=GroupContainer, renderer="admin/groups.jinja2", request_method="GET",
          permission=Permission.ADMINISTER)
def group_list(context: GroupContainer, request: Request) -> dict[str, Any]:
    return {"nav": "admin", "groups": accounts.list_groups(request.dbsession)}


@web_view(context=GroupContainer, name="new", renderer="admin/group_new.jinja2",
          request_method="GET", permission=Permission.ADMINISTER)
def group_new(context: GroupContainer, request: Request) -> dict[str, Any]:
    return {"nav": "admin", "values": {}, "errors": {}}


@web_view(context=GroupContainer, name="new", renderer="admin/group_new.jinja2",
          request_method="POST", permission=Permission.ADMINISTER)
def group_create(context: GroupContainer, request: Request) -> Any:
    values = form_values(request, GROUP_FIELDS)
    try:
        group = accounts.create_group(request.dbsession, values,
                                      actor_id=signed_in(request).user_id)
    except (ValidationError, DuplicateError) as error:
        request.response.status = 400
        return {"nav": "admin", "values": values, "errors": form_errors(error)}
    flash(request, _("Group ${name} was created.", mapping={"name": group.name}))
    return HTTPSeeOther(
        request.resource_url(GroupResource(request, str(group.id), context, group))
    )


def _group_page(context: GroupResource, request: Request, username: str = "",
                errors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "nav": "admin",
        "group": context.row,
        "members": accounts.group_members(request.dbsession, context.row),
        "username": username,
        "errors": errors or {},
    }


@web_view(context=GroupResource, renderer="admin/group.jinja2", request_method="GET",
          permission=Permission.ADMINISTER)
def group_show(context: GroupResource, request: Request) -> dict[str, Any]:
    return _group_page(context, request)


@web_view(context=GroupResource, name="add-member", renderer="admin/group.jinja2",
          request_method="POST", permission=Permission.ADMINISTER)
def group_add_member(context: GroupResource, request: Request) -> Any:
    username = request.POST.get("username", "").strip()[:120]
    try:
        user = resolve_person(request.dbsession, username, field="username")
    except ValidationError as error:
        request.response.status = 400
        return _group_page(context, request, username, form_errors(error))
    if not accounts.add_group_member(request.dbsession, context.row, user,
                                     actor_id=signed_in(request).user_id):
        request.response.status = 400
        return _group_page(context, request, username,
                           {"username": _("This user is a member already.")})
    flash(request, _("${name} was added to the group.", mapping={"name": user.display_name}))
    return HTTPSeeOther(request.resource_url(context))


@web_view(context=GroupResource, name="remove-member", request_method="POST",
          permission=Permission.ADMINISTER)
def group_remove_member(context: GroupResource, request: Request) -> Response:
    user = accounts.find_user(request.dbsession, request.POST.get("username", "")[:64])
    if user is not None and not confirmed(request):
        return confirmation(
            request, nav="admin", subject=f"{user.display_name} (@{user.username})",
            title=_("Remove ${name} from the group ${group}?", mapping={
                "name": user.display_name, "group": context.row.name}),
            message=_("They lose the roles the group holds in projects at once. You can add "
                      "them again later."),
            button=_("Remove from group"), cancel_url=request.resource_url(context),
            fields=[("username", user.username)])
    if user is not None and accounts.remove_group_member(
            request.dbsession, context.row, user, actor_id=signed_in(request).user_id):
        flash(request, _("${name} was removed from the group.",
                         mapping={"name": user.display_name}))
    else:
        flash(request, _("That user is not a member of this group."), "error")
    return HTTPSeeOther(request.resource_url(context))
