"""Two-factor authentication pages: the second step of a sign-in (``/login/verify``),
setting it up where it is required (``/login/enrol``), and the user's own settings
(``/me/two-factor``: set up, new recovery codes, forget devices, turn off)."""

from __future__ import annotations

import time
from typing import Any

import segno
from markupsafe import Markup
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain import audit, two_factor
from taskdesk.domain.audit import AuditKind
from taskdesk.messages import _
from taskdesk.models import KEEP_CHANGES, PendingSignIn, User
from taskdesk.resources import SignIn, TwoFactorSettings
from taskdesk.security.login import Factor, FactorResult, check_factor
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view
from taskdesk.web.forms import flash
from taskdesk.web.views.auth import (
    DEVICE_COOKIE,
    PENDING_KEY,
    client_address,
    safe_next,
    signed_in_response,
)
from taskdesk.web.views.profile import profile_page

THROTTLED = _("Too many wrong codes. Please wait a few minutes and try again.")
_WRONG_ENROLMENT_CODE = _("That code is not right. Check the time on your phone and enter "
                          "the code your app shows now.")


def qr_code(uri: str, title: str) -> Markup:
    """``uri`` as an inline SVG QR code, drawn here (no outside service sees the secret):
    black on white with the standard four-module quiet zone, whatever the page's theme."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", svgclass="qr-code", title=title)
    return Markup(svg)  # noqa: S704 - segno's own SVG; the title is escaped by segno


def _enrolment(request: Request, user: User, action: str, *, required: bool = False,
               error: Any = None) -> dict[str, Any]:
    enrolment = two_factor.start_enrolment(request.dbsession, settings_of(request.registry),
                                           user)
    request.response.cache_control = "no-store"
    title = request.localizer.translate(_("QR code for your authenticator app"))
    return {"qr": qr_code(enrolment.uri, title), "secret": enrolment.grouped_secret,
            "action": action, "required": required, "error": error,
            "signing_in": required}


def _codes_page(request: Request, codes: list[str], continue_url: str) -> dict[str, Any]:
    """The one response that shows recovery codes: only their hashes are kept."""
    request.response.cache_control = "no-store"
    request.override_renderer = "two_factor/codes.jinja2"
    return {"codes": codes, "continue_url": continue_url}


# -- signing in ----------------------------------------------------------------------------
def _pending(request: Request) -> tuple[PendingSignIn, User] | None:
    row = two_factor.pending(request.dbsession, request.session.get(PENDING_KEY))
    if row is None:
        return None
    user = request.dbsession.get(User, row.user_id)
    return (row, user) if user is not None and user.is_active else None


def _start_again(request: Request) -> HTTPSeeOther:
    request.session.pop(PENDING_KEY, None)
    flash(request, _("Your sign-in took too long or was finished. Please sign in again."),
          "error")
    return HTTPSeeOther(request.resource_url(request.root, "login"))


def _verify_form(request: Request, error: Any = None) -> dict[str, Any]:
    return {"error": error, "signing_in": True,
            "remember_days": settings_of(request.registry).mfa_remember_days}


@web_view(context=SignIn, name="verify", renderer="two_factor/verify.jinja2",
          permission=Permission.PUBLIC, request_method="GET")
def verify_form(request: Request) -> Any:
    if _pending(request) is None:
        return _start_again(request)
    return _verify_form(request)


@web_view(context=SignIn, name="verify", renderer="two_factor/verify.jinja2",
          permission=Permission.PUBLIC, request_method="POST")
def verify_submit(request: Request) -> Any:
    found = _pending(request)
    if found is None:
        return _start_again(request)
    pending, user = found
    settings = settings_of(request.registry)
    dbsession = request.dbsession
    result = check_factor(dbsession, settings, user, request.POST.get("code", ""),
                          client_address(request), time.time(), recovery=True)
    if result.factor is None:
        # Answered 200 like a wrong password, so the failure (throttling) is committed; a
        # throttled attempt's 429 keeps its audit entry too.
        audit.record(dbsession, kind=AuditKind.SECOND_FACTOR_FAILED, actor_id=None,
                     target=f"user:{user.id}", address=client_address(request),
                     details={"method": pending.method,
                              "reason": "throttled" if result.throttled else "wrong_code"})
        if result.throttled:
            request.response.status = 429
            request.environ[KEEP_CHANGES] = True
        return _verify_form(request, THROTTLED if result.throttled else _(
            "That code is not right, or was used already. Try the next one."))
    two_factor.end_pending(dbsession, user.id)
    response = signed_in_response(request, user.id, pending.target, pending.method,
                                  str(result.factor))
    days = settings.mfa_remember_days
    if days and request.POST.get("remember") == "yes":
        secret, _expires = two_factor.remember_device(dbsession, user.id, days,
                                                      request.user_agent or "")
        response.set_cookie(DEVICE_COOKIE, secret, max_age=days * 86400, httponly=True,
                            secure=settings.https, samesite="Lax", path="/")
    if result.factor is Factor.RECOVERY_CODE:
        left = two_factor.status(dbsession, user.id).recovery_codes_left
        flash(request, _("You signed in with a recovery code. Recovery codes left: ${count}. "
                         "You can make new ones on your profile.", mapping={"count": left}),
              "error")
    return response


@web_view(context=SignIn, name="enrol", renderer="two_factor/enrol.jinja2",
          permission=Permission.PUBLIC, request_method="GET")
def enrol_required_form(request: Request) -> Any:
    found = _pending(request)
    if found is None:
        return _start_again(request)
    try:
        return _enrolment(request, found[1], request.resource_url(request.context, "enrol"),
                          required=True)
    except two_factor.AlreadyEnabled:  # set up already: this sign-in needs a code instead
        return HTTPSeeOther(request.resource_url(request.context, "verify"))


@web_view(context=SignIn, name="enrol", renderer="two_factor/enrol.jinja2",
          permission=Permission.PUBLIC, request_method="POST")
def enrol_required_submit(request: Request) -> Any:
    found = _pending(request)
    if found is None:
        return _start_again(request)
    pending, user = found
    if two_factor.is_enabled(request.dbsession, user.id):
        return HTTPSeeOther(request.resource_url(request.context, "verify"))
    codes = two_factor.confirm_enrolment(request.dbsession, settings_of(request.registry),
                                         user, request.POST.get("code", ""), time.time())
    if codes is None:
        request.response.status = 400
        return _enrolment(request, user, request.resource_url(request.context, "enrol"),
                          required=True, error=_WRONG_ENROLMENT_CODE)
    two_factor.end_pending(request.dbsession, user.id)
    signed_in_response(request, user.id, pending.target, pending.method, "enrolled")
    return _codes_page(request, codes, safe_next(request, pending.target))


# -- the user's own settings ---------------------------------------------------------------
def _profile_with_error(request: Request, result: FactorResult) -> dict[str, Any]:
    """The profile again, saying why re-authentication failed (the failure is kept for
    throttling although the answer is an error)."""
    request.environ[KEEP_CHANGES] = True
    request.response.status = 429 if result.throttled else 400
    request.override_renderer = "me/profile.jinja2"
    message = THROTTLED if result.throttled else _(
        "That is neither your password nor a current code from your authenticator app.")
    return profile_page(request, two_factor_errors={"reauth": message})


def _reauthenticated(request: Request) -> FactorResult:
    """Check the current password or a current authenticator code (before turning 2FA off
    or replacing the recovery codes)."""
    return check_factor(request.dbsession, settings_of(request.registry),
                        signed_in(request).user, request.POST.get("reauth", ""),
                        client_address(request), time.time(), password=True)


def _to_section(request: Request) -> HTTPSeeOther:
    return HTTPSeeOther(request.resource_url(request.root, "me") + "#two-factor")


@web_view(context=TwoFactorSettings, renderer="two_factor/enrol.jinja2",
          permission=Permission.SIGNED_IN, request_method="GET")
def enrol_form(context: TwoFactorSettings, request: Request) -> Any:
    try:
        return _enrolment(request, signed_in(request).user, request.resource_url(context))
    except two_factor.AlreadyEnabled:
        return _to_section(request)


@web_view(context=TwoFactorSettings, renderer="two_factor/enrol.jinja2",
          permission=Permission.SIGNED_IN, request_method="POST")
def enrol_submit(context: TwoFactorSettings, request: Request) -> Any:
    user = signed_in(request).user
    if two_factor.is_enabled(request.dbsession, user.id):
        return _to_section(request)
    codes = two_factor.confirm_enrolment(request.dbsession, settings_of(request.registry),
                                         user, request.POST.get("code", ""), time.time())
    if codes is None:
        request.response.status = 400
        return _enrolment(request, user, request.resource_url(context),
                          error=_WRONG_ENROLMENT_CODE)
    return _codes_page(request, codes, request.resource_url(request.root, "me") + "#two-factor")


@web_view(context=TwoFactorSettings, name="recovery-codes", renderer="two_factor/codes.jinja2",
          permission=Permission.SIGNED_IN, request_method="POST")
def recovery_codes_new(context: TwoFactorSettings, request: Request) -> Any:
    user = signed_in(request).user
    if not two_factor.is_enabled(request.dbsession, user.id):
        return _to_section(request)
    result = _reauthenticated(request)
    if result.factor is None:
        return _profile_with_error(request, result)
    codes = two_factor.new_recovery_codes(request.dbsession, settings_of(request.registry),
                                          user.id)
    return _codes_page(request, codes, request.resource_url(request.root, "me") + "#two-factor")


@web_view(context=TwoFactorSettings, name="disable", renderer="me/profile.jinja2",
          permission=Permission.SIGNED_IN, request_method="POST")
def disable(context: TwoFactorSettings, request: Request) -> Any:
    user = signed_in(request).user
    if two_factor.required(settings_of(request.registry), user):
        flash(request, _("Two-factor authentication is required on this site: it cannot be "
                         "turned off."), "error")
        return _to_section(request)
    result = _reauthenticated(request)
    if result.factor is None:
        return _profile_with_error(request, result)
    two_factor.disable(request.dbsession, user.id)
    flash(request, _("Two-factor authentication is off. Remembered devices were forgotten."))
    response = _to_section(request)
    response.delete_cookie(DEVICE_COOKIE, path="/")
    return response


@web_view(context=TwoFactorSettings, name="forget-devices", permission=Permission.SIGNED_IN,
          request_method="POST")
def devices_forget(context: TwoFactorSettings, request: Request) -> Response:
    two_factor.forget_devices(request.dbsession, signed_in(request).user.id)
    flash(request, _("Every device will ask for a code at the next sign-in."))
    response = _to_section(request)
    response.delete_cookie(DEVICE_COOKIE, path="/")
    return response
