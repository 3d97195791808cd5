"""The OpenAPI document and the browsable reference page."""

from __future__ import annotations

from typing import Any

from pyramid.path import AssetResolver
from pyramid.request import Request
from pyramid.response import FileResponse, Response
from pyramid.view import view_config

from taskdesk.api import DOCS_ROUTE
from taskdesk.api.openapi import build_document
from taskdesk.api.operations import api_view
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission

DOCS_PAGE = "taskdesk.api:static/docs.html"


@api_view(context=Root, name="openapi.json", method="GET", permission=Permission.PUBLIC,
          summary="This OpenAPI 3.1 document", response="Document")
def openapi_document(context: Root, request: Request) -> dict[str, Any]:
    registry = request.registry
    if "taskdesk.api.openapi" not in registry:
        registry["taskdesk.api.openapi"] = build_document(registry)
    request.response.cache_control = "public, max-age=300"
    return registry["taskdesk.api.openapi"]  # type: ignore[no-any-return]


@view_config(route_name=DOCS_ROUTE, permission=Permission.PUBLIC, request_method="GET")
def api_docs(request: Request) -> Response:
    path = AssetResolver().resolve(DOCS_PAGE).abspath()
    response = FileResponse(path, request=request, content_type="text/html")
    response.cache_control = "public, max-age=300"
    return response
