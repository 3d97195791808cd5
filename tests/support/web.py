"""Helpers for driving the web UI's forms as a browser does (CSRF fields travel along)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import webtest

from tests.conftest import CSRF_INPUT, login
from tests.support.factories import Factory

FLASH = re.compile(r'<p class="flash flash--(success|error)"[^>]*>([^<]*)</p>')
FIELD_ERROR = re.compile(r'<p class="field-error" id="([\w-]+)-error">([^<]*)</p>')


def form(page: webtest.TestResponse, action: str) -> webtest.forms.Form:
    """The one form on ``page`` whose action ends with ``action``."""
    found = [f for f in page.forms.values() if (f.action or "").endswith(action)]
    assert len(found) == 1, f"{len(found)} forms posting to …{action} on {page.request.url}"
    return found[0]


def post(app: webtest.TestApp, url: str, data: dict[str, Any], **kw: Any) -> Any:
    """A POST with the session's CSRF token, for actions the page does not offer (e.g. a
    disabled button, or a page that another user would see)."""
    token = CSRF_INPUT.search(app.get("/login").text)
    assert token, "no CSRF token on the sign-in page"
    return app.post(url, {**data, "csrf_token": token.group(1)}, **kw)


def flashes(page: webtest.TestResponse) -> list[tuple[str, str]]:
    """The (queue, text) of each flash message on ``page``."""
    return [(queue, text.strip()) for queue, text in FLASH.findall(page.text)]


def field_errors(page: webtest.TestResponse) -> dict[str, str]:
    """Each field-level error message on ``page``, by field name."""
    return {name: text.strip() for name, text in FIELD_ERROR.findall(page.text)}


def is_signed_in(app: webtest.TestApp) -> bool:
    """Whether ``app``'s session still signs it in (the profile page answers, no redirect)."""
    status = app.get("/me/", expect_errors=True).status_int
    assert status in (200, 303), status
    return status == 200


@pytest.fixture
def signed_in(make_testapp: Callable[[], webtest.TestApp]) -> Callable[[str], webtest.TestApp]:
    """``signed_in(username)``: another browser, signed in as ``username``."""

    def sign_in(username: str, password: str = Factory.PASSWORD) -> webtest.TestApp:
        app = make_testapp()
        assert login(app, username, password).status_int == 303
        return app

    return sign_in
