"""``api_view``: the one way to register a JSON view, with what OpenAPI says about it.

An API view names its context, method and permission (a view without a permission is refused
at start-up) and describes its operation: request schema, response schema, status, query
parameters. The OpenAPI document is generated from these registrations, so a view cannot be
missing from it.

With every ``GET`` view, ``api_view`` also registers a catch-all view for the same context
and name without a method predicate. Pyramid tries it last; it answers 405 with an ``Allow``
header listing the methods registered for that context, read from the introspector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import venusian  # type: ignore[import-untyped]
from pyramid.exceptions import ConfigurationError
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api import API_ROUTE, idempotency
from taskdesk.api.rendering import json_view
from taskdesk.domain.schema import QuerySchema, Schema
from taskdesk.messages import _
from taskdesk.security.permissions import Permission
from taskdesk.security.refusals import error_response
from taskdesk.settings import TaskdeskSettings

#: A request schema, or a function of the settings giving one (workflow statuses, roles).
BodySchema = Schema | Callable[[TaskdeskSettings], Schema]


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one view."""

    summary: str
    #: Name of the response schema in ``representations.SCHEMAS``; None for no body (204).
    response: str | None
    status: int = 200
    #: Also answers 201 (with Location) when the request created the resource (PUT).
    may_create: bool = False
    body: BodySchema | None = None
    #: PATCH: every field optional.
    partial: bool = False
    #: Query parameters: "tasks" (filters and paging), "page" (paging only),
    #: "notifications" (paging and `unread`), "activity" (the feeds' filters and paging),
    #: "search" (``SEARCH_QUERY``, limit and cursor), a QuerySchema of the view's own, or
    #: None.
    query: str | QuerySchema | None = None
    #: Also answers text/csv (with ``Accept: text/csv``).
    csv: bool = False
    #: Honours If-Match (412) / If-None-Match (304).
    conditional: bool = False
    description: str = ""
    #: The permission the view requires (set by ``api_view``).
    permission: str = ""
    #: Honours ``Idempotency-Key`` (set by ``api_view``: every POST answering 201).
    idempotent: bool = False
    #: The request body is ``multipart/form-data`` with one or more file parts of this name.
    files: str | None = None
    #: The answer is the bytes of a file (of any media type), not JSON.
    binary: bool = False


def operation_of(view: Any) -> Operation | None:
    return getattr(view, "__api_operation__", None)


def api_view(
    *,
    context: type,
    method: str,
    permission: Permission,
    name: str = "",
    only_method: bool = False,
    **operation: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the JSON view for ``method`` on ``context``.

    ``only_method``: no ``GET`` view exists for this context and name (a POST-only action),
    so this view registers the 405 catch-all instead."""
    if not isinstance(permission, Permission):
        raise ConfigurationError(f"API view {context.__name__}/{name} {method} needs a permission")
    # Every create honours Idempotency-Key (taskdesk.api.idempotency): derived here, so a
    # new creating view needs nothing of its own.
    idempotent = method == "POST" and operation.get("status") == 201
    described = Operation(permission=permission, idempotent=idempotent, **operation)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.__api_operation__ = described  # type: ignore[attr-defined]

        def register(scanner: Any, _name: str, wrapped: Callable[..., Any]) -> None:
            config = scanner.config
            rendered = json_view(wrapped)
            if idempotent:
                rendered = idempotency.idempotent(rendered)
            config.add_view(rendered, route_name=API_ROUTE, context=context,
                            name=name, request_method=method, permission=permission)
            if method == "GET" or only_method:
                # It changes nothing, so it needs no CSRF token either.
                config.add_view(method_not_allowed, route_name=API_ROUTE, context=context,
                                name=name, permission=permission, require_csrf=False)

        venusian.attach(view, register, category="pyramid")
        return view

    return decorate


def view_methods(view: Any) -> tuple[str, ...]:
    """The methods of a registered view's introspectable (GET implies HEAD)."""
    methods = view["request_methods"]
    if not methods:
        return ()
    found = {methods} if isinstance(methods, str) else set(methods)
    if "GET" in found:
        found.add("HEAD")
    return tuple(sorted(found))


def allowed_methods(registry: Any, context: type, name: str) -> list[str]:
    """The methods with an API view on ``context`` and ``name``, from the introspector."""
    cache: dict[tuple[type, str], list[str]] = registry.setdefault("taskdesk.api.allow", {})
    key = (context, name)
    if key not in cache:
        methods: set[str] = set()
        for entry in registry.introspector.get_category("views"):
            view = entry["introspectable"]
            if (view["route_name"] == API_ROUTE and view["context"] is context
                    and view["name"] == name):
                methods.update(view_methods(view))
        cache[key] = sorted(methods)
    return cache[key]


def method_not_allowed(context: Any, request: Request) -> Response:
    allow = ", ".join(allowed_methods(request.registry, type(context), request.view_name))
    return error_response(
        request, 405, "method_not_allowed",
        _("${method} is not allowed here; allowed: ${allow}.",
          mapping={"method": request.method, "allow": allow}),
        headers={"Allow": allow},
    )
