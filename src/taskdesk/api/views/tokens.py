"""The signed-in user's API tokens: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api import conditional
from taskdesk.api.operations import api_view
from taskdesk.api.paging import id_page, next_url, page, simple_list
from taskdesk.api.rendering import json_body
from taskdesk.api.representations import Urls, token_json
from taskdesk.api.support import actor, created, no_content
from taskdesk.domain.accounts import create_token, list_tokens, revoke_token
from taskdesk.domain.schemas import TOKEN_CREATE
from taskdesk.models import ApiToken
from taskdesk.resources import TokenContainer, TokenResource
from taskdesk.security.actions import actions_in, allowed_actions
from taskdesk.security.permissions import Permission


def _state(token: ApiToken) -> str:
    return conditional.state("token", token.id, "revoked" if token.revoked_at else "active")


@api_view(context=TokenContainer, method="GET", permission=Permission.SIGNED_IN,
          summary="The caller's API tokens (never their secrets)", response="TokenList",
          query="page", conditional=True)
def token_list(context: TokenContainer, request: Request) -> Response:
    params, paging_, after = simple_list(request)
    rows, cursor = id_page(
        list_tokens(request.dbsession, actor(request), newest_first=False, after=after,
                    limit=paging_.limit + 1, offset=paging_.offset),
        paging_,
    )
    urls = Urls(request)
    allowed = actions_in(request, context, TokenResource)
    items = [token_json(urls, row, allowed) for row in rows]
    return page(request, items, next_url(request, params, paging_, cursor))


@api_view(context=TokenContainer, method="POST", permission=Permission.SIGNED_IN,
          summary="Create an API token; the answer holds its secret, shown only once",
          response="NewToken", status=201, body=TOKEN_CREATE,
          description="From a browser session, send the X-CSRF-Token header.")
def token_create(context: TokenContainer, request: Request) -> dict[str, Any]:
    token, secret = create_token(request.dbsession, actor(request), json_body(request),
                                 strict=True)
    resource = TokenResource(request, str(token.id), context, token)
    body = token_json(Urls(request), token, allowed_actions(request, resource))
    body["secret"] = secret
    request.response.cache_control = "no-store"
    return created(request, body, body["url"])


@api_view(context=TokenResource, method="GET", permission=Permission.SIGNED_IN,
          summary="One of the caller's API tokens", response="Token", conditional=True)
def token_show(context: TokenResource, request: Request) -> dict[str, Any] | Response:
    body = token_json(Urls(request), context.row, allowed_actions(request, context))
    return conditional.respond(request, body, _state(context.row))


@api_view(context=TokenResource, method="DELETE", permission=Permission.SIGNED_IN,
          summary="Revoke an API token (it stops working at once)", response=None,
          status=204, conditional=True)
def token_revoke(context: TokenResource, request: Request) -> Response:
    conditional.check_if_match(request, _state(context.row))
    revoke_token(request.dbsession, context.row)
    return no_content()
