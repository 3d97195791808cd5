"""A project's webhooks: list, add, show, change, delete; the delivery log, and redelivering
(POST to a delivery). A new secret is made in the web UI (its confirmation tells what it
breaks). Project managers (``manage_webhooks``) only; the all-projects hooks
are kept in the web UI's administration and are not offered here (404 under /admin)."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.location import lineage
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api import conditional
from taskdesk.api.operations import api_view
from taskdesk.api.paging import id_page, next_url, page, simple_list
from taskdesk.api.rendering import json_body
from taskdesk.api.representations import Urls, delivery_json, webhook_json
from taskdesk.api.support import actor, created, no_content, settings
from taskdesk.domain import webhooks
from taskdesk.models import Webhook
from taskdesk.resources import (
    DeliveryContainer,
    DeliveryResource,
    ProjectResource,
    WebhookContainer,
    WebhookResource,
)
from taskdesk.security.actions import actions_in
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in


def _slug(context: Any) -> str:
    """The slug of the project ``context`` is in; 404 outside a project (/admin)."""
    for resource in lineage(context):
        if isinstance(resource, ProjectResource):
            return resource.row.slug
    raise HTTPNotFound()


def _state(hook: Webhook) -> str:
    return conditional.state("webhook", hook.id, hook.version)


def _body(request: Request, container: WebhookContainer, hook: Webhook) -> dict[str, Any]:
    return webhook_json(Urls(request), _slug(container), hook,
                        actions_in(request, container, WebhookResource))


@api_view(context=WebhookContainer, method="GET", permission=Permission.MANAGE_WEBHOOKS,
          summary="The project's webhooks", response="WebhookList", query="page",
          conditional=True)
def webhook_list(context: WebhookContainer, request: Request) -> Response:
    slug = _slug(context)
    params, paging_, after = simple_list(request)
    rows, cursor = id_page(
        webhooks.webhooks_of(request.dbsession, context.project_id, after=after,
                             limit=paging_.limit + 1, offset=paging_.offset),
        paging_,
    )
    urls = Urls(request)
    allowed = actions_in(request, context, WebhookResource)
    items = [webhook_json(urls, slug, hook, allowed) for hook in rows]
    response = page(request, items, next_url(request, params, paging_, cursor))
    response.cache_control = "private, no-store"  # it holds the secrets
    return response


@api_view(context=WebhookContainer, method="POST", permission=Permission.MANAGE_WEBHOOKS,
          summary="Add a webhook (its secret is made here and shown in the answer)",
          response="Webhook", status=201, body=webhooks.WEBHOOK_SCHEMA,
          description="The payload URL must be http:// or https:// and reach a public "
          "address or one the administrator allowed (taskdesk.webhooks.allow); otherwise "
          "422 names the field `payload_url`.")
def webhook_create(context: WebhookContainer, request: Request) -> dict[str, Any]:
    _slug(context)
    hook = webhooks.create_webhook(request.dbsession, settings(request), actor(request),
                                   context.project_id, json_body(request), strict=True)
    body = conditional.tagged(request, _body(request, context, hook), _state(hook))
    request.response.cache_control = "private, no-store"
    return created(request, body, body["url"])


@api_view(context=WebhookResource, method="GET", permission=Permission.MANAGE_WEBHOOKS,
          summary="One webhook, with its secret", response="Webhook", conditional=True)
def webhook_show(context: WebhookResource, request: Request) -> dict[str, Any] | Response:
    answer = conditional.respond(request, _body(request, context.__parent__, context.row),
                                 _state(context.row))
    request.response.cache_control = "private, no-store"  # it holds the secret
    return answer


@api_view(context=WebhookResource, method="PATCH", permission=Permission.MANAGE_WEBHOOKS,
          summary="Change a webhook's URL, description, events or active flag",
          response="Webhook", body=webhooks.WEBHOOK_SCHEMA, partial=True, conditional=True)
def webhook_update(context: WebhookResource, request: Request) -> dict[str, Any]:
    _slug(context)
    hook = context.row
    webhooks.update_webhook(
        request.dbsession, settings(request), hook, json_body(request),
        actor_id=signed_in(request).user_id, partial=True, strict=True,
        expected_version=conditional.if_match_version(request, "webhook", hook.id))
    return conditional.tagged(request, _body(request, context.__parent__, hook), _state(hook))


@api_view(context=WebhookResource, method="DELETE", permission=Permission.MANAGE_WEBHOOKS,
          summary="Delete a webhook and its delivery log", response=None, status=204,
          conditional=True)
def webhook_delete(context: WebhookResource, request: Request) -> Response:
    _slug(context)
    conditional.check_if_match(request, _state(context.row))
    webhooks.delete_webhook(request.dbsession, context.row, actor_id=signed_in(request).user_id)
    return no_content()


@api_view(context=DeliveryContainer, method="GET", permission=Permission.MANAGE_WEBHOOKS,
          summary="A webhook's delivery log, newest first", response="DeliveryList",
          query="page", conditional=True)
def delivery_list(context: DeliveryContainer, request: Request) -> Response:
    slug = _slug(context)
    params, paging_, after = simple_list(request)
    hook = context.webhook.row
    rows, cursor = id_page(
        webhooks.deliveries(request.dbsession, hook.id, after=after,
                            limit=paging_.limit + 1, offset=paging_.offset),
        paging_,
    )
    hook_url = Urls(request).webhook(slug, hook.id)
    items = [delivery_json(hook_url, row) for row in rows]
    return page(request, items, next_url(request, params, paging_, cursor))


def _delivery_body(request: Request, context: DeliveryResource) -> dict[str, Any]:
    hook_url = Urls(request).webhook(_slug(context), context.webhook.row.id)
    return delivery_json(hook_url, context.row)


@api_view(context=DeliveryResource, method="GET", permission=Permission.MANAGE_WEBHOOKS,
          summary="One delivery: its status, attempts and the latest answer",
          response="Delivery")
def delivery_show(context: DeliveryResource, request: Request) -> dict[str, Any]:
    return _delivery_body(request, context)


@api_view(context=DeliveryResource, method="POST", permission=Permission.MANAGE_WEBHOOKS,
          status=202, response="Delivery",
          summary="Redeliver: send this delivery again, with a fresh count of attempts, "
          "soon after this request (no body)")
def delivery_redeliver(context: DeliveryResource, request: Request) -> dict[str, Any]:
    webhooks.redeliver(request.dbsession, context.row)
    request.response.status = 202
    return _delivery_body(request, context)
