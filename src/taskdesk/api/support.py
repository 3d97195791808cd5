"""Small helpers the API views share."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain.access import Viewer
from taskdesk.models import User
from taskdesk.security.policy import identity_of, signed_in
from taskdesk.settings import TaskdeskSettings, settings_of


def actor(request: Request) -> User:
    """The signed-in user (views that call this require a permission anonymous lacks)."""
    return signed_in(request).user


def viewer(request: Request) -> Viewer:
    identity = identity_of(request)
    return identity.viewer if identity is not None else Viewer(None)


def settings(request: Request) -> TaskdeskSettings:
    return settings_of(request.registry)


def created(request: Request, body: dict[str, Any], location: str) -> dict[str, Any]:
    """201 Created with the new resource's URL in ``Location``."""
    request.response.status = 201
    request.response.location = location
    return body


def no_content() -> Response:
    return Response(status=204)
