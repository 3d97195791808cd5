"""Signing in and out: messages, hashes, session rotation, cookies, redirects, throttling."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import webtest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from taskdesk.models import AuthSession, LoginFailure, User
from taskdesk.models.meta import utcnow
from taskdesk.security import login as login_module
from taskdesk.security import passwords
from taskdesk.security.secrets import digest
from tests.support.apps import HOST
from tests.support.factories import Factory
from tests.support.sessions import (
    csrf_of,
    session_cookie,
    session_data,
    sign_in,
    submit_login,
    whoami,
)

#: Sign-ins here check who gets in, not the hash (see test_passwords): cheap Argon2 params.

HOME = f"http://{HOST}/"
WRONG = "Wrong username or password."
THROTTLED = "Too many failed sign-ins"
ALERT = re.compile(r'role="alert"[^>]*>([^<]*)<')


def alert(response: webtest.TestResponse) -> str:
    match = ALERT.search(response.text)
    assert match, f"no error message on the page: {response.text[:300]}"
    return str(match.group(1)).strip()


def set_cookie_header(response: webtest.TestResponse) -> str:
    headers = [str(v) for k, v in response.headerlist if k.lower() == "set-cookie"]
    session_headers = [h for h in headers if h.startswith("taskdesk=")]
    assert session_headers, f"no session cookie set: {headers}"
    return session_headers[-1]


# -- success, failure, messages ----------------------------------------------------------------

def test_login_success_redirects_home(factory: Factory, browser: Callable[[], Any]) -> None:
    factory.user("alice")
    app = browser()
    response = submit_login(app, "alice")
    assert response.status_int == 303
    assert response.location == HOME
    assert whoami(app) == "alice"


def test_login_redirects_to_next(factory: Factory, browser: Callable[[], Any]) -> None:
    factory.user("alice")
    app = browser()
    response = submit_login(app, "Alice ", next_path="/projects/?sort=name")
    assert response.status_int == 303
    assert response.location == f"http://{HOST}/projects/?sort=name"


def test_wrong_password_and_unknown_user_look_the_same(
    factory: Factory, browser: Callable[[], Any]
) -> None:
    factory.user("alice")
    factory.user("inactive", active=False)
    wrong_password = submit_login(browser(), "alice", "not the password")
    unknown_user = submit_login(browser(), "nobody", "not the password")
    inactive_user = submit_login(browser(), "inactive")
    for response in (wrong_password, unknown_user, inactive_user):
        assert response.status_int == wrong_password.status_int == 200
        assert alert(response) == WRONG
        assert "auth" not in session_data(session_cookie(response.test_app) or "")


def test_unknown_user_costs_a_password_check_too(
    factory: Factory, browser: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong username takes as long as a wrong password: a hash is verified either way."""
    checked: list[str] = []
    original = passwords.verify_password

    def counting(password_hash: str, password: str,
                 cost: passwords.Argon2Cost) -> tuple[bool, bool]:
        checked.append(password_hash)
        return original(password_hash, password, cost)

    monkeypatch.setattr(login_module, "verify_password", counting)
    factory.user("alice")
    submit_login(browser(), "nobody", "not the password")
    submit_login(browser(), "alice", "not the password")
    assert checked == [passwords.dummy_hash(factory.settings.password_cost),
                       factory.password_hash]
    # Made at the same cost (the hash's "$argon2id$v=19$m=...,t=...,p=..." prefix).
    assert checked[0].rsplit("$", 2)[0] == checked[1].rsplit("$", 2)[0]


# -- session rotation and cookies --------------------------------------------------------------

def _sessions_of(dbsession: Session, user: User) -> list[AuthSession]:
    dbsession.expire_all()
    return list(dbsession.scalars(select(AuthSession).where(AuthSession.user_id == user.id)))


def test_session_identifier_is_rotated_at_login(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    user = factory.user("alice")
    app = browser()
    csrf_before = csrf_of(app)
    before = session_cookie(app)
    assert before is not None
    assert "auth" not in session_data(before)

    after = sign_in(app, "alice")
    assert after != before
    data = session_data(after)
    assert data["_csrft_"] != csrf_before, "the CSRF token must change with the session"
    [row] = _sessions_of(dbsession, user)
    assert row.token_hash == digest(data["auth"])
    assert data["auth"] not in (row.token_hash, str(row.id))

    replay = browser()
    replay.set_cookie("taskdesk", before)
    assert whoami(replay) is None
    assert whoami(app) == "alice"


def test_signing_in_again_replaces_the_previous_session(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    factory.user("bob")
    app = browser()
    first = sign_in(app, "alice")
    [first_row] = _sessions_of(dbsession, alice)

    second = sign_in(app, "bob")
    assert second != first
    assert session_data(second)["auth"] != session_data(first)["auth"]
    assert _sessions_of(dbsession, alice) == [], f"{first_row} outlived the new sign-in"
    replay = browser()
    replay.set_cookie("taskdesk", first)
    assert whoami(replay) is None
    assert whoami(app) == "bob"


def test_a_tampered_session_cookie_is_anonymous(
    factory: Factory, browser: Callable[[], Any]
) -> None:
    factory.user("alice")
    app = browser()
    cookie = sign_in(app, "alice")
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    replay = browser()
    replay.set_cookie("taskdesk", forged)
    assert whoami(replay) is None


def test_session_cookie_flags_over_http(factory: Factory, browser: Callable[[], Any]) -> None:
    factory.user("alice")
    app = browser()
    pre_login = set_cookie_header(app.get("/login"))
    login = set_cookie_header(submit_login(app, "alice"))
    for header in (pre_login, login):
        attributes = {part.strip().lower() for part in header.split(";")[1:]}
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "secure" not in attributes


def test_session_cookie_is_secure_over_https(
    factory: Factory, app_with: Callable[..., webtest.TestApp]
) -> None:
    factory.user("alice")
    app = app_with(**{"taskdesk.https": "true"})
    app.extra_environ["wsgi.url_scheme"] = "https"
    origin = f"https://{HOST}"
    pre_login = set_cookie_header(app.get("/login"))
    response = submit_login(app, "alice", Origin=origin, Referer=f"{origin}/login")
    assert response.status_int == 303, response.text[:300]
    for header in (pre_login, set_cookie_header(response)):
        attributes = {part.strip().lower() for part in header.split(";")[1:]}
        assert {"httponly", "samesite=lax", "secure"} <= attributes


# -- redirect back, open redirects -------------------------------------------------------------

def test_anonymous_page_request_redirects_to_login_and_back(
    factory: Factory, browser: Callable[[], Any]
) -> None:
    member = factory.user("alice")
    project = factory.project(member, slug="secret-plans")
    app = browser()
    path = f"/projects/{project.slug}/"
    response = app.get(path, expect_errors=True)
    assert response.status_int == 303, response.status
    target = urlsplit(response.location)
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [path]

    page = app.get(response.location)
    form = next(f for f in page.forms.values() if "password" in f.fields)
    form["username"] = "alice"
    form["password"] = Factory.PASSWORD
    landed = form.submit()
    assert landed.status_int == 303
    assert landed.location == f"http://{HOST}{path}"
    assert app.get(path).status_int == 200


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "//evil.com/path",
        "https://evil.com",
        "http://evil.com/",
        "/\\evil.com",
        "\\\\evil.com",
        "https:evil.com",
        "javascript:alert(1)",
        " //evil.com",
        "evil.com",
    ],
)
def test_next_never_leaves_the_site(
    target: str, factory: Factory, browser: Callable[[], Any]
) -> None:
    factory.user("alice")
    response = submit_login(browser(), "alice", next_path=target)
    assert response.status_int == 303
    assert response.location == HOME


def test_next_is_escaped_on_the_sign_in_page(browser: Callable[[], Any]) -> None:
    page = browser().get("/login", {"next": '/x"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text
    form = next(f for f in page.forms.values() if "password" in f.fields)
    assert form["next"].value == '/x"><script>alert(1)</script>'


def test_language_switch_next_never_leaves_the_site(browser: Callable[[], Any]) -> None:
    app = browser()
    response = app.post("/language", {"csrf_token": csrf_of(app), "locale": "en",
                                      "next": "//evil.com/"})
    assert response.status_int == 303
    assert response.location == HOME


def test_next_with_non_ascii_characters_is_percent_encoded(
    factory: Factory, browser: Callable[[], Any]
) -> None:
    factory.user("alice")
    response = submit_login(browser(), "alice", next_path="/search?q=日本")
    assert response.status_int == 303
    assert response.location == f"http://{HOST}/search?q=%E6%97%A5%E6%9C%AC"


def test_next_with_control_characters_stays_on_site(
    factory: Factory, browser: Callable[[], Any]
) -> None:
    factory.user("alice")
    response = submit_login(browser(), "alice", next_path="/tasks\r\nX-Injected: yes")
    assert response.status_int == 303
    assert urlsplit(response.location).netloc == HOST
    assert "X-Injected" not in response.headers


# -- logout ----------------------------------------------------------------------------------

def test_logout_is_post_only_and_ends_the_session_on_the_server(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    app = browser()
    cookie = sign_in(app, "alice")

    assert app.get("/logout", expect_errors=True).status_int == 404
    assert whoami(app) == "alice"
    refused = app.post("/logout", expect_errors=True)
    assert refused.status_int == 400
    assert whoami(app) == "alice"

    response = app.post("/logout", {"csrf_token": csrf_of(app)})
    assert response.status_int == 303
    assert urlsplit(response.location).path == "/login"
    assert whoami(app) is None
    assert _sessions_of(dbsession, alice) == []

    replay = browser()
    replay.set_cookie("taskdesk", cookie)
    assert whoami(replay) is None


# -- throttling ------------------------------------------------------------------------------

def _fail(app: webtest.TestApp, username: str, **environ: str) -> webtest.TestResponse:
    app.extra_environ.update(environ)
    return submit_login(app, username, "definitely wrong")


def test_throttling_per_account(
    factory: Factory, app_with: Callable[..., webtest.TestApp]
) -> None:
    factory.user("alice")
    factory.user("bob")
    settings = {"taskdesk.login.account_limit": "3", "taskdesk.login.address_limit": "100"}
    for attempt in range(3):
        response = _fail(app_with(**settings), "alice", REMOTE_ADDR=f"10.0.0.{attempt + 1}")
        assert response.status_int == 200
        assert alert(response) == WRONG

    for address in ("10.0.0.1", "10.0.0.9"):
        app = app_with(**settings)
        app.extra_environ["REMOTE_ADDR"] = address
        throttled = submit_login(app, "ALICE")  # the right password, the same account
        assert throttled.status_int == 429
        assert THROTTLED in alert(throttled)
        assert whoami(app) is None

    other = app_with(**settings)
    other.extra_environ["REMOTE_ADDR"] = "10.0.0.1"
    assert submit_login(other, "bob").status_int == 303


def test_throttled_message_is_the_same_for_unknown_accounts(
    factory: Factory, app_with: Callable[..., webtest.TestApp]
) -> None:
    factory.user("alice")
    settings = {"taskdesk.login.account_limit": "2", "taskdesk.login.address_limit": "100"}
    responses = []
    for username in ("alice", "nobody"):
        app = app_with(**settings)
        for _attempt in range(2):
            _fail(app, username)
        responses.append(_fail(app, username))
    assert [r.status_int for r in responses] == [429, 429]
    assert alert(responses[0]) == alert(responses[1])


def test_throttling_per_client_address(
    factory: Factory, app_with: Callable[..., webtest.TestApp]
) -> None:
    factory.user("alice")
    settings = {"taskdesk.login.account_limit": "100", "taskdesk.login.address_limit": "3"}
    for attempt in range(3):
        # A client choosing its own X-Forwarded-For must not escape the address limit.
        response = _fail(
            app_with(**settings), f"guess{attempt}", REMOTE_ADDR="10.1.1.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}",
        )
        assert response.status_int == 200
        assert alert(response) == WRONG

    app = app_with(**settings)
    app.extra_environ.update(REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    throttled = submit_login(app, "alice")
    assert throttled.status_int == 429
    assert THROTTLED in alert(throttled)

    elsewhere = app_with(**settings)
    elsewhere.extra_environ["REMOTE_ADDR"] = "10.1.1.2"
    assert submit_login(elsewhere, "alice").status_int == 303


def test_throttling_forgets_failures_outside_the_window(
    factory: Factory, dbsession: Session, app_with: Callable[..., webtest.TestApp]
) -> None:
    factory.user("alice")
    settings = {"taskdesk.login.account_limit": "2", "taskdesk.login.window": "60"}
    for _attempt in range(2):
        _fail(app_with(**settings), "alice")
    assert submit_login(app_with(**settings), "alice").status_int == 429

    dbsession.execute(
        update(LoginFailure).values(created_at=utcnow() - timedelta(seconds=61))
    )
    dbsession.flush()
    assert submit_login(app_with(**settings), "alice").status_int == 303


def test_successful_login_clears_the_account_failures(
    factory: Factory, app_with: Callable[..., webtest.TestApp]
) -> None:
    factory.user("alice")
    settings = {"taskdesk.login.account_limit": "3", "taskdesk.login.address_limit": "100"}
    for _attempt in range(2):
        _fail(app_with(**settings), "alice")
    assert submit_login(app_with(**settings), "alice").status_int == 303
    for _attempt in range(2):
        assert _fail(app_with(**settings), "alice").status_int == 200
    assert submit_login(app_with(**settings), "alice").status_int == 303
