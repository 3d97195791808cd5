"""The signed-in user's own pages: profile, language, password, sessions and API tokens."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories
from pyramid.request import Request

from taskdesk.domain import accounts, preferences, two_factor
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.events import Reason
from taskdesk.domain.schemas import NOTIFICATION_PREFERENCES
from taskdesk.i18n import LOCALES, choose_locale
from taskdesk.messages import _
from taskdesk.models.meta import utcnow
from taskdesk.resources import Me, TokenContainer, TokenResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
from taskdesk.timezones import COMMON_ZONES, REGIONS, zone_names
from taskdesk.web.declare import web_view
from taskdesk.web.forms import flash, form_errors, form_values
from taskdesk.web.helpers import babel_locale, offset_label

PROFILE_FIELDS = ("display_name", "email", "locale", "time_zone")
TOKEN_FIELDS = ("name", "scope", "expires_in_days")
#: The expiry a new token form suggests, in days.
DEFAULT_TOKEN_DAYS = "90"


# -- profile --------------------------------------------------------------------------------
#: The groups of the time zone list: the common zones, the IANA areas, then the rest.
ZONE_GROUPS = {
    "common": _("Common time zones"),
    "Africa": _("Africa"),
    "America": _("Americas"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
    "Asia": _("Asia"),
    "Atlantic": _("Atlantic Ocean"),
    "Australia": _("Australia"),
    "Europe": _("Europe"),
    "Indian": _("Indian Ocean"),
    "Pacific": _("Pacific Ocean"),
    "other": _("Other time zones"),
}
Options = tuple[tuple[str, str], ...]


@lru_cache(maxsize=4)
def _zone_options(locale_name: str, day: date) -> tuple[tuple[str, Options], ...]:
    """Every known zone as (group, ((name, label), ...)), labelled in the locale with its
    offset on ``day`` ("上海 (UTC+08:00)"); worked out once a day per language."""
    locale = babel_locale(locale_name)
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)

    def label(name: str, city: bool) -> str:
        zone = ZoneInfo(name)
        offset = offset_label(noon.astimezone(zone).utcoffset())
        if name == "UTC":
            return name
        place = get_timezone_location(zone, locale=locale, return_city=True) if city else name
        return f"{place} ({offset})"

    names = sorted(zone_names())
    by_group: dict[str, list[str]] = {"common": [n for n in COMMON_ZONES if n in names]}
    for name in names:
        area = name.split("/", 1)[0] if "/" in name else ""
        by_group.setdefault(area if area in REGIONS else "other", []).append(name)
    return tuple(
        (group, tuple((name, label(name, city=group != "other")) for name in by_group[group]))
        for group in ZONE_GROUPS if by_group.get(group)
    )


def _zone_choices(request: Request) -> list[tuple[str, Options]]:
    """The profile's time zone list, its groups named in the reader's language."""
    return [(request.localizer.translate(ZONE_GROUPS[group]), options)
            for group, options in _zone_options(request.locale_name, request.today)]


def _notification_choices(request: Request, chosen: Mapping[str, Any] | None,
                          errors: Mapping[str, Any] | None) -> dict[str, Any]:
    """The notification section of the profile: each reason with its channel."""
    if chosen is None:
        current = preferences.channels(request.dbsession, [signed_in(request).user.id])
        chosen = {reason.value: channel.value
                  for reason, channel in current[signed_in(request).user.id].items()}
    translate = request.localizer.translate
    return {
        "notification_values": chosen,
        "notification_errors": errors or {},
        "reasons": [(reason.value, translate(preferences.REASON_LABELS[reason]),
                     translate(preferences.REASON_HINTS[reason])) for reason in Reason],
        "channels": [(channel.value, translate(preferences.CHANNEL_LABELS[channel]),
                      translate(preferences.CHANNEL_HINTS[channel]))
                     for channel in preferences.Channel],
        "channel_options": [(channel.value, translate(preferences.CHANNEL_LABELS[channel]))
                            for channel in preferences.Channel],
        "mail_enabled": settings_of(request.registry).mail_enabled,
    }


def profile_page(request: Request, *, values: Mapping[str, Any] | None = None,
                 errors: Mapping[str, Any] | None = None,
                 password_errors: Mapping[str, Any] | None = None,
                 notification_values: Mapping[str, Any] | None = None,
                 notification_errors: Mapping[str, Any] | None = None,
                 two_factor_errors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The profile page's values; the ``*_errors`` are those of the form that failed."""
    user = signed_in(request).user
    settings = settings_of(request.registry)
    if values is None:
        values = {"display_name": user.display_name, "email": user.email,
                  "locale": user.locale or "", "time_zone": user.time_zone or ""}
    return {
        "user": user,
        "values": values,
        "errors": errors or {},
        "password_errors": password_errors or {},
        "locales": LOCALES,
        "zones": _zone_choices(request),
        "site_zone": settings.time_zone.key,
        "other_sessions": max(accounts.count_sessions(request.dbsession, user) - 1, 0),
        "feed_token": accounts.feed_token(request.dbsession, user),
        "two_factor": two_factor.status(request.dbsession, user.id),
        "two_factor_required": two_factor.required(settings, user),
        "two_factor_errors": two_factor_errors or {},
        **_notification_choices(request, notification_values, notification_errors),
    }


def _back_to_profile(request: Request) -> HTTPSeeOther:
    return HTTPSeeOther(request.resource_url(request.root, "me"))


@web_view(context=Me, renderer="me/profile.jinja2", request_method="GET",
          permission=Permission.SIGNED_IN)
def profile_show(context: Me, request: Request) -> dict[str, Any]:
    return profile_page(request)


@web_view(context=Me, name="profile", renderer="me/profile.jinja2", request_method="POST",
          permission=Permission.SIGNED_IN)
def profile_update(context: Me, request: Request) -> Any:
    values = form_values(request, PROFILE_FIELDS)
    try:
        accounts.update_profile(request.dbsession, signed_in(request).user, values)
    except ValidationError as error:
        request.response.status = 400
        return profile_page(request, values=values, errors=form_errors(error))
    # The confirmation speaks the language just chosen, as the next page will.
    directories = request.registry.queryUtility(ITranslationDirectories, default=[])
    localizer = make_localizer(choose_locale(request, signed_in(request).user.locale),
                               directories)
    flash(request, _("Your profile was saved."), localizer=localizer)
    return _back_to_profile(request)


@web_view(context=Me, name="notification-preferences", renderer="me/profile.jinja2",
          request_method="POST", permission=Permission.SIGNED_IN)
def notification_preferences_update(context: Me, request: Request) -> Any:
    values = form_values(request, [reason.value for reason in Reason])
    try:
        choices = NOTIFICATION_PREFERENCES.validate(values)
        preferences.set_channels(request.dbsession, signed_in(request).user.id, choices)
    except ValidationError as error:
        request.response.status = 400
        return profile_page(request, notification_values=values,
                             notification_errors=form_errors(error))
    flash(request, _("Your notification choices were saved."))
    return HTTPSeeOther(request.resource_url(request.root) + "me/#notifications")


@web_view(context=Me, name="password", renderer="me/profile.jinja2", request_method="POST",
          permission=Permission.SIGNED_IN)
def password_change(context: Me, request: Request) -> Any:
    current = request.POST.get("current_password", "")
    new = request.POST.get("new_password", "")
    errors: dict[str, Any] = {}
    if new != request.POST.get("new_password_confirm", ""):
        errors["new_password_confirm"] = _("The two new passwords are not the same.")
    else:
        try:
            accounts.change_password(request.dbsession, signed_in(request).user, current, new,
                                     keep_session_id=signed_in(request).session_id,
                                     cost=settings_of(request.registry).password_cost)
        except ValidationError as error:
            # The domain calls the new password "password"; the form "new_password".
            errors = {("new_password" if field == "password" else field): message
                      for field, message in error.fields.items()}
    if errors:
        request.response.status = 400
        return profile_page(request, password_errors=errors)
    flash(request, _("Your password was changed; your other sessions have ended."))
    return _back_to_profile(request)


@web_view(context=Me, name="sessions", request_method="POST",
          permission=Permission.SIGNED_IN)
def sessions_end_others(context: Me, request: Request) -> HTTPSeeOther:
    identity = signed_in(request)
    accounts.sign_out_everywhere(request.dbsession, identity.user, actor_id=identity.user_id,
                                 keep_session_id=identity.session_id)
    flash(request, _("You were signed out of all other sessions."))
    return _back_to_profile(request)


# -- API tokens -----------------------------------------------------------------------------
def _tokens_page(request: Request, *, values: Mapping[str, Any] | None = None,
                 errors: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "tokens": accounts.list_tokens(request.dbsession, signed_in(request).user),
        "now": utcnow(),
        "values": values if values is not None else {"scope": "read",
                                                       "expires_in_days": DEFAULT_TOKEN_DAYS},
        "errors": errors or {},
    }


@web_view(context=TokenContainer, renderer="me/tokens.jinja2", request_method="GET",
          permission=Permission.SIGNED_IN)
def token_list(context: TokenContainer, request: Request) -> dict[str, Any]:
    return _tokens_page(request)


@web_view(context=TokenContainer, renderer="me/tokens.jinja2", request_method="POST",
          permission=Permission.SIGNED_IN)
def token_create(context: TokenContainer, request: Request) -> Any:
    """Create a token and show its secret on this one response, which no cache may keep.

    This is the one form not answered with a redirect: the secret is stored only as a
    digest, so no later page could show it again.
    """
    values = form_values(request, TOKEN_FIELDS)
    try:
        token, secret = accounts.create_token(request.dbsession, signed_in(request).user, values)
    except ValidationError as error:
        request.response.status = 400
        return _tokens_page(request, values=values, errors=form_errors(error))
    request.response.cache_control = "no-store"
    request.override_renderer = "me/token_created.jinja2"
    return {"token": token, "secret": secret}


@web_view(context=TokenResource, name="revoke", request_method="POST",
          permission=Permission.SIGNED_IN)
def token_revoke(context: TokenResource, request: Request) -> HTTPSeeOther:
    accounts.revoke_token(request.dbsession, context.row)
    flash(request, _("The token ${name} was revoked; it no longer works.",
                     mapping={"name": context.row.name}))
    return HTTPSeeOther(request.resource_url(request.root, "me", "tokens"))
