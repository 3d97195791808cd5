"""Security headers on every response, HTML, JSON and static files alike (a core tween)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.settings import TaskdeskSettings, settings_of


def content_security_policy(*form_targets: str) -> str:
    """The policy; ``form_targets`` are origins that forms may also lead to (the sign-in
    page's "Sign in with ..." form ends at the OpenID provider, and browsers check
    ``form-action`` on every redirect after a form is sent)."""
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        " ".join(("form-action 'self'", *form_targets)),
        "frame-ancestors 'none'",
    ))


#: No inline scripts or styles anywhere: JavaScript and CSS come from /static only.
CONTENT_SECURITY_POLICY = content_security_policy()

HSTS = "max-age=31536000; includeSubDomains"


def security_headers_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    settings: TaskdeskSettings = settings_of(registry)
    headers: dict[str, str] = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if settings.https:
        headers["Strict-Transport-Security"] = HSTS

    defaults = [(name.lower(), (name, value)) for name, value in headers.items()]

    def tween(request: Request) -> Any:
        response = handler(request)
        # Once through the header list, not once per header (this runs on every response).
        present = {name.lower() for name, _value in response.headerlist}
        response.headerlist.extend(header for lower, header in defaults if lower not in present)
        return response

    return tween


def includeme(config: Configurator) -> None:
    # Outermost, so that the request-id tween's own 500 and the guard's refusals carry the
    # headers too.
    config.add_tween("taskdesk.headers.security_headers_tween_factory",
                     over="taskdesk.ops.request_tween_factory")
