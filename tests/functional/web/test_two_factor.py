"""Two-factor authentication through the web UI: enrolment, the second sign-in step,
recovery codes, remembered devices, re-authentication, required enrolment, resets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import webtest
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import func, select, update

from taskdesk.domain import accounts
from taskdesk.models import (
    AuthSession,
    LoginFailure,
    PendingSignIn,
    RememberedDevice,
    TwoFactor,
    User,
)
from taskdesk.models.meta import utcnow
from taskdesk.resources import root_factory
from taskdesk.security import totp
from taskdesk.web.views.auth import finish_sign_in
from tests.support.factories import Factory
from tests.support.sessions import COOKIE_NAME, session_cookie, session_data, whoami
from tests.support.web import confirm, find_form, flashes, is_signed_in, login, post

DEVICE_COOKIE = "taskdesk_device"


def code(secret: str, steps_ahead: int = 0) -> str:
    """The code an authenticator shows now (or ``steps_ahead`` steps later: enrolment uses
    the current step, and a step works once)."""
    return totp.code_at(secret, time.time() + 30 * steps_ahead)


def enrol(app: webtest.TestApp) -> tuple[str, list[str]]:
    """Set up 2FA from the profile of the user ``app`` is signed in as, the way a person
    does: read the key from the page, type the code; return the key and recovery codes."""
    profile = app.get("/me/")
    page = profile.click(href="/me/two-factor", index=0)
    secret = page.html.select_one("#two-factor-secret").get_text().replace(" ", "")
    assert page.html.select_one(".two-factor__qr svg") is not None
    form = page.forms["enrol-form"]
    form["code"] = code(secret)
    shown = form.submit()
    assert shown.status_int == 200
    assert shown.headers["Cache-Control"] == "no-store"
    codes = [c.get_text() for c in shown.html.select("#recovery-codes code")]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    return secret, codes


def sign_out(app: webtest.TestApp) -> None:
    post(app, "/logout", {})
    assert not is_signed_in(app)


def verify(app: webtest.TestApp, text: str, *, remember: bool = False,
           status: int | None = None) -> webtest.TestResponse:
    page = app.get("/login/verify")
    form = page.forms["verify-form"]
    form["code"] = text
    if remember:
        form["remember"] = "yes"
    return form.submit(status=status)


@pytest.fixture
def user(factory: Factory) -> User:
    return factory.user("wangwei", display_name="王伟")


@pytest.fixture
def enrolled(testapp: webtest.TestApp, login_as: Callable[..., Any],
             user: User) -> tuple[str, list[str]]:
    """``wangwei`` with 2FA on, signed out again."""
    login_as("wangwei")
    secret, codes = enrol(testapp)
    sign_out(testapp)
    return secret, codes


@pytest.fixture
def mfa_settings(wsgi_app: Any) -> Iterator[Callable[..., None]]:
    """``mfa_settings(mfa_require="admins", ...)``: other settings for this test."""
    registry = wsgi_app.registry
    saved = registry.taskdesk_settings

    def change(**values: Any) -> None:
        registry.taskdesk_settings = replace(saved, **values)

    yield change
    registry.taskdesk_settings = saved


def test_enrol_sign_out_sign_in_and_verify(testapp, login_as, user, dbsession, make_testapp):
    login_as("wangwei")
    page = testapp.get("/me/")
    assert "Set up two-factor authentication" in page.text
    secret, _codes = enrol(testapp)
    assert "On" in testapp.get("/me/").html.select_one("#two-factor").get_text()
    sign_out(testapp)

    response = login(testapp, "wangwei")
    assert response.status_int == 303
    assert response.headers["Location"].endswith("/login/verify")
    pending_cookie = session_cookie(testapp)
    assert whoami(testapp) is None

    wrong = verify(testapp, "000000")
    assert "That code is not right" in wrong.text
    assert whoami(testapp) is None
    done = verify(testapp, code(secret, 1))
    assert done.status_int == 303
    assert whoami(testapp) == "wangwei"
    # A new session, not the pending one carried over (session fixation); a copy of the
    # pending sign-in's cookie is worth nothing now.
    assert session_cookie(testapp) != pending_cookie
    assert "pending_sign_in" not in session_data(session_cookie(testapp))
    assert dbsession.scalars(select(PendingSignIn)).all() == []
    replay = make_testapp()
    replay.set_cookie(COOKIE_NAME, pending_cookie)
    assert replay.get("/login/verify").headers["Location"].endswith("/login")
    assert whoami(replay) is None


def test_the_sign_in_target_survives_the_second_step(testapp, enrolled):
    secret, _codes = enrolled
    page = testapp.get("/login?next=/projects/")
    form = page.forms["login-form"]
    form["username"] = "wangwei"
    form["password"] = Factory.PASSWORD
    assert form.submit().headers["Location"].endswith("/login/verify")
    assert verify(testapp, code(secret, 1)).headers["Location"].endswith("/projects/")


def test_a_code_works_once(testapp, enrolled, make_testapp):
    secret, _codes = enrolled
    login(testapp, "wangwei")
    used = code(secret, 1)
    assert verify(testapp, used).status_int == 303
    other = make_testapp()
    login(other, "wangwei")
    refused = verify(other, used)
    assert refused.status_int == 200
    assert "was used already" in refused.text
    # Older codes cannot follow a newer one either.
    assert verify(other, code(secret)).status_int == 200
    assert whoami(other) is None


def test_verification_is_throttled(testapp, enrolled, dbsession, settings):
    secret, _codes = enrolled
    login(testapp, "wangwei")
    for _ in range(settings.login_account_limit):
        assert verify(testapp, "000000").status_int == 200
    throttled = verify(testapp, code(secret, 1), status=429)
    assert "Too many wrong codes" in throttled.text
    assert whoami(testapp) is None
    user_id = dbsession.scalar(select(User.id).where(User.username == "wangwei"))
    failures = dbsession.scalars(select(LoginFailure.key)).all()
    assert failures.count(f"second-factor:{user_id}") == settings.login_account_limit


def test_a_recovery_code_works_once(testapp, enrolled, make_testapp):
    _secret, codes = enrolled
    login(testapp, "wangwei")
    done = verify(testapp, codes[0].upper().replace("-", " "))
    assert done.status_int == 303
    page = done.follow()
    assert ("error", "You signed in with a recovery code. Recovery codes left: 9. You can "
            "make new ones on your profile.") in flashes(page)
    assert testapp.get("/me/").html.select_one("#recovery-left").get_text() == "9"
    other = make_testapp()
    login(other, "wangwei")
    assert verify(other, codes[0]).status_int == 200
    assert whoami(other) is None
    assert verify(other, codes[1]).status_int == 303


def test_a_remembered_device_skips_the_prompt_until_it_expires(testapp, enrolled, dbsession):
    secret, _codes = enrolled
    login(testapp, "wangwei")
    done = verify(testapp, code(secret, 1), remember=True)
    cookie = next(h for n, h in done.headerlist
                  if n == "Set-Cookie" and h.startswith(DEVICE_COOKIE + "="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Max-Age=2592000" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert dbsession.scalar(select(RememberedDevice.token_hash)) != token  # only a digest
    sign_out(testapp)

    again = login(testapp, "wangwei")
    assert again.headers["Location"] == "http://taskdesk.test/"
    assert whoami(testapp) == "wangwei"
    assert testapp.get("/me/").html.select_one("#devices-remembered").get_text() == "1"
    sign_out(testapp)

    dbsession.execute(update(RememberedDevice).values(expires_at=utcnow() - timedelta(1)))
    assert login(testapp, "wangwei").headers["Location"].endswith("/login/verify")


def test_forgetting_devices_revokes_them(testapp, enrolled):
    secret, _codes = enrolled
    login(testapp, "wangwei")
    verify(testapp, code(secret, 1), remember=True)
    page = testapp.get("/me/")
    done = find_form(page, "/me/two-factor/forget-devices").submit().follow()
    assert "Every device will ask for a code" in done.text
    sign_out(testapp)
    assert login(testapp, "wangwei").headers["Location"].endswith("/login/verify")


def test_a_remembered_device_of_one_user_does_not_pass_another(testapp, enrolled, factory,
                                                               make_testapp):
    secret, _codes = enrolled
    login(testapp, "wangwei")
    verify(testapp, code(secret, 1), remember=True)
    sign_out(testapp)
    factory.user("lina")
    other = make_testapp()
    login(other, "lina")
    enrol(other)
    sign_out(other)
    assert login(testapp, "lina").headers["Location"].endswith("/login/verify")


def test_turning_off_needs_the_password_or_a_code(testapp, enrolled, dbsession):
    secret, _codes = enrolled
    login(testapp, "wangwei")
    verify(testapp, code(secret, 1), remember=True)
    # The "turn off" button sends the re-authentication form to its own action.
    button = testapp.get("/me/").html.find("button", string="Turn off two-factor authentication")
    assert button["formaction"].endswith("/me/two-factor/disable")
    refused = post(testapp, "/me/two-factor/disable", {"reauth": "not my password"},
                   status=400)
    assert "neither your password nor a current code" in refused.text
    assert dbsession.scalar(select(TwoFactor.enabled_at)) is not None
    # The failure is kept for throttling although the answer was an error.
    assert dbsession.scalar(select(LoginFailure.key).where(
        LoginFailure.key.like("second-factor:%"))) is not None

    done = post(testapp, "/me/two-factor/disable", {"reauth": Factory.PASSWORD})
    assert done.status_int == 303
    assert "Two-factor authentication is off" in done.follow().text
    assert dbsession.scalars(select(TwoFactor)).all() == []
    assert dbsession.scalars(select(RememberedDevice)).all() == []
    sign_out(testapp)
    assert login(testapp, "wangwei").headers["Location"] == "http://taskdesk.test/"


def test_new_recovery_codes_need_reauthentication(testapp, enrolled):
    secret, codes = enrolled
    login(testapp, "wangwei")
    verify(testapp, codes[5])  # so the authenticator's next code is still unused
    form = testapp.get("/me/").forms["new-codes-form"]
    form["reauth"] = "123456"
    assert form.submit(status=400).html.select_one("#reauth-error") is not None
    form = testapp.get("/me/").forms["new-codes-form"]
    form["reauth"] = code(secret, 1)
    shown = form.submit()
    new = [c.get_text() for c in shown.html.select("#recovery-codes code")]
    assert len(new) == 10
    assert not set(new) & set(codes)
    sign_out(testapp)
    login(testapp, "wangwei")
    assert verify(testapp, codes[2]).status_int == 200  # the old ones are gone
    assert verify(testapp, new[0]).status_int == 303


def test_a_pending_sign_in_reaches_no_other_page(testapp, enrolled):
    login(testapp, "wangwei")
    for path in ("/", "/me/", "/projects/", "/me/two-factor", "/me/tokens/"):
        response = testapp.get(path, expect_errors=True)
        assert response.status_int == 303, path
        assert "/login?next=" in response.headers["Location"], path
    assert testapp.get("/api/v1/me", expect_errors=True).status_int == 401
    assert post(testapp, "/me/two-factor/disable", {"reauth": Factory.PASSWORD},
                expect_errors=True).status_int in (303, 403)
    assert whoami(testapp) is None


def test_a_pending_sign_in_expires(testapp, enrolled, dbsession):
    secret, _codes = enrolled
    login(testapp, "wangwei")
    dbsession.execute(update(PendingSignIn).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = post(testapp, "/login/verify", {"code": code(secret, 1)})
    assert response.headers["Location"].endswith("/login")
    assert "took too long" in response.follow().text
    assert whoami(testapp) is None


def test_verify_without_a_pending_sign_in_goes_to_the_sign_in_page(testapp):
    assert testapp.get("/login/verify").headers["Location"].endswith("/login")
    assert testapp.get("/login/enrol").headers["Location"].endswith("/login")


def test_api_tokens_are_unaffected(testapp, enrolled, dbsession, make_testapp):
    user = dbsession.scalar(select(User).where(User.username == "wangwei"))
    _token, secret = accounts.create_token(dbsession, user, {"name": "ci", "scope": "read",
                                                              "expires_in_days": "30"})
    api = make_testapp()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json["username"] == "wangwei"


@pytest.mark.parametrize("require", ["admins", "everyone"])
def test_required_two_factor_sends_the_user_to_enrolment(testapp, factory, mfa_settings,
                                                         require, dbsession):
    factory.user("ada", admin=True)
    mfa_settings(mfa_require=require)
    page = testapp.get("/login?next=/projects/")
    form = page.forms["login-form"]
    form["username"], form["password"] = "ada", Factory.PASSWORD
    response = form.submit()
    assert response.headers["Location"].endswith("/login/enrol")
    assert whoami(testapp) is None
    assert testapp.get("/projects/", expect_errors=True).status_int == 303
    enrolment = response.follow()
    assert "This site requires two-factor authentication" in enrolment.text
    secret = enrolment.html.select_one("#two-factor-secret").get_text().replace(" ", "")
    form = enrolment.forms["enrol-form"]
    form["code"] = "000000"
    again = form.submit(status=400)
    assert again.html.select_one("#enrol-error") is not None
    assert again.html.select_one("#two-factor-secret").get_text().replace(" ", "") == secret
    form = again.forms["enrol-form"]
    form["code"] = code(secret)
    codes = form.submit()
    assert len(codes.html.select("#recovery-codes code")) == 10
    assert whoami(testapp) == "ada"
    assert codes.html.select_one("a.button")["href"].endswith("/projects/")
    # Required: the profile offers no way to turn it off, and the view refuses.
    profile = testapp.get("/me/")
    assert "Turn off two-factor authentication" not in profile.text
    refused = post(testapp, "/me/two-factor/disable", {"reauth": Factory.PASSWORD})
    assert "cannot be turned off" in refused.follow().text
    assert dbsession.scalar(select(TwoFactor.enabled_at)) is not None


def test_required_for_admins_leaves_other_users_alone(testapp, user, mfa_settings):
    mfa_settings(mfa_require="admins")
    assert login(testapp, "wangwei").headers["Location"] == "http://taskdesk.test/"
    assert whoami(testapp) == "wangwei"


def test_admin_resets_a_users_two_factor(testapp, enrolled, factory, make_testapp, dbsession):
    factory.user("ada", admin=True)
    admin = make_testapp()
    login(admin, "ada")
    user_id = dbsession.scalar(select(User.id).where(User.username == "wangwei"))
    page = admin.get(f"/admin/users/{user_id}/")
    assert page.html.select_one("#two-factor-status").get_text() == "On"
    done = confirm(find_form(page, "/reset-two-factor").submit()).follow()
    assert "was reset" in done.text
    assert done.html.select_one("#two-factor-status").get_text() == "Off"
    assert login(testapp, "wangwei").headers["Location"] == "http://taskdesk.test/"


def test_statement_counts_of_the_pages(testapp, enrolled, count_statements, dbsession,
                                       make_testapp):
    secret, _codes = enrolled

    def counted(app: webtest.TestApp, path: str) -> int:
        app.get(path)
        with count_statements() as statements:
            app.get(path)
        return len(statements)

    login(testapp, "wangwei")
    # Counts include the test transaction's SAVEPOINT and its ROLLBACK TO (two statements).
    # The pending sign-in, then its user.
    assert counted(testapp, "/login/verify") == 4
    verify(testapp, code(secret, 1), remember=True)
    # The profile: one statement for the two-factor status, one for the feed address card.
    few = counted(testapp, "/me/")
    assert few == 9
    user_id = dbsession.scalar(select(User.id).where(User.username == "wangwei"))
    for n in range(5):
        dbsession.add(RememberedDevice(user_id=user_id, token_hash=f"{n:064d}",
                                       expires_at=utcnow() + timedelta(days=1)))
    dbsession.flush()
    assert counted(testapp, "/me/") == few
    fresh = make_testapp()
    factory_user = User(username="newbie", display_name="N", password_hash=dbsession.scalar(
        select(User.password_hash).where(User.id == user_id)))
    dbsession.add(factory_user)
    dbsession.flush()
    login(fresh, "newbie")
    # Identity, the bell, the user's row, the 2FA row (the set-up secret is written on the
    # first visit only).
    assert counted(fresh, "/me/two-factor") == 6


def test_a_sign_in_waiting_for_a_code_cannot_set_up_another_authenticator(testapp, enrolled):
    login(testapp, "wangwei")
    assert testapp.get("/login/enrol").headers["Location"].endswith("/login/verify")
    refused = post(testapp, "/login/enrol", {"code": "123456"})
    assert refused.headers["Location"].endswith("/login/verify")
    assert whoami(testapp) is None


@pytest.mark.parametrize(("method", "trust", "signed_in"), [
    ("ldap", True, True), ("oidc", True, True), ("ldap", False, False),
    ("password", True, False),
])
def test_provider_sign_ins_trust_the_providers_second_factor(
        wsgi_app, enrolled, dbsession, mfa_settings, method, trust, signed_in):
    """``finish_sign_in`` as the LDAP and OIDC views call it (helper ``sso`` adds them)."""
    mfa_settings(mfa_trust_provider=trust)
    user = dbsession.scalar(select(User).where(User.username == "wangwei"))
    request = Request.blank("/login", base_url="http://taskdesk.test")
    with prepare(request=request, registry=wsgi_app.registry) as env:
        request.root = root_factory(request)
        request.tm.begin()
        try:
            response = finish_sign_in(env["request"], user, method, "/projects/")
            env["request"].dbsession.flush()
            started = env["request"].dbsession.scalar(
                select(func.count()).select_from(AuthSession)
                .where(AuthSession.user_id == user.id))
        finally:
            request.tm.abort()
    if signed_in:
        assert response.location == "http://taskdesk.test/projects/"
        assert started == 1
    else:
        assert response.location == "http://taskdesk.test/login/verify"
        assert started == 0
