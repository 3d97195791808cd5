"""Liveness and readiness probes, without authentication and never cached."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from taskdesk.resources import Root
from taskdesk.security.permissions import Permission

NO_STORE = "no-store"


@view_config(context=Root, name="healthz", renderer="json", permission=Permission.PUBLIC,
             request_method=("GET", "HEAD"))
def healthz(request: Request) -> dict[str, str]:
    request.response.cache_control = NO_STORE
    return {"status": "ok"}


@view_config(context=Root, name="readyz", renderer="json", permission=Permission.PUBLIC,
             request_method=("GET", "HEAD"))
def readyz(request: Request) -> dict[str, str]:
    request.response.cache_control = NO_STORE
    try:
        request.dbsession.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        request.response.status = 503
        cause = type(getattr(error, "orig", None) or error).__name__
        return {"status": "unavailable", "reason": f"database unreachable: {cause}"}
    return {"status": "ok", "database": request.dbsession.get_bind().dialect.name}


def includeme(config: Configurator) -> None:
    config.scan(__name__)
