"""Sign in and sign out."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.security import forget, remember

from taskdesk.domain import audit
from taskdesk.domain.audit import AuditKind
from taskdesk.messages import _
from taskdesk.models import KEEP_CHANGES
from taskdesk.resources import Root
from taskdesk.security.login import authenticate
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import identity_of, session_ended
from taskdesk.security.transport import plain_http_problem
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Characters kept as they are when ``next`` is put into the Location header.
_URL_SAFE = "/?&=%#:@!$'()*+,;~-._"


def safe_next(request: Request, target: str | None) -> str:
    """``target`` if it is a path on this site, else the home page (no open redirects).

    Control characters are refused too (they cannot go into a ``Location`` header), and
    characters outside ASCII are percent-encoded.
    """
    home = str(request.resource_url(request.root))
    if not target or not target.startswith("/") or target.startswith("//"):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or _CONTROL.search(target):
        return home
    return f"{request.application_url}{quote(target, safe=_URL_SAFE)}"


def _form(request: Request, target: str, username: str, error: Any,
          ended: str | None = None) -> dict[str, Any]:
    """The sign-in page's values; ``https_problem`` says why signing in cannot work here,
    ``ended`` why this browser's session ended (``idle`` or ``max_age``), with
    ``idle_minutes`` for the first."""
    idle = settings_of(request.registry).session_idle_timeout
    return {"next": target, "username": username, "error": error,
            "https_problem": plain_http_problem(request), "ended": ended,
            "idle_minutes": max(1, round(idle / 60))}


@web_view(context=Root, name="login", renderer="login.jinja2",
          permission=Permission.PUBLIC, request_method="GET")
def login_form(request: Request) -> dict[str, Any]:
    return _form(request, request.params.get("next", ""), "", None, session_ended(request))


@web_view(context=Root, name="login", renderer="login.jinja2",
          permission=Permission.PUBLIC, request_method="POST")
def login_submit(request: Request) -> Any:
    username = request.POST.get("username", "")
    password = request.POST.get("password", "")
    target = request.POST.get("next", "")
    result = authenticate(
        request.dbsession, settings_of(request.registry), username, password,
        # The socket's address: X-Forwarded-For is the client's to choose. Behind a proxy,
        # the server (waitress trusted_proxy) puts the real client address here.
        request.remote_addr or "unknown",
    )
    if result.user is None:
        if result.throttled:
            request.response.status = 429
            # The answer is an error, but the audit log keeps the attempt.
            request.environ[KEEP_CHANGES] = True
            error = _("Too many failed sign-ins. Please wait a few minutes and try again.")
        else:
            error = _("Wrong username or password.")
        return _form(request, target, username, error)
    headers = remember(request, result.user.id)
    return HTTPSeeOther(safe_next(request, target), headers=headers)


@web_view(context=Root, name="logout", permission=Permission.PUBLIC, request_method="POST")
def logout(request: Request) -> HTTPSeeOther:
    identity = identity_of(request)
    if identity is not None:
        audit.record(request.dbsession, kind=AuditKind.SIGN_OUT, actor_id=identity.user_id,
                     target=f"user:{identity.user_id}", details={"via": identity.via})
    headers = forget(request)
    return HTTPSeeOther(request.resource_url(request.root, "login"), headers=headers)
