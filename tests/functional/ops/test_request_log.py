"""Request ids, the access log and error logging (taskdesk.ops)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
import webtest
from pyramid_retry import RetryableException
from sqlalchemy.engine import Connection

from taskdesk.resources import Root
from taskdesk.security.permissions import Permission
from tests.support.apps import build_app, joined
from tests.support.factories import Factory
from tests.support.web import login

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "taskdesk.access"]


def fields(line: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.split(" "))


@pytest.fixture(autouse=True)
def capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="taskdesk")


def test_request_id_is_generated_returned_and_logged(ops_testapp: webtest.TestApp,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    response = ops_testapp.get("/healthz")
    request_id = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(request_id)
    [line] = access_lines(caplog)
    logged = fields(line)
    assert logged["request_id"] == request_id
    assert (logged["user"], logged["method"], logged["path"], logged["status"]) == (
        "-", "GET", "/healthz", "200")
    assert float(logged["duration_ms"]) >= 0


def test_each_request_gets_its_own_id(ops_testapp: webtest.TestApp) -> None:
    first = ops_testapp.get("/healthz").headers["X-Request-ID"]
    assert ops_testapp.get("/healthz").headers["X-Request-ID"] != first


@pytest.mark.parametrize("given", ["req-42.abc:7", "x" * 200, "A!~"])
def test_valid_client_request_id_is_kept(ops_testapp: webtest.TestApp,
                                         caplog: pytest.LogCaptureFixture, given: str) -> None:
    response = ops_testapp.get("/healthz", headers={"X-Request-ID": given})
    assert response.headers["X-Request-ID"] == given
    assert fields(access_lines(caplog)[0])["request_id"] == given


@pytest.mark.parametrize("given", ["has space", "x" * 201, "tab\there", "bell\x07", "é"])
def test_invalid_client_request_id_is_replaced(ops_testapp: webtest.TestApp, given: str) -> None:
    response = ops_testapp.get("/healthz", headers={"X-Request-ID": given})
    assert GENERATED_ID.fullmatch(response.headers["X-Request-ID"])


def test_access_line_names_the_signed_in_user(ops_testapp: webtest.TestApp, factory: Factory,
                                              caplog: pytest.LogCaptureFixture) -> None:
    user = factory.user("opsuser")
    assert login(ops_testapp, "opsuser").status_int == 303
    caplog.clear()
    ops_testapp.get("/api/v1/me")
    assert fields(access_lines(caplog)[-1])["user"] == str(user.id)


def test_paths_are_escaped_into_one_field(ops_testapp: webtest.TestApp,
                                          caplog: pytest.LogCaptureFixture) -> None:
    ops_testapp.get("/no%20such/%22x%0Auser=1", status=404)
    [line] = access_lines(caplog)
    assert "\n" not in line
    logged = fields(line)
    assert logged["path"] == "/no%20such/%22x%0Auser=1"
    assert (logged["user"], logged["status"]) == ("-", "404")


def test_refused_requests_are_logged_too(ops_testapp: webtest.TestApp,
                                         caplog: pytest.LogCaptureFixture) -> None:
    ops_testapp.get("/projects/%00", status=400)
    assert fields(access_lines(caplog)[0])["status"] == "400"


def add_failing_views(config: Any) -> None:
    def boom(request: Any) -> Any:
        raise RuntimeError("secret internal detail")

    def flaky(request: Any) -> Any:
        attempt = request.environ.get("retry.attempt", 0)
        if attempt == 0:
            raise RetryableException("transient")
        request.response.text = f"ok after attempt {attempt}"
        return request.response

    config.add_view(boom, context=Root, name="boom", permission=Permission.PUBLIC)
    config.add_view(flaky, context=Root, name="flaky", permission=Permission.PUBLIC)


@pytest.fixture(scope="module", params=["taskdesk.web taskdesk.api", ""],
                ids=["with-error-pages", "bare"])
def failing_app(request: pytest.FixtureRequest, database_url: str, engine: Any) -> Any:
    """With the web UI's error pages, and without any exception view (the tween's own 500)."""
    return build_app(database_url, add_failing_views, **{"taskdesk.includes": request.param})


@pytest.fixture
def failing_testapp(failing_app: Any, connection: Connection) -> Any:
    with joined(failing_app, connection):
        yield webtest.TestApp(failing_app)


def test_errors_are_logged_with_request_id_and_traceback_never_shown(
    failing_testapp: webtest.TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    response = failing_testapp.get("/boom", headers={"X-Request-ID": "trace-me-1"}, status=500)
    assert response.headers["X-Request-ID"] == "trace-me-1"
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    [error] = [r for r in caplog.records if r.name == "taskdesk.error"]
    assert error.levelno == logging.ERROR
    assert "request_id=trace-me-1" in error.getMessage()
    assert error.exc_info is not None
    assert error.exc_info[0] is RuntimeError
    assert fields(access_lines(caplog)[0])["status"] == "500"


def test_retried_request_logs_one_access_line_and_a_warning(
    failing_testapp: webtest.TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    response = failing_testapp.get("/flaky", headers={"X-Request-ID": "retry-me"})
    assert response.text == "ok after attempt 1"
    assert response.headers["X-Request-ID"] == "retry-me"
    [line] = access_lines(caplog)
    assert (fields(line)["request_id"], fields(line)["status"]) == ("retry-me", "200")
    [warning] = [r for r in caplog.records if r.name == "taskdesk.error"]
    assert warning.levelno == logging.WARNING
    assert "request_id=retry-me" in warning.getMessage()
    assert "retrying" in warning.getMessage()
