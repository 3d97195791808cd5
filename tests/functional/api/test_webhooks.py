"""A project's webhooks through the API: managers only, validation (422 for an internal
target), ETags, the delivery log with a cursor, and redelivering to a real receiver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from sqlalchemy.orm import Session

from taskdesk.models import WebhookDelivery
from tests.support.api import ApiClient, OpenApiChecker
from tests.support.apps import HOST
from tests.support.receiver import Answer, Receiver, readme_verifier, run_jobs

HOOKS = "/api/v1/projects/alpha/webhooks"


@pytest.fixture
def hooks_client(hooks: Any, checker: OpenApiChecker,
                 make_token: Callable[..., str]) -> Callable[..., ApiClient]:
    """A client of the app whose allow-list admits 127.0.0.1."""
    def make(user: Any, scope: str = "write") -> ApiClient:
        app = webtest.TestApp(hooks, extra_environ={"HTTP_HOST": HOST})
        return ApiClient(app, checker, make_token(user, scope))

    return make


def test_a_manager_adds_changes_and_deletes_a_hook(
        hooks_client: Callable[..., ApiClient], people: dict[str, Any]) -> None:
    manager = hooks_client(people["manager"])
    assert manager.get(HOOKS, status=200).json == {"items": [], "next": None}
    created = manager.post(HOOKS, {"payload_url": "http://127.0.0.1:9/ci",
                                   "description": "CI", "events": ["task.created"]},
                           status=201)
    hook = created.json
    assert created.headers["Location"] == hook["url"]
    assert hook["url"] == f"http://taskdesk.test{HOOKS}/{hook['id']}"
    assert (hook["payload_url"], hook["events"], hook["active"]) == (
        "http://127.0.0.1:9/ci", ["task.created"], True)
    assert len(hook["secret"]) == 64
    assert hook["allowed"] == ["manage_webhooks"]
    assert [h["id"] for h in manager.get(HOOKS).json["items"]] == [hook["id"]]

    shown = manager.get(hook["url"])
    assert "no-store" in shown.headers["Cache-Control"]  # it holds the secret
    assert "no-store" in manager.get(HOOKS).headers["Cache-Control"]
    etag = shown.headers["ETag"]
    changed = manager.patch(hook["url"], {"active": False, "events": []},
                            headers={"If-Match": etag}, status=200).json
    assert (changed["active"], changed["events"], changed["version"]) == (False, [], 2)
    manager.patch(hook["url"], {"description": "stale"}, headers={"If-Match": etag},
                  status=412)
    manager.delete(hook["url"], headers={"If-Match": etag}, status=412)
    manager.delete(hook["url"], status=204)
    manager.get(hook["url"], status=404)


def test_invalid_hooks_are_refused_naming_the_fields(
        client_for: Callable[..., ApiClient], people: dict[str, Any]) -> None:
    manager = client_for(people["manager"])  # the default allow-list
    refused = manager.post(HOOKS, {"payload_url": "http://127.0.0.1:9/ci"}, status=422).json
    assert "internal address" in refused["error"]["fields"]["payload_url"]
    refused = manager.post(HOOKS, {"payload_url": "http://169.254.169.254/latest/"},
                           status=422).json
    assert "payload_url" in refused["error"]["fields"]
    refused = manager.post(HOOKS, {"payload_url": "gopher://example.com/", "events": ["nope"],
                                   "active": "yes", "extra": 1}, status=422).json
    assert set(refused["error"]["fields"]) == {"payload_url", "events", "active", "extra"}
    assert manager.get(HOOKS).json["items"] == []


@pytest.mark.parametrize("who", ["member", "viewer", "outsider", "admin"])
def test_only_managers_and_site_admins_manage_hooks(
        client_for: Callable[..., ApiClient], people: dict[str, Any], who: str) -> None:
    client = client_for(people[who])
    answer = client.get(HOOKS)
    expected = {"member": 403, "viewer": 403, "outsider": 404, "admin": 200}[who]
    assert answer.status_int == expected
    client.post(HOOKS, {"payload_url": "https://1.1.1.1/hook"},
                status=201 if who == "admin" else expected)


def test_a_read_only_token_cannot_manage_hooks(
        client_for: Callable[..., ApiClient], people: dict[str, Any]) -> None:
    client_for(people["manager"], scope="read").get(HOOKS, status=403)


def test_the_all_projects_hooks_are_not_offered_by_the_api(
        client_for: Callable[..., ApiClient], people: dict[str, Any]) -> None:
    client_for(people["admin"]).get("/api/v1/admin/webhooks", status=404)


def test_the_delivery_log_pages_and_redelivers(
        hooks_client: Callable[..., ApiClient], hooks: Any, people: dict[str, Any],
        factory: Any, dbsession: Session) -> None:
    manager = hooks_client(people["manager"])
    verify = readme_verifier()
    with Receiver(Answer(500), Answer(200, b"thanks")) as receiver:
        hook = manager.post(HOOKS, {"payload_url": receiver.url(),
                                    "events": ["task.created"]}, status=201).json
        for _ in range(3):
            factory.task(people["project"], people["manager"])
        run_jobs(hooks)
        first = manager.get(hook["deliveries_url"] + "?limit=2", status=200).json
        assert len(first["items"]) == 2
        rest = manager.get(first["next"], status=200).json
        assert rest["next"] is None
        log = first["items"] + rest["items"]
        assert [d["id"] for d in log] == sorted((d["id"] for d in log), reverse=True)
        failed = next(d for d in log if d["response_status"] == 500)
        assert (failed["status"], failed["attempts"]) == ("pending", 1)
        again = manager.post(failed["url"], status=202).json
        assert (again["status"], again["attempts"]) == ("pending", 0)
        run_jobs(hooks)
        shown = manager.get(failed["url"], status=200).json
    assert (shown["status"], shown["response_status"], shown["response_excerpt"]) == (
        "delivered", 200, "thanks")
    assert all(verify(hook["secret"], a.headers["X-Taskdesk-Signature"], a.body)
               for a in receiver.arrivals)
    assert dbsession.get(WebhookDelivery, shown["id"]) is not None


def test_webhook_operations_are_in_the_openapi_document(
        openapi_document: dict[str, Any]) -> None:
    paths = openapi_document["paths"]
    assert set(paths["/projects/{slug}/webhooks"]) >= {"get", "post", "parameters"}
    item = "/projects/{slug}/webhooks/{webhook_id}"
    assert set(paths[item]) >= {"get", "patch", "delete"}
    assert "post" in paths[item + "/deliveries/{delivery_id}"]
    assert "get" in paths[item + "/deliveries"]
    assert "Webhook" in openapi_document["components"]["schemas"]
