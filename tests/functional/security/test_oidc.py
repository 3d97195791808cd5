"""Signing in with an OpenID provider: a real provider on a loopback port (tests.support.
oidc_provider), the real app, the full round trip through the browser's redirects."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import webtest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from taskdesk.models import DirectoryAccount, Group, GroupMember, User
from taskdesk.security import oidc
from tests.support.factories import Factory
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    Person,
    Provider,
    follow_to_callback,
    openid_provider,
)
from tests.support.web import csrf_token

ALERT = re.compile(r'<p role="alert" class="form-summary">([^<]*)</p>')


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with openid_provider() as running:
        yield running


@pytest.fixture
def idp(provider: Provider) -> Iterator[Provider]:
    provider.reset()
    yield provider
    provider.reset()


def oidc_settings(provider: Provider, **more: str) -> dict[str, str]:
    return {"taskdesk.oidc.issuer": provider.issuer, "taskdesk.oidc.name": "Example SSO",
            "taskdesk.oidc.client_id": CLIENT_ID, "taskdesk.oidc.client_secret": CLIENT_SECRET,
            "taskdesk.oidc.groups_claim": "groups",
            "taskdesk.directory.groups": "engineering -> developers\nit-admins -> site-admin",
            **more}


@pytest.fixture
def app(app_with: Callable[..., webtest.TestApp], idp: Provider) -> webtest.TestApp:
    return app_with(**oidc_settings(idp))


def start(app: webtest.TestApp, next_path: str = "") -> str:
    """Press "Sign in with Example SSO" on the sign-in page; return where it sends us."""
    page = app.get("/login" + (f"?next={next_path}" if next_path else ""))
    assert "Sign in with Example SSO" in page.text
    answer = page.forms["oidc-form"].submit()
    assert answer.status_int == 303
    location = answer.headers["Location"]
    assert location.startswith("http://127.0.0.1:")
    assert "code_challenge_method=S256" in location
    assert "nonce=" in location
    return location


def sign_in(app: webtest.TestApp, next_path: str = "") -> webtest.TestResponse:
    return app.get(follow_to_callback(start(app, next_path)))


def alert(page: webtest.TestResponse) -> str:
    found = ALERT.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


def signed_in_as(app: webtest.TestApp) -> str:
    return str(app.get("/api/v1/me").json["username"])


def test_first_sign_in_creates_the_account_and_lands_signed_in(
    app: webtest.TestApp, idp: Provider, dbsession: Session
) -> None:
    idp.user = Person("sub-123", "Grace.Hopper", "Grace Hopper", "grace@example.com",
                      locale="zh-CN", groups=["engineering", "it-admins"])
    answer = sign_in(app, "/projects")
    assert answer.status_int == 303
    assert answer.headers["Location"] == "http://taskdesk.test/projects"
    assert signed_in_as(app) == "grace.hopper"
    user = dbsession.scalars(select(User).where(User.username == "grace.hopper")).one()
    assert (user.display_name, user.email, user.locale) == (
        "Grace Hopper", "grace@example.com", "zh_CN")
    assert user.is_site_admin
    assert not user.password_hash.startswith("$argon2")
    link = dbsession.scalars(select(DirectoryAccount).where(
        DirectoryAccount.user_id == user.id)).one()
    assert (link.provider, link.subject) == (idp.issuer, "sub-123")
    groups = dbsession.scalars(select(Group.name).join(GroupMember).where(
        GroupMember.user_id == user.id)).all()
    assert groups == ["developers"]


def test_profile_and_groups_follow_the_provider_at_each_sign_in(
    app: webtest.TestApp, make_app: Callable[[], webtest.TestApp], idp: Provider,
    factory: Factory, dbsession: Session
) -> None:
    idp.user = Person("sub-7", "lin", "Lin", "lin@example.com", groups=["engineering"])
    sign_in(app)
    user = dbsession.scalars(select(User).where(User.username == "lin")).one()
    unmapped = factory.group("book-club", members=(user,))
    idp.user = Person("sub-7", "lin.wei", "Lin Wei", "wei@example.com", locale="en",
                      groups=[])
    second = make_app()
    sign_in(second)
    assert signed_in_as(second) == "lin.wei"
    dbsession.expire_all()
    assert (user.username, user.display_name, user.email) == ("lin.wei", "Lin Wei",
                                                              "wei@example.com")
    groups = dbsession.scalars(select(Group.name).join(GroupMember).where(
        GroupMember.user_id == user.id)).all()
    assert groups == [unmapped.name]  # developers removed, the unmapped group kept


def test_a_taken_username_gets_a_number_and_never_the_local_account(
    app: webtest.TestApp, idp: Provider, factory: Factory
) -> None:
    factory.user("ada")
    sign_in(app)
    assert signed_in_as(app) == "ada-2"


def test_a_deactivated_account_cannot_sign_in(
    app: webtest.TestApp, make_app: Callable[[], webtest.TestApp], idp: Provider,
    dbsession: Session
) -> None:
    sign_in(app)
    user = dbsession.scalars(select(User).where(User.username == "ada")).one()
    user.is_active = False
    dbsession.flush()
    other = make_app()
    page = sign_in(other)
    assert page.status_int == 200
    assert alert(page) == "This account is deactivated. Ask a site admin."
    assert other.get("/api/v1/me", expect_errors=True).status_int == 401


@pytest.mark.parametrize(("tamper", "logged"), [
    ("audience", "invalid_claim: Invalid claim: 'aud'"),
    ("expired", "expired_token"),
    ("none", "Algorithm of 'none' is not allowed"),
    ("hs256", "Algorithm of 'HS256' is not allowed"),
    ("nonce", "invalid_claim: Invalid claim: 'nonce'"),
])
def test_a_bad_id_token_is_refused(
    tamper: str, logged: str, app: webtest.TestApp, idp: Provider, dbsession: Session,
    caplog: pytest.LogCaptureFixture
) -> None:
    idp.tamper = tamper
    with caplog.at_level(logging.WARNING, logger="taskdesk.web.views.oidc"):
        page = sign_in(app)
    assert "ID token refused" in caplog.text
    assert logged in caplog.text
    assert page.status_int == 200
    assert alert(page) == ("Signing in with Example SSO failed. Please try again, or ask "
                           "a site admin.")
    assert app.get("/api/v1/me", expect_errors=True).status_int == 401
    assert dbsession.scalar(select(User).where(User.username == "ada")) is None


def test_a_forged_state_is_refused(app: webtest.TestApp, idp: Provider) -> None:
    callback = follow_to_callback(start(app))
    forged = re.sub(r"state=[^&]+", "state=forged-by-someone", callback)
    page = app.get(forged)
    assert alert(page) == "This sign-in has expired or was used already. Please sign in again."
    assert app.get("/api/v1/me", expect_errors=True).status_int == 401


def test_a_callback_from_another_browser_is_refused(
    app: webtest.TestApp, make_app: Callable[[], webtest.TestApp], idp: Provider
) -> None:
    """Login CSRF: someone else's callback (their code, their state) does not sign this
    browser in as them."""
    callback = follow_to_callback(start(app))
    victim = make_app()
    page = victim.get(callback)
    assert alert(page).startswith("This sign-in has expired")
    assert victim.get("/api/v1/me", expect_errors=True).status_int == 401


def test_a_replayed_callback_and_a_replayed_code_are_refused(
    app: webtest.TestApp, make_app: Callable[[], webtest.TestApp], idp: Provider
) -> None:
    callback = follow_to_callback(start(app))
    assert app.get(callback).status_int == 303
    assert alert(app.get(callback)).startswith("This sign-in has expired")
    # The used code in a new sign-in of another browser: the provider refuses it.
    other = make_app()
    fresh = follow_to_callback(start(other))
    used_code = re.search(r"code=([^&]+)", callback).group(1)  # type: ignore[union-attr]
    replay = re.sub(r"code=[^&]+", f"code={used_code}", fresh)
    page = other.get(replay)
    assert alert(page).startswith("Signing in with Example SSO failed")
    assert other.get("/api/v1/me", expect_errors=True).status_int == 401


def test_a_new_signing_key_is_fetched_when_a_token_names_it(
    app: webtest.TestApp, make_app: Callable[[], webtest.TestApp], idp: Provider
) -> None:
    sign_in(app)
    idp.rotate()
    with oidc._cache.lock:  # the last fetch of the keys is older than the refresh limit
        for uri, (fetched, keys) in list(oidc._cache.keys.items()):
            oidc._cache.keys[uri] = (fetched - oidc.JWKS_MIN_REFRESH, keys)
    other = make_app()
    assert sign_in(other).status_int == 303
    assert signed_in_as(other) == "ada"


def test_the_provider_saying_no_is_shown(app: webtest.TestApp, idp: Provider) -> None:
    callback = follow_to_callback(start(app))
    state = re.search(r"state=([^&]+)", callback).group(1)  # type: ignore[union-attr]
    page = app.get(f"/oidc-callback?error=access_denied&state={state}")
    assert alert(page) == "Example SSO did not sign you in."


def test_an_unreachable_provider_is_said_so(
    app_with: Callable[..., webtest.TestApp], provider: Provider
) -> None:
    from tests.support.servers import free_port

    app = app_with(**{**oidc_settings(provider),
                      "taskdesk.oidc.issuer": f"http://127.0.0.1:{free_port()}",
                      "taskdesk.oidc.timeout": "2"})
    page = app.get("/login").forms["oidc-form"].submit()
    assert page.status_int == 200
    assert alert(page) == "Example SSO cannot be reached. Please try again later."


def test_without_an_issuer_there_is_no_button_and_no_views(
    app_with: Callable[..., webtest.TestApp]
) -> None:
    app = app_with()
    assert "oidc-form" not in app.get("/login").text
    assert app.get("/oidc-callback?state=x&code=y", expect_errors=True).status_int == 404


@pytest.fixture
def make_app(app_with: Callable[..., webtest.TestApp], idp: Provider) -> Callable[[], Any]:
    """Another browser on the same OpenID-enabled app."""
    return lambda: app_with(**oidc_settings(idp))


def test_the_sign_in_page_lets_its_form_lead_to_the_provider(
    app: webtest.TestApp, idp: Provider, testapp: webtest.TestApp
) -> None:
    """Browsers check form-action on each redirect after a form is sent: the sign-in page
    (and a refusal shown on it) allow the provider's origin, other pages only the site."""
    policy = app.get("/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {idp.issuer};" in policy
    refused = app.get("/oidc-callback?state=forged&code=x")
    assert f"form-action 'self' {idp.issuer};" in refused.headers["Content-Security-Policy"]
    assert "form-action 'self';" in testapp.get("/login").headers["Content-Security-Policy"]


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):  # the test's own
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_statement_counts_of_an_openid_sign_in(
    app: webtest.TestApp, make_app: Callable[[], webtest.TestApp], idp: Provider,
    engine: Engine, factory: Factory
) -> None:
    """The sign-in page asks nothing; starting costs two statements; a returning person's
    callback a fixed number, whatever their groups."""
    idp.user = Person("sub-count", "cory", "Cory", "cory@example.com",
                      groups=["engineering", "it-admins"])
    sign_in(app)
    for group in range(5):
        factory.group(f"unmapped-{group}")
    other = make_app()
    with statements(engine) as seen:
        page = other.get("/login")
    assert seen == []
    with statements(engine) as seen:
        location = page.forms["oidc-form"].submit().headers["Location"]
    assert len(seen) == 2, seen  # the stale sign-ins deleted, this one inserted
    callback = follow_to_callback(location)
    with statements(engine) as seen:
        assert other.get(callback).status_int == 303
    # PostgreSQL takes the audit chain's advisory lock in one statement more.
    expected = CALLBACK_STATEMENTS + (engine.dialect.name == "postgresql")
    assert len(seen) == expected, "\n".join(seen)


#: The callback of a returning person whose profile and groups did not change: the sign-in
#: row claimed (1), the linked account (1), the mapped groups and their memberships (2), the
#: audit entry (the chain's head, the entry: 2), the new session (1).
CALLBACK_STATEMENTS = 7


def test_with_local_passwords_off_only_the_button_is_offered(
    app_with: Callable[..., webtest.TestApp], idp: Provider, factory: Factory
) -> None:
    app = app_with(**oidc_settings(idp, **{"taskdesk.auth.local_passwords": "off"}))
    page = app.get("/login")
    assert "oidc-form" in page.forms
    assert "login-form" not in page.forms
    assert "or with a password" not in page.text
    factory.user("root", admin=True)
    refused = app.post("/login", {"username": "root", "password": Factory.PASSWORD,
                                  "csrf_token": csrf_token(app)})
    assert alert(refused) == "Wrong username or password."
