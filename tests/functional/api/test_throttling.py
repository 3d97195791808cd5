"""Repeated bad bearer tokens from one address are throttled with 429; good tokens are not."""

from __future__ import annotations

from sqlalchemy import func, select

from taskdesk.models import LoginFailure
from tests.support.api import ApiClient


def test_bad_tokens_count_against_the_address_until_429(
    make_testapp, checker, make_token, factory, dbsession, settings
):
    limit = settings.login_address_limit
    stranger = ApiClient(make_testapp(), checker, "td_" + "x" * 43)
    for _attempt in range(limit):
        refused = stranger.get("/api/v1/me", status=401)
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    # The failures were recorded although every answer was a 401 (normally rolled back).
    failures = dbsession.scalar(select(func.count()).select_from(LoginFailure))
    assert failures == limit

    throttled = stranger.get("/api/v1/me", status=429)
    assert throttled.json["error"]["code"] == "too_many_requests"
    assert throttled.headers["Retry-After"] == str(settings.login_window)

    # Someone holding a real token from the same address is not slowed down.
    owner = factory.user("owner")
    working = ApiClient(make_testapp(), checker, make_token(owner))
    assert working.get("/api/v1/me").json["username"] == "owner"


def test_the_sign_in_form_shares_the_address_limit(make_testapp, checker, settings, factory):
    factory.user("someone")
    stranger = ApiClient(make_testapp(), checker, "td_" + "y" * 43)
    for _attempt in range(settings.login_address_limit):
        stranger.get("/api/v1/me", status=401)
    browser = make_testapp()
    page = browser.get("/login")
    form = next(f for f in page.forms.values() if "username" in f.fields)
    form["username"] = "someone"
    form["password"] = "correct horse battery"
    assert form.submit(status=429).status_int == 429
