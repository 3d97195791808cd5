"""The JSON API for integrations, under ``/api/v1/`` over the same resource tree."""

from __future__ import annotations

from typing import Any

from taskdesk.resources import root_factory

API_ROUTE = "api_v1"


def includeme(config: Any) -> None:
    # A hybrid route: /api/v1/<path> traverses the same tree as the web UI, and views
    # registered with route_name=API_ROUTE are the JSON ones (no Accept negotiation).
    config.add_route(API_ROUTE, "/api/v1/*traverse", factory=root_factory)
    config.scan("taskdesk.api.views")
