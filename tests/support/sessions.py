"""Browsers that never scrape a page for the CSRF token: they read it from their own signed
session cookie (as the server would), so the security tests do not depend on how the web UI
lays out its forms."""

from __future__ import annotations

from typing import Any

import webtest
from webob.cookies import JSONSerializer, SignedSerializer

from tests.support.apps import HOST, SESSION_SECRET
from tests.support.factories import Factory

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
