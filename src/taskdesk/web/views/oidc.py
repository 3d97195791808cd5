"""Sign in with the company's OpenID provider: the button's view sends the browser to the
provider, the callback finishes the sign-in (``taskdesk.security.oidc`` checks the answer,
``taskdesk.domain.directory`` finds or makes the account)."""

from __future__ import annotations

import logging
from typing import Any

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request

from taskdesk.domain import audit, directory
from taskdesk.domain.audit import AuditKind
from taskdesk.messages import _
from taskdesk.resources import Root
from taskdesk.security import oidc
from taskdesk.security.permissions import Permission
from taskdesk.settings import TaskdeskSettings, settings_of
from taskdesk.web.declare import web_view
from taskdesk.web.views.auth import client_address, finish_sign_in, sign_in_form

log = logging.getLogger(__name__)
#: Session key holding the state of the sign-in this browser started.
STATE_KEY = "oidc_state"


def _enabled(request: Request) -> TaskdeskSettings:
    settings = settings_of(request.registry)
    if not settings.oidc_enabled:
        raise HTTPNotFound()
    return settings


def _redirect_uri(request: Request, settings: TaskdeskSettings) -> str:
    """The callback's address as registered at the provider (from ``taskdesk.public_url``
    when set, so it does not depend on the Host header)."""
    base = settings.public_url or request.application_url
    return f"{base}/oidc-callback"


@web_view(context=Root, name="oidc-sign-in", permission=Permission.PUBLIC,
          request_method="POST")
def oidc_sign_in(request: Request) -> Any:
    settings = _enabled(request)
    target = request.POST.get("next", "")
    try:
        started = oidc.start(request.dbsession, settings, _redirect_uri(request, settings),
                             target)
    except oidc.OidcError as error:
        log.warning("OpenID sign-in cannot start: %s", error)
        return sign_in_form(request, target, _(
            "${provider} cannot be reached. Please try again later.",
            mapping={"provider": settings.oidc_display_name}))
    request.session[STATE_KEY] = started.state
    return HTTPSeeOther(started.url)


@web_view(context=Root, name="oidc-callback", permission=Permission.PUBLIC,
          request_method="GET")
def oidc_callback(request: Request) -> Any:
    settings = _enabled(request)
    provider = settings.oidc_display_name
    pending = oidc.claim(request.dbsession, request.GET.get("state", ""),
                         request.session.pop(STATE_KEY, None))
    if pending is None:
        _audit_refusal(request, "expired_or_forged_state")
        return sign_in_form(request, "", _(
            "This sign-in has expired or was used already. Please sign in again."))
    code = request.GET.get("code", "")
    if not code:
        log.info("OpenID provider answered %s", request.GET.get("error", "without a code"))
        _audit_refusal(request, "provider_error")
        return sign_in_form(request, pending.target, _(
            "${provider} did not sign you in.", mapping={"provider": provider}))
    try:
        claims = oidc.finish(settings, _redirect_uri(request, settings), code, pending)
    except oidc.OidcError as error:
        log.warning("OpenID sign-in refused: %s", error)
        _audit_refusal(request, "token_refused")
        return sign_in_form(request, pending.target, _(
            "Signing in with ${provider} failed. Please try again, or ask a site admin.",
            mapping={"provider": provider}))
    try:
        result = directory.sign_in(request.dbsession, settings, oidc.profile(settings, claims),
                                   link_by_email=settings.oidc_link_claim == "email")
    except directory.DirectoryRefusal as refusal:
        _audit_refusal(request, "account_refused")
        return sign_in_form(request, pending.target, refusal.message)
    return finish_sign_in(request, result.user, "oidc", pending.target)


def _audit_refusal(request: Request, reason: str) -> None:
    audit.record(request.dbsession, kind=AuditKind.SIGN_IN_FAILED, actor_id=None,
                 details={"method": "oidc", "reason": reason},
                 address=client_address(request))
