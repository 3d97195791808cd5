"""The language switcher: a signed-in user's choice is their profile's, a visitor's a cookie."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from taskdesk.domain.accounts import update_profile
from taskdesk.i18n import LOCALE_COOKIE, LOCALES
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import identity_of
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view
from taskdesk.web.views.auth import safe_next

#: A visitor's choice is remembered for a year.
COOKIE_MAX_AGE = 365 * 24 * 3600


@web_view(context=Root, name="language", permission=Permission.PUBLIC, request_method="POST")
def language_switch(request: Request) -> HTTPSeeOther:
    locale = request.POST.get("locale", "")
    response = HTTPSeeOther(safe_next(request, request.POST.get("next")))
    if locale not in LOCALES:
        return response
    identity = identity_of(request)
    if identity is not None:
        update_profile(request.dbsession, identity.user, {"locale": locale})
    settings = settings_of(request.registry)
    response.set_cookie(LOCALE_COOKIE, locale, max_age=COOKIE_MAX_AGE, httponly=True,
                        samesite="Lax", secure=settings.https)
    return response
