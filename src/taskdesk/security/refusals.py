"""Refusals every JSON endpoint answers alike: the one error body, and "who are you?".

``{"error": {"status": 401, "code": "unauthorized", "message": "...", "fields": {...}}}``

The JSON API (:mod:`taskdesk.api.errors`) and the GraphQL endpoint both answer transport
errors this way, so a client reads one shape whichever it calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.i18n import header_locale, localizer_for
from taskdesk.messages import _
from taskdesk.security.login import SessionEnd
from taskdesk.security.policy import session_ended
from taskdesk.settings import settings_of

AUTH_ERRORS: dict[str, Any] = {
    "invalid_token": _("The token is not valid."),
    "revoked_token": _("The token has been revoked."),
    "expired_token": _("The token has expired."),
}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: Any,
    fields: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error body, in the language of the request's ``Accept-Language`` (else English):
    never the token owner's profile language, so a program sees stable messages."""
    locale = header_locale(request)
    localizer = localizer_for(request.registry, locale)
    error: dict[str, Any] = {"status": status, "code": code,
                             "message": str(localizer.translate(message))}
    if fields:
        error["fields"] = {name: str(localizer.translate(text)) for name, text in fields.items()}
    response = Response(
        body=orjson.dumps({"error": error}), status=status, content_type="application/json",
        charset=None,
    )
    response.cache_control = "no-store"
    response.content_language = locale.replace("_", "-")
    if headers:
        response.headers.update(headers)
    return response


def unauthorized(request: Request) -> Response:
    """401 with the ``WWW-Authenticate`` challenge of RFC 6750 (429 past the failure limit)."""
    reason = request.environ.get("taskdesk.auth_error")
    if reason == "throttled":
        window = settings_of(request.registry).login_window
        return error_response(
            request, 429, "too_many_requests",
            _("Too many failed authentications from this address; try again later."),
            headers={"Retry-After": str(window)},
        )
    challenge = 'Bearer realm="taskdesk"'
    ended = session_ended(request) if reason is None else None
    if ended is not None:
        return error_response(request, 401, "session_ended", _session_end_message(request, ended),
                              headers={"WWW-Authenticate": challenge})
    if reason in AUTH_ERRORS:
        message = AUTH_ERRORS[reason]
        challenge += f', error="invalid_token", error_description="{message}"'
    else:
        message = _("Authentication is required: send Authorization: Bearer <token>.")
    return error_response(request, 401, "unauthorized", message,
                          headers={"WWW-Authenticate": challenge})


def _session_end_message(request: Request, ended: SessionEnd) -> Any:
    if ended == SessionEnd.MAX_AGE:
        return _("The session reached its maximum length; sign in again.")
    return _("The session ended after ${seconds} seconds without activity; sign in again.",
             mapping={"seconds": settings_of(request.registry).session_idle_timeout})


