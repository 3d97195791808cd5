"""Fixtures for the security tests: browsers signed in through the real form, apps built with
small limits, and a reader of the signed session cookie.

Browsers here never scrape a page for the CSRF token: they read it from their own session
cookie (as the server would), so these tests do not depend on how the web UI lays out its
forms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import webtest
from argon2 import PasswordHasher
from sqlalchemy.engine import Connection
from webob.cookies import JSONSerializer, SignedSerializer

from taskdesk import main
from taskdesk.security import login, passwords
from tests.conftest import SESSION_SECRET, app_settings, joined
from tests.support.factories import Factory

HOST = "taskdesk.test"
COOKIE_NAME = "taskdesk"
SESSION_SERIALIZER = SignedSerializer(
    SESSION_SECRET, salt="pyramid.session.", hashalg="sha512", serializer=JSONSerializer()
)


def new_browser(wsgi_app: Any, **environ: str) -> webtest.TestApp:
    return webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": HOST, **environ})


def session_cookie(app: webtest.TestApp) -> str | None:
    """The raw value of ``app``'s session cookie, if it has one."""
    value = app.cookies.get(COOKIE_NAME)
    return None if value is None else str(value)


def session_data(cookie_value: str) -> dict[str, Any]:
    """The dictionary inside a session cookie, checked against the signing secret."""
    _accessed, _created, data = SESSION_SERIALIZER.loads(cookie_value.strip('"').encode())
    return dict(data)


def csrf_of(app: webtest.TestApp) -> str:
    """The CSRF token in ``app``'s session; a GET of the sign-in page starts a session."""
    cookie = session_cookie(app)
    if cookie is None or "_csrft_" not in session_data(cookie):
        app.get("/login")
        cookie = session_cookie(app)
    assert cookie is not None, "the sign-in page did not start a session"
    return str(session_data(cookie)["_csrft_"])


def submit_login(
    app: webtest.TestApp,
    username: str,
    password: str = Factory.PASSWORD,
    next_path: str | None = None,
    **headers: str,
) -> webtest.TestResponse:
    """POST the sign-in form the way the page would, with its CSRF token."""
    fields = {"username": username, "password": password, "csrf_token": csrf_of(app)}
    if next_path is not None:
        fields["next"] = next_path
    return app.post("/login", fields, headers=headers, expect_errors=True)


def sign_in(app: webtest.TestApp, username: str, password: str = Factory.PASSWORD) -> str:
    """Sign ``app`` in as ``username``; return the new session cookie's value."""
    response = submit_login(app, username, password)
    assert response.status_int == 303, response.text[:300]
    cookie = session_cookie(app)
    assert cookie is not None
    return cookie


def whoami(app: webtest.TestApp, **headers: str) -> str | None:
    """The username the app sees for ``app``'s next request, or None when anonymous."""
    response = app.get("/api/v1/me", headers=headers, expect_errors=True)
    if response.status_int == 200:
        return str(response.json["username"])
    assert response.status_int == 401, response.status
    return None


#: Argon2id with the smallest parameters, for tests that hash passwords by the dozen.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """Hash with ``CHEAP_HASHER`` in the app (also for unknown users) and for factory users.

    For tests that sign in or change passwords by the dozen and test who may, not how the
    hash is made (``test_passwords`` keeps the real parameters)."""
    monkeypatch.setattr(passwords, "_hasher", CHEAP_HASHER)
    monkeypatch.setattr(login, "DUMMY_HASH", CHEAP_HASHER.hash("timing-equaliser"))
    monkeypatch.setattr(Factory, "_password_hash", CHEAP_HASHER.hash(Factory.PASSWORD))
    return CHEAP_HASHER


_apps: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}


@pytest.fixture
def app_with(
    database_url: str, connection: Connection
) -> Iterator[Callable[..., webtest.TestApp]]:
    """``app_with(**{"taskdesk.login.account_limit": "3"})``: a browser on an app built with
    those settings (built once per settings and backend), in this test's transaction."""
    with ExitStack() as bound:

        def build(**overrides: str) -> webtest.TestApp:
            key = (database_url, tuple(sorted(overrides.items())))
            if key not in _apps:
                _apps[key] = main({}, **app_settings(database_url, **overrides))
            wsgi_app = _apps[key]
            bound.enter_context(joined(wsgi_app, connection))
            return new_browser(wsgi_app)

        yield build


@pytest.fixture
def browser(wsgi_app: Any, connection: Connection) -> Callable[[], webtest.TestApp]:
    """A new browser (own cookie jar) on the standard app."""
    return lambda: new_browser(wsgi_app)
