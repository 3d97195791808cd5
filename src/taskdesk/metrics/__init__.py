"""Prometheus metrics at ``/metrics``: include ``taskdesk.metrics`` in ``taskdesk.includes``.

Exposed: request count and latency histogram by view, method and status; database pool
usage; process start time and resident memory. The text format is written here (it is a
few lines), so there is no client library to depend on.

Access is decided by the view itself, not by the security policy: a client whose address
(``REMOTE_ADDR`` as the server sets it: Waitress rewrites it from ``X-Forwarded-For`` only
for its trusted proxy) is in ``taskdesk.metrics.allow``, or one sending
``Authorization: Bearer <taskdesk.metrics.token>``. Everyone else gets 403. Behind a reverse
proxy on the same host every client looks local unless the server trusts that proxy's
headers (production.ini does for Waitress; Hypercorn does not, so there use the token with
an empty allow-list, or do not route ``/metrics`` through the proxy).

Counts live in memory and are per process: scrape every process (each Waitress process,
each Hypercorn worker behind its own port, or use a single worker per port).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy.engine import Engine

from taskdesk.metrics.collector import RequestMetrics, exposition
from taskdesk.models import database_binds
from taskdesk.ops import unrendered_status
from taskdesk.settings import TaskdeskSettings, settings_of

Handler = Callable[[Request], Response]
METRICS_KEY = "taskdesk.metrics"
ROUTE = "taskdesk.metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def view_label(request: Request) -> str:
    """Which view answered, from a bounded set of names (never the raw URL).

    ``route:Context/view-name`` as Pyramid chose it; ``notfound`` when traversal or view
    lookup failed (there the view name would be an arbitrary path segment); ``unrouted`` for
    answers given before routing (the guard's 400 and 413).
    """
    if isinstance(getattr(request, "exception", None), HTTPNotFound):
        return "notfound"
    context = getattr(request, "context", None)
    if context is None:
        return "unrouted"
    route = getattr(request, "matched_route", None)
    prefix = f"{route.name}:" if route is not None else ""
    return f"{prefix}{type(context).__name__}/{getattr(request, 'view_name', '')}"


def metrics_tween_factory(handler: Handler, registry: Any) -> Handler:
    metrics: RequestMetrics = registry[METRICS_KEY]

    def metrics_tween(request: Request) -> Response:
        start = time.perf_counter()
        try:
            response = handler(request)
        except Exception as error:
            # Counted as the request-id tween above will answer it.
            metrics.observe(view_label(request), request.method, unrendered_status(error),
                            time.perf_counter() - start)
            raise
        metrics.observe(view_label(request), request.method, response.status_code,
                        time.perf_counter() - start)
        return response

    return metrics_tween


def pool_usage(engine: Engine) -> dict[str, int]:
    """Checked-out connections, size and overflow of the engine's pool, where it has them."""
    usage: dict[str, int] = {}
    for key, method in (("checked_out", "checkedout"), ("size", "size"),
                        ("overflow", "overflow")):
        read = getattr(engine.pool, method, None)
        if callable(read):
            usage[key] = int(read())
    return usage


def may_read_metrics(request: Request, settings: TaskdeskSettings) -> bool:
    if settings.metrics_token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), settings.metrics_token.encode()
        ):
            return True
    try:
        address = ipaddress.ip_address(request.environ.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.metrics_allow)


def metrics_view(request: Request) -> Response:
    settings: TaskdeskSettings = settings_of(request.registry)
    if not may_read_metrics(request, settings):
        return Response(body=b"Forbidden\n", status=403, content_type="text/plain",
                        charset="utf-8")
    text = exposition(request.registry[METRICS_KEY],
                      pool_usage(database_binds(request.registry).engine))
    response = Response(body=text.encode(), content_type="text/plain", charset="utf-8")
    response.headers["Content-Type"] = CONTENT_TYPE
    response.cache_control = "no-store"
    return response


def includeme(config: Configurator) -> None:
    config.registry[METRICS_KEY] = RequestMetrics()
    # Above the guard, so its refusals are counted; under the request-id tween.
    config.add_tween("taskdesk.metrics.metrics_tween_factory",
                     over="taskdesk.guard.guard_tween_factory")
    config.add_route(ROUTE, "/metrics")
    # Access is checked in the view (address allow-list or token), not by the security
    # policy, which would look the bearer token up as an API token in the database.
    config.add_view(metrics_view, route_name=ROUTE, request_method=("GET", "HEAD"),
                    permission=NO_PERMISSION_REQUIRED)
