"""Webhooks: a project's (Settings → Webhooks) and the all-projects ones (Administration →
Webhooks); add, edit, regenerate the secret, delete, and the delivery log with Redeliver."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain import webhooks
from taskdesk.domain.cursor import decode_id_cursor, encode_id_cursor
from taskdesk.domain.errors import DomainError
from taskdesk.messages import _
from taskdesk.resources import DeliveryResource, WebhookContainer, WebhookResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view
from taskdesk.web.forms import confirmation, confirmed, flash, form_errors, redirect, refuse

#: Deliveries per page of a hook's log.
LOG_PAGE = 25

EVENT_LABELS = {
    "task.created": _("A task is created"),
    "task.updated": _("A task is changed"),
    "task.deleted": _("A task is deleted"),
    "comment.added": _("A comment is added"),
    "comment.edited": _("A comment is edited"),
    "comment.deleted": _("A comment is deleted"),
    "attachment.added": _("A file is attached"),
    "attachment.deleted": _("An attachment is deleted"),
    "member.added": _("A member is added"),
    "member.changed": _("A member's role changes"),
    "member.removed": _("A member is removed"),
    "project.created": _("A project is created"),
    "project.updated": _("The project's settings change"),
    "task.due_soon": _("A task is due tomorrow"),
    "task.due_today": _("A task is due today"),
}
STATUS_LABELS = {
    "pending": _("Pending"),
    "delivered": _("Delivered"),
    "failed": _("Failed"),
    "parked": _("Parked"),
}


def _values_of(request: Request) -> dict[str, Any]:
    """The form's fields as the domain takes them (checkboxes: every ticked event)."""
    return {
        "payload_url": request.POST.get("payload_url", ""),
        "description": request.POST.get("description", ""),
        "events": request.POST.getall("events"),
        "active": request.POST.get("active", ""),
    }


def _common(request: Request, container: WebhookContainer) -> dict[str, Any]:
    project = container.project
    return {
        "nav": "projects" if project is not None else "admin",
        "tab": "webhooks",
        "project": project.row if project is not None else None,
        "project_context": project,
        "event_labels": [(kind, EVENT_LABELS[kind]) for kind in webhooks.EVENT_KINDS],
        "status_labels": STATUS_LABELS,
        "hooks_url": request.resource_url(container),
    }


def _list_page(request: Request, container: WebhookContainer, values: dict[str, Any],
               errors: dict[str, Any]) -> dict[str, Any]:
    return {
        **_common(request, container),
        "hooks": webhooks.webhooks_of(request.dbsession, container.project_id),
        "values": values,
        "errors": errors,
    }


@web_view(context=WebhookContainer, renderer="webhooks/list.jinja2",
          permission=Permission.MANAGE_WEBHOOKS, request_method="GET")
def webhook_list(context: WebhookContainer, request: Request) -> dict[str, Any]:
    return _list_page(request, context, {"payload_url": "", "description": "", "events": [],
                                         "active": True}, {})


@web_view(context=WebhookContainer, renderer="webhooks/list.jinja2",
          permission=Permission.MANAGE_WEBHOOKS, request_method="POST")
def webhook_add(context: WebhookContainer, request: Request) -> Any:
    values = _values_of(request)
    values["active"] = "on"
    try:
        hook = webhooks.create_webhook(request.dbsession, settings_of(request.registry),
                                       signed_in(request).user, context.project_id, values)
    except DomainError as error:
        refuse(request)
        return _list_page(request, context, values, form_errors(error))
    flash(request, _("Webhook added. Configure the receiver with the secret below."))
    return HTTPSeeOther(request.resource_url(context, str(hook.id), ""))


def _hook_page(request: Request, context: WebhookResource, values: dict[str, Any],
               errors: dict[str, Any]) -> dict[str, Any]:
    try:
        after = decode_id_cursor(request.GET.get("after") or None)
    except DomainError:
        after = 0
    rows = webhooks.deliveries(request.dbsession, context.row.id, after=after,
                               limit=LOG_PAGE + 1)
    more = len(rows) > LOG_PAGE
    rows = rows[:LOG_PAGE]
    return {
        **_common(request, context.__parent__),
        "hook": context.row,
        "values": values,
        "errors": errors,
        "deliveries": rows,
        "newer": after != 0,
        "older": encode_id_cursor(rows[-1].id) if more else None,
    }


def _hook_values(hook: Any) -> dict[str, Any]:
    return {"payload_url": hook.url, "description": hook.description, "events": hook.events,
            "active": hook.is_active}


@web_view(context=WebhookResource, renderer="webhooks/hook.jinja2",
          permission=Permission.MANAGE_WEBHOOKS, request_method="GET")
def webhook_show(context: WebhookResource, request: Request) -> dict[str, Any]:
    return _hook_page(request, context, _hook_values(context.row), {})


@web_view(context=WebhookResource, renderer="webhooks/hook.jinja2",
          permission=Permission.MANAGE_WEBHOOKS, request_method="POST")
def webhook_save(context: WebhookResource, request: Request) -> Any:
    values = _values_of(request)
    try:
        changes = webhooks.update_webhook(request.dbsession, settings_of(request.registry),
                                          context.row, values,
                                          actor_id=signed_in(request).user_id)
    except DomainError as error:
        refuse(request)
        return _hook_page(request, context, values, form_errors(error))
    flash(request, _("Webhook saved.") if changes else _("Nothing changed."))
    return redirect(request, context)


@web_view(context=WebhookResource, name="regenerate", permission=Permission.MANAGE_WEBHOOKS,
          request_method="POST")
def webhook_regenerate(context: WebhookResource, request: Request) -> Response:
    if not confirmed(request):
        return confirmation(
            request, nav=_common(request, context.__parent__)["nav"],
            title=_("Regenerate the secret?"), subject=context.row.url,
            message=_("Deliveries are signed with the new secret from now on: the receiver "
                      "refuses them until it is configured with the new one."),
            button=_("Regenerate secret"), cancel_url=request.resource_url(context))
    webhooks.regenerate_secret(request.dbsession, context.row,
                               actor_id=signed_in(request).user_id)
    flash(request, _("New secret made. Configure the receiver with it."))
    return redirect(request, context)


@web_view(context=WebhookResource, name="delete", permission=Permission.MANAGE_WEBHOOKS,
          request_method="POST")
def webhook_delete(context: WebhookResource, request: Request) -> Response:
    if not confirmed(request):
        return confirmation(
            request, nav=_common(request, context.__parent__)["nav"],
            title=_("Delete this webhook?"), subject=context.row.url,
            message=_("Nothing more is sent to it, and its delivery log is deleted too."),
            button=_("Delete webhook"), cancel_url=request.resource_url(context))
    webhooks.delete_webhook(request.dbsession, context.row,
                            actor_id=signed_in(request).user_id)
    flash(request, _("Webhook deleted."))
    return redirect(request, context.__parent__)


@web_view(context=DeliveryResource, name="redeliver", permission=Permission.MANAGE_WEBHOOKS,
          request_method="POST")
def delivery_redeliver(context: DeliveryResource, request: Request) -> HTTPSeeOther:
    webhooks.redeliver(request.dbsession, context.row)
    flash(request, _("Delivery queued: it is sent again in a moment."))
    return redirect(request, context.webhook)
