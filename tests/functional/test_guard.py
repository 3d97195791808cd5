"""Malformed input at the HTTP layer answers 400 (oversized bodies 413), never 500."""

from __future__ import annotations

import io

import pytest
import webtest
from webob import Request

from taskdesk.settings import TaskdeskSettings

MALFORMED_PATHS = [
    "/projects/%FF",
    "/%00",
    "/projects/abc%00def",
    "/projects/%C3%28",  # an invalid two-byte sequence
    "/projects/%ED%A0%80",  # a UTF-16 surrogate encoded as UTF-8
]


@pytest.mark.parametrize("path", MALFORMED_PATHS)
def test_malformed_path_is_400(testapp: webtest.TestApp, path: str) -> None:
    response = testapp.get(path, status=400)
    assert "not valid UTF-8" in response.text


@pytest.mark.parametrize("path", ["/api/v1/%FF", "/api/v1/projects/%00"])
def test_malformed_api_path_is_400_json(testapp: webtest.TestApp, path: str) -> None:
    response = testapp.get(path, status=400)
    assert response.content_type == "application/json"
    assert response.json["error"]["status"] == 400
    assert response.json["error"]["code"] == "malformed_request"


def test_replacement_character_in_path_is_400(testapp: webtest.TestApp) -> None:
    """Hypercorn hands over invalid bytes already decoded to U+FFFD."""
    request = Request.blank("/", environ={"PATH_INFO": "/projects/\ufffd"})
    response = request.get_response(testapp.app)
    assert response.status_int == 400


@pytest.mark.parametrize("query", ["q=%FF", "q=%00", "next=%C3%28", "%FF=1"])
def test_malformed_query_is_400(testapp: webtest.TestApp, query: str) -> None:
    testapp.get(f"/login?{query}", status=400)
    response = testapp.get(f"/api/v1/me?{query}", status=400)
    assert response.json["error"]["code"] == "malformed_request"


@pytest.mark.parametrize("body", [b"username=%FF&password=x", b"username=a%00b&password=x",
                                  b"username=\xff&password=x"])
def test_malformed_form_body_is_400(testapp: webtest.TestApp, body: bytes) -> None:
    response = testapp.post("/login", body,
                            content_type="application/x-www-form-urlencoded", status=400)
    assert "form data is not valid UTF-8" in response.text


def test_well_formed_unicode_is_not_refused(testapp: webtest.TestApp) -> None:
    """The guard refuses broken bytes, not Chinese: a valid UTF-8 path is simply unknown
    (an anonymous visitor is sent to sign in, as for any project the tree does not show)."""
    response = testapp.get("/projects/%E4%B8%AD%E6%96%87", expect_errors=True)
    assert response.status_int == 303
    assert testapp.get("/healthz?q=%E4%B8%AD%E6%96%87").json == {"status": "ok"}


@pytest.mark.parametrize("path", ["/login", "/api/v1/me"])
def test_oversized_body_is_413(
    testapp: webtest.TestApp, settings: TaskdeskSettings, path: str
) -> None:
    limit = settings.max_body_bytes
    response = testapp.post(path, b"x" * (limit + 1), content_type="application/octet-stream",
                            status=413)
    if path.startswith("/api/"):
        assert response.json["error"]["code"] == "payload_too_large"


def test_oversized_chunked_body_is_413(
    testapp: webtest.TestApp, settings: TaskdeskSettings
) -> None:
    """Without a Content-Length the guard reads just past the limit to decide."""
    limit = settings.max_body_bytes
    request = Request.blank("/login", method="POST", environ={
        "wsgi.input": io.BytesIO(b"x" * (limit + 10)),
        "wsgi.input_terminated": True,
        "CONTENT_TYPE": "application/octet-stream",
    })
    request.environ.pop("CONTENT_LENGTH", None)
    assert request.get_response(testapp.app).status_int == 413


def test_body_at_the_limit_is_not_413(testapp: webtest.TestApp, settings: TaskdeskSettings) -> None:
    limit = settings.max_body_bytes
    response = testapp.post("/login", b"x" * limit, content_type="application/octet-stream",
                            expect_errors=True)
    assert response.status_int != 413
    assert response.status_int == 400  # past the guard: the sign-in form's CSRF check
    assert "form has expired" in response.text
