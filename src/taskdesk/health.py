"""Liveness and readiness probes, without authentication and never cached.

Readiness also answers for the process's shutdown: the server adapters
(``taskdesk.waitress_server``, ``taskdesk.asgi``) set :data:`DRAINING` when they receive
SIGTERM and keep their listener open for a drain period, so a load balancer polling
``/readyz`` sees 503 and stops sending new requests *before* the port closes.
"""

from __future__ import annotations

import threading

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from taskdesk.resources import Root
from taskdesk.security.permissions import Permission

NO_STORE = "no-store"
#: Set once, when the process starts shutting down (one process, one server).
DRAINING = threading.Event()
#: Seconds a balancer is told to wait before asking a draining process again.
DRAINING_RETRY_AFTER = 30


@view_config(context=Root, name="healthz", renderer="json", permission=Permission.PUBLIC,
             request_method=("GET", "HEAD"))
def healthz(request: Request) -> dict[str, str]:
    request.response.cache_control = NO_STORE
    return {"status": "ok"}


@view_config(context=Root, name="readyz", renderer="json", permission=Permission.PUBLIC,
             request_method=("GET", "HEAD"))
def readyz(request: Request) -> dict[str, str]:
    request.response.cache_control = NO_STORE
    if DRAINING.is_set():
        request.response.status = 503
        request.response.headers["Retry-After"] = str(DRAINING_RETRY_AFTER)
        return {"status": "draining", "reason": "the server is shutting down"}
    try:
        request.dbsession.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        request.response.status = 503
        cause = type(getattr(error, "orig", None) or error).__name__
        return {"status": "unavailable", "reason": f"database unreachable: {cause}"}
    return {"status": "ok", "database": request.dbsession.get_bind().dialect.name}


def includeme(config: Configurator) -> None:
    config.scan(__name__)
