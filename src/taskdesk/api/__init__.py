"""The JSON API for integrations, under ``/api/v1/`` over the same resource tree.

Conventions (one everywhere, see the OpenAPI document at ``/api/v1/openapi.json``): JSON
in and out, one error shape (:mod:`taskdesk.api.errors`), lists with ``limit``/``cursor``
and a ``next`` link (:mod:`taskdesk.api.paging`), ETags with ``If-None-Match``/``If-Match``
(:mod:`taskdesk.api.conditional`), and ``allowed`` on every resource.
"""

from __future__ import annotations

from pyramid.config import Configurator

from taskdesk.links import Page, announce_page
from taskdesk.resources import root_factory

API_ROUTE = "api_v1"
DOCS_ROUTE = "api_docs"


def includeme(config: Configurator) -> None:
    from taskdesk.api.traversal import AllTasks
    from taskdesk.resources import Root

    # A hybrid route: /api/v1/<path> traverses the same tree as the web UI, and views
    # registered with route_name=API_ROUTE are the JSON ones (no Accept negotiation).
    config.add_route(API_ROUTE, "/api/v1/*traverse", factory=root_factory)
    # /api/v1/tasks: the tasks of every project the caller may see.
    config.add_resource_child(Root, "tasks", AllTasks.factory)
    # The browsable reference, with its renderer's assets served from this package.
    config.add_route(DOCS_ROUTE, "/api/docs")
    announce_page(config, Page.API_REFERENCE, DOCS_ROUTE)
    config.add_static_view("api/static", "taskdesk.api:static", cache_max_age=3600)
    config.scan("taskdesk.api.errors")
    config.scan("taskdesk.api.views")
