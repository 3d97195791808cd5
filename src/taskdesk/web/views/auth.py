"""Sign in and sign out."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import forget, remember

from taskdesk.domain import audit, two_factor
from taskdesk.domain.audit import AuditKind
from taskdesk.headers import content_security_policy
from taskdesk.messages import _
from taskdesk.models import KEEP_CHANGES, User
from taskdesk.resources import Root, SignIn
from taskdesk.security import oidc
from taskdesk.security.login import authenticate
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import identity_of, session_ended
from taskdesk.security.transport import plain_http_problem
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view

#: Session key holding the secret of the browser's pending sign-in (``finish_sign_in``).
PENDING_KEY = "pending_sign_in"
#: The cookie of a browser remembered for the second factor ("remember this device").
DEVICE_COOKIE = "taskdesk_device"
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
    settings = settings_of(request.registry)
    idle = settings.session_idle_timeout
    if settings.oidc_enabled:
        request.response.headers["Content-Security-Policy"] = content_security_policy(
            *oidc.form_origins(settings))
    return {"next": target, "username": username, "error": error, "signing_in": True,
            "https_problem": plain_http_problem(request), "ended": ended,
            "idle_minutes": max(1, round(idle / 60)),
            "oidc_name": settings.oidc_display_name if settings.oidc_enabled else None,
            "password_form": settings.local_passwords != "off" or settings.ldap_enabled}


def sign_in_form(request: Request, target: str, error: Any, username: str = "") -> Any:
    """The sign-in page again, saying why signing in did not work."""
    values = _form(request, target, username, error)
    return render_to_response("login.jinja2", values, request=request,
                              response=request.response)


@web_view(context=SignIn, renderer="login.jinja2", permission=Permission.PUBLIC,
          request_method="GET")
def login_form(request: Request) -> dict[str, Any]:
    return _form(request, request.params.get("next", ""), "", None, session_ended(request))


@web_view(context=SignIn, renderer="login.jinja2", permission=Permission.PUBLIC,
          request_method="POST")
def login_submit(request: Request) -> Any:
    username = request.POST.get("username", "")
    password = request.POST.get("password", "")
    target = request.POST.get("next", "")
    result = authenticate(
        request.dbsession, settings_of(request.registry), username, password,
        client_address(request),
    )
    if result.user is None:
        if result.throttled:
            request.response.status = 429
            # The answer is an error, but the audit log keeps the attempt.
            request.environ[KEEP_CHANGES] = True
            error = _("Too many failed sign-ins. Please wait a few minutes and try again.")
        elif result.unavailable:
            error = _("The company directory cannot be reached. Please try again later.")
        else:
            error = _("Wrong username or password.")
        return _form(request, target, username, error)
    return finish_sign_in(request, result.user, result.method, target)


def client_address(request: Request) -> str:
    """The socket's address: X-Forwarded-For is the client's to choose. Behind a proxy, the
    server (waitress trusted_proxy) puts the real client address here."""
    return request.remote_addr or "unknown"


def finish_sign_in(request: Request, user: User, method: str, target: str) -> Response:
    """Sign ``user`` in after their first factor passed by ``method`` ("password", "ldap",
    "oidc"), then go to ``target`` (checked by :func:`safe_next`).

    When a second factor is due (2FA on and this browser not remembered, or 2FA required by
    ``taskdesk.mfa.require`` and not set up yet) nobody is signed in yet: a pending sign-in
    is recorded (a row, named by a random secret in the session cookie; see
    ``models.PendingSignIn``) and the browser goes to ``/login/verify`` or ``/login/enrol``.
    Sign-ins through a provider (LDAP, OIDC) trust its own second factor unless
    ``taskdesk.mfa.trust_provider`` is false. API tokens never come here.
    """
    settings = settings_of(request.registry)
    dbsession = request.dbsession
    trusted = method in two_factor.PROVIDER_METHODS and settings.mfa_trust_provider
    step = None
    if not trusted:
        if two_factor.is_enabled(dbsession, user.id):
            if not two_factor.device_remembered(dbsession, user.id,
                                                request.cookies.get(DEVICE_COOKIE)):
                step = "verify"
        elif two_factor.required(settings, user):
            step = "enrol"
    if step is None:
        return signed_in_response(request, user.id, target, method)
    # A sign-in in progress ends whoever was signed in on this browser.
    forget(request)
    request.session[PENDING_KEY] = two_factor.start_pending(dbsession, user.id, method,
                                                            target)
    return HTTPSeeOther(request.resource_url(request.root, "login", step))


def signed_in_response(request: Request, user_id: int, target: str, method: str,
                       second_factor: str | None = None) -> HTTPSeeOther:
    """Start the session (a new one: ``remember`` rotates it) and go to ``target``; the
    audit log records the sign-in, how the first factor passed and what the second was."""
    audit.record(request.dbsession, kind=AuditKind.SIGN_IN, actor_id=user_id,
                 target=f"user:{user_id}",
                 details={"method": method, "second_factor": second_factor},
                 address=client_address(request))
    headers = remember(request, user_id)
    return HTTPSeeOther(safe_next(request, target), headers=headers)


@web_view(context=Root, name="logout", permission=Permission.PUBLIC, request_method="POST")
def logout(request: Request) -> HTTPSeeOther:
    identity = identity_of(request)
    if identity is not None:
        audit.record(request.dbsession, kind=AuditKind.SIGN_OUT, actor_id=identity.user_id,
                     target=f"user:{identity.user_id}", details={"via": identity.via})
    headers = forget(request)
    return HTTPSeeOther(request.resource_url(request.root, "login"), headers=headers)
