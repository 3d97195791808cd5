"""The caller's own account."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from taskdesk.api import API_ROUTE
from taskdesk.resources import Me
from taskdesk.security.permissions import Permission


@view_config(route_name=API_ROUTE, context=Me, renderer="json", request_method="GET",
             permission=Permission.SIGNED_IN)
def me_show(request: Request) -> dict[str, Any]:
    user = request.identity.user
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "is_site_admin": user.is_site_admin,
        "locale": user.locale,
    }
