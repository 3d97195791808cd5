"""Every failure answers with the one JSON error shape and the right status."""

from __future__ import annotations

import orjson
import pytest

from taskdesk.api.views import me as me_views
from taskdesk.domain import accounts
from tests.support.web import csrf_token, login


def _error(response, status, code):
    assert response.status_int == status
    assert response.content_type == "application/json"
    error = response.json["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def test_no_credentials_is_401_with_a_bearer_challenge(client_for):
    response = client_for(None).get("/api/v1/me")
    _error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="taskdesk"'


def test_unknown_token_is_401_invalid_token(client_for, checker):
    from tests.support.api import ApiClient

    client = client_for(None)
    response = ApiClient(client.app, checker, "td_" + "x" * 43).get("/api/v1/me")
    _error(response, 401, "unauthorized")
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="taskdesk", error="invalid_token"')


def test_revoked_token_is_401_on_its_next_request(client_for, people, dbsession):
    client = client_for(people["member"])
    client.get("/api/v1/me", status=200)
    token = dbsession.scalars(
        accounts.select(accounts.ApiToken).where(accounts.ApiToken.user_id == people["member"].id)
    ).one()
    accounts.revoke_token(dbsession, token)
    dbsession.flush()
    response = client.get("/api/v1/projects/alpha")
    _error(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "revoked" in response.json["error"]["message"]


def test_private_project_is_404_for_outsiders_and_403_for_what_members_lack(client_for, people,
                                                                             factory):
    task = factory.task(people["project"])
    outsider = client_for(people["outsider"])
    for method, url in (
        ("GET", "/api/v1/projects/alpha"),
        ("PATCH", "/api/v1/projects/alpha"),
        ("GET", "/api/v1/projects/alpha/tasks"),
        ("POST", "/api/v1/projects/alpha/tasks"),
        ("GET", f"/api/v1/projects/alpha/tasks/{task.number}"),
        ("DELETE", f"/api/v1/projects/alpha/tasks/{task.number}"),
        ("PUT", "/api/v1/projects/alpha/tasks"),
    ):
        response = outsider.request(method, url, {"title": "x"} if method != "GET" else None)
        _error(response, 404, "not_found")
    missing = client_for(people["member"]).get("/api/v1/projects/no-such-project")
    assert missing.json == outsider.get("/api/v1/projects/alpha").json
    _error(client_for(people["viewer"]).patch("/api/v1/projects/alpha", {"name": "x"}),
           403, "forbidden")


def test_read_only_token_writing_to_a_visible_project_is_403_not_404(client_for, people):
    reader = client_for(people["member"], scope="read")
    _error(reader.post("/api/v1/projects/alpha/tasks", {"title": "x"}), 403, "forbidden")


def test_405_lists_the_registered_methods(client_for, people, factory):
    task = factory.task(people["project"])
    member = client_for(people["member"])
    response = member.request("PUT", f"/api/v1/projects/alpha/tasks/{task.number}",
                              {"title": "x"})
    _error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "DELETE, GET, HEAD, PATCH"
    listing = member.request("DELETE", "/api/v1/projects/alpha/tasks")
    assert listing.headers["Allow"] == "GET, HEAD, POST"
    assert member.request("POST", "/api/v1/me").headers["Allow"] == "GET, HEAD"
    docs = client_for(None).request("DELETE", "/api/v1/openapi.json")
    assert docs.headers["Allow"] == "GET, HEAD"


def test_unknown_path_is_404(client_for, people):
    member = client_for(people["member"])
    _error(member.get("/api/v1/nothing-here"), 404, "not_found")
    _error(member.get("/api/v1/projects/alpha/tasks/0"), 404, "not_found")
    _error(member.get("/api/v1/projects/alpha/tasks/99999999999"), 404, "not_found")
    _error(member.get("/api/v1/projects/Bad_Slug!"), 404, "not_found")


def test_malformed_json_is_400(client_for, people):
    member = client_for(people["member"])
    for body in (b"{", b"\xff\xfe", b"[1, 2]", b'"text"', b""):
        response = member.post("/api/v1/projects/alpha/tasks", body=body,
                               content_type="application/json")
        _error(response, 400, "malformed_json")


def test_other_media_types_are_415(client_for, people):
    member = client_for(people["member"])
    for content_type in ("text/plain", "application/x-www-form-urlencoded",
                         "application/json; charset=latin-1"):
        response = member.post("/api/v1/projects/alpha/tasks", body=b'{"title": "x"}',
                               content_type=content_type)
        _error(response, 415, "unsupported_media_type")
    ok = member.post("/api/v1/projects/alpha/tasks", body=b'{"title": "x"}',
                     content_type="application/json; charset=utf-8")
    assert ok.status_int == 201


def test_oversized_body_is_413_in_the_same_shape(client_for, people, settings):
    member = client_for(people["member"])
    body = orjson.dumps({"title": "x", "description": "y" * settings.max_body_bytes})
    response = member.post("/api/v1/projects/alpha/tasks", body=body,
                           content_type="application/json")
    error = _error(response, 413, "payload_too_large")
    assert set(error) == {"status", "code", "message"}


def test_duplicate_slug_is_409(client_for, people):
    response = client_for(people["member"]).post(
        "/api/v1/projects", {"slug": "alpha", "name": "Again"})
    error = _error(response, 409, "duplicate")
    assert error["fields"] == {"slug": "This URL name is taken."}


def test_messages_follow_accept_language_not_the_token_owners_profile(client_for, factory):
    client = client_for(factory.user("lihua", locale="zh_CN"))
    body = {"slug": "BAD SLUG", "name": ""}
    plain = _error(client.post("/api/v1/projects", body), 422, "validation_failed")
    assert plain["message"] == "The request has invalid fields."
    assert plain["fields"]["name"] == "This field is required."
    response = client.post("/api/v1/projects", body,
                           headers={"Accept-Language": "en;q=0.2, zh-CN;q=0.9"})
    chinese = _error(response, 422, "validation_failed")
    assert response.headers["Content-Language"] == "zh-CN"
    assert chinese["message"] == "请求中有无效的字段。"
    assert chinese["fields"]["name"] == "此项为必填项。"
    assert set(chinese["fields"]) == {"slug", "name"}


@pytest.mark.parametrize(("accept", "message"), [
    ("zh", "这里什么都没有。"),
    ("zh-Hans-CN, en;q=0.5", "这里什么都没有。"),
    ("fr-FR, de;q=0.8", "There is nothing here."),
    ("zh-CN;q=0, en;q=0.1", "There is nothing here."),
])
def test_error_language_negotiation(client_for, people, accept, message):
    response = client_for(people["member"]).get("/api/v1/projects/alpha/tasks/999",
                                                headers={"Accept-Language": accept})
    assert _error(response, 404, "not_found")["message"] == message


def test_a_signed_in_browser_gets_api_errors_in_its_accept_language(testapp, factory):
    """The web UI speaks the profile's language; the API the request's, whoever asks."""
    factory.user("lihua", locale="zh_CN")
    login(testapp, "lihua")
    assert 'lang="zh-CN"' in testapp.get("/").text
    response = testapp.get("/api/v1/projects/nope", status=404,
                           headers={"Accept-Language": "en"})
    assert response.json["error"]["message"] == "There is nothing here."


def test_unexpected_error_is_a_json_500_without_traceback(client_for, people, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(me_views, "me_json", explode)
    client = client_for(people["member"])
    # Not through the checking client: a 500 is deliberately not in the document.
    response = client.app.get("/api/v1/me", headers={"Authorization": f"Bearer {client.token}"},
                              status=500)
    error = response.json["error"]
    assert response.status_int == 500
    assert error == {"status": 500, "code": "server_error",
                     "message": "Something went wrong; the error has been logged."}
    assert b"secret internals" not in response.body
    assert b"Traceback" not in response.body


@pytest.fixture
def session_app(make_testapp, people):
    app = make_testapp()
    assert login(app, "member").status_int == 303
    return app


def test_cookie_session_writes_need_the_csrf_header(session_app, checker):
    from tests.support.api import ApiClient

    client = ApiClient(session_app, checker)
    assert client.get("/api/v1/me").json["username"] == "member"
    refused = client.post("/api/v1/me/tokens", {"name": "cli"})
    _error(refused, 403, "csrf_failed")
    assert client.get("/api/v1/me/tokens").json["items"] == []
    created = client.post("/api/v1/me/tokens", {"name": "cli", "scope": "write"},
                          headers={"X-CSRF-Token": csrf_token(session_app)}, status=201)
    assert created.json["secret"].startswith("td_")


def test_anonymous_callers_cannot_tell_private_projects_from_missing_ones(client_for, people):
    anonymous = client_for(None)
    for slug in ("alpha", "no-such-project"):
        for path in ("", "/tasks", "/tasks/1", "/members"):
            response = anonymous.get(f"/api/v1/projects/{slug}{path}")
            _error(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="taskdesk"'


def test_a_database_busy_past_every_retry_is_503(client_for, people, monkeypatch):
    from taskdesk.models import DatabaseBusyError

    calls = []

    def busy(*args, **kwargs):
        calls.append(1)
        raise DatabaseBusyError("database is locked")

    monkeypatch.setattr(me_views, "me_json", busy)
    response = client_for(people["member"]).get("/api/v1/me")
    error = _error(response, 503, "busy")
    assert response.headers["Retry-After"] == "1"
    assert "busy" in error["message"]
    assert len(calls) == 3  # pyramid_retry tried every attempt first


def test_a_slug_naming_a_page_is_refused_with_422(client_for, people):
    response = client_for(people["member"]).post(
        "/api/v1/projects", {"slug": "new", "name": "New"})
    error = _error(response, 422, "validation_failed")
    assert error["fields"] == {"slug": "This URL name is reserved for a page of the site."}
