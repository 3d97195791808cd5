"""``taskdesk.https = true`` on a site reached over plain HTTP: the sign-in page says what is
wrong and how to fix it, and the log says it once; over HTTPS neither happens."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import webtest

HTTPS_ON = {"taskdesk.https": "true"}
MESSAGE = "this site is set up for HTTPS (taskdesk.https = true)"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == "taskdesk.security.transport" and record.levelno == logging.WARNING]


def test_plain_http_with_https_set_is_explained_on_the_sign_in_page_and_logged_once(
    spare_app: Callable[..., webtest.TestApp], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    browser = spare_app(**HTTPS_ON)
    page = browser.get("/login")
    problem = page.html.select_one("#https-problem")
    assert problem is not None
    assert MESSAGE in problem.text
    assert "taskdesk.https = false" in problem.text
    assert "secure" in page.headers["Set-Cookie"].lower()  # what the browser will not send back
    (line,) = _warnings(caplog)
    assert "a request for http://taskdesk.test came over plain HTTP" in line
    assert "X-Forwarded-Proto" in line
    assert "set taskdesk.https = false for a plain-HTTP intranet" in line
    # The form fails as it would in a browser; the page says why instead of "reload".
    form = page.forms["login-form"]
    form["username"] = "anyone"
    form["password"] = "any password"
    expired = form.submit(status=400)
    assert MESSAGE in expired.text
    assert "reload the page" not in expired.text
    chinese = browser.get("/login", headers={"Accept-Language": "zh-CN"})
    assert "本站配置为仅用 HTTPS" in chinese.text
    assert len(_warnings(caplog)) == 1  # once, not on every request


@pytest.mark.parametrize("environ", [
    {"wsgi.url_scheme": "https"},                      # TLS at the server, or applied by it
    {"HTTP_X_FORWARDED_PROTO": "https"},               # from a TLS proxy, passed through
    {"HTTP_FORWARDED": "for=192.0.2.1;proto=https"},  # RFC 7239
    # Browsers send Secure cookies to http://localhost and loopback addresses too.
    {"HTTP_HOST": "localhost:6543"},
    {"HTTP_HOST": "127.0.0.1:6543"},
    {"HTTP_HOST": "[::1]:6543"},
])
def test_https_requests_get_no_warning(
    spare_app: Callable[..., webtest.TestApp], caplog: pytest.LogCaptureFixture,
    environ: dict[str, str],
) -> None:
    caplog.set_level(logging.INFO)
    browser = spare_app(**HTTPS_ON)
    browser.extra_environ.update(environ)
    page = browser.get("/login")
    assert page.html.select_one("#https-problem") is None
    assert MESSAGE not in page.text
    assert _warnings(caplog) == []


def test_plain_http_with_https_off_gets_no_warning(
    spare_app: Callable[..., webtest.TestApp], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    page = spare_app(**{"taskdesk.https": "false"}).get("/login")
    assert page.html.select_one("#https-problem") is None
    assert _warnings(caplog) == []
