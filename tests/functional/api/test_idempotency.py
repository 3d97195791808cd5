"""Safe retries: ``Idempotency-Key`` on every creating POST of the API.

The concurrent and crash cases (real commits, threads, a killed server) are in
``test_idempotency_races.py`` and ``tests/servers/test_idempotency_crash.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import webtest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from taskdesk import main
from taskdesk.models import ApiToken, Comment, IdempotencyKey, Project, Task
from taskdesk.models.meta import utcnow
from taskdesk.security.login import purge_expired
from tests.support.api import ApiClient, OpenApiChecker
from tests.support.apps import HOST, app_settings, joined
from tests.support.databases import recorded_statements
from tests.support.factories import Factory
from tests.support.sessions import csrf_of, sign_in

KEY = "6f1c2a5e-1b7e-4b1e-9b9a-0c6d2f3e4a5b"

#: Each create: its URL, a body, and the table that must not get a second row.
CREATES: dict[str, tuple[str, dict[str, Any], Any]] = {
    "task": ("/api/v1/projects/alpha/tasks", {"title": "Ship it", "labels": ["x"]}, Task),
    "comment": ("/api/v1/projects/alpha/tasks/1/comments", {"body": "On it"}, Comment),
    "project": ("/api/v1/projects", {"slug": "beta", "name": "Beta"}, Project),
    "token": ("/api/v1/me/tokens", {"name": "deploy", "scope": "read"}, ApiToken),
}


def count(dbsession: Session, model: Any) -> int:
    return int(dbsession.scalar(select(func.count()).select_from(model)) or 0)


def keyed(key: str = KEY) -> dict[str, str]:
    return {"Idempotency-Key": key}


@pytest.fixture
def manager(client_for: Callable[..., ApiClient], people: dict[str, Any],
            factory: Factory) -> ApiClient:
    factory.task(people["project"], title="The first task")
    return client_for(people["manager"])


@pytest.mark.parametrize("kind", sorted(CREATES))
def test_a_retry_gets_the_first_answer_and_creates_nothing(
    manager: ApiClient, dbsession: Session, kind: str
) -> None:
    url, body, model = CREATES[kind]
    before = count(dbsession, model)
    first = manager.post(url, body, headers=keyed(), status=201)
    assert "Idempotent-Replayed" not in first.headers
    assert count(dbsession, model) == before + 1

    retry = manager.post(url, body, headers=keyed(), status=201)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.body == first.body
    for header in ("Location", "ETag", "Content-Type", "Cache-Control"):
        assert retry.headers.get(header) == first.headers.get(header), header
    assert count(dbsession, model) == before + 1
    assert count(dbsession, IdempotencyKey) == 1


def test_a_new_tokens_secret_is_replayed_but_not_stored_readably(
    manager: ApiClient, dbsession: Session
) -> None:
    url, body, _model = CREATES["token"]
    secret = manager.post(url, body, headers=keyed(), status=201).json["secret"]
    assert manager.post(url, body, headers=keyed(), status=201).json["secret"] == secret
    row = dbsession.scalars(select(IdempotencyKey)).one()
    assert row.sealed
    assert row.body is not None
    assert secret.encode() not in row.body
    assert KEY not in (row.key_hash, row.fingerprint)
    # A task's answer is no secret: kept as it was sent.
    task = manager.post(CREATES["task"][0], {"title": "Plain"}, headers=keyed("other"),
                        status=201)
    plain = dbsession.scalars(select(IdempotencyKey).where(IdempotencyKey.id != row.id)).one()
    assert (plain.sealed, plain.body) == (False, task.body)


def test_a_sealed_answer_the_server_can_no_longer_open_is_not_guessed(
    manager: ApiClient, dbsession: Session, connection: Connection, database_url: str,
    checker: OpenApiChecker,
) -> None:
    """After the session secret changed, a retry of a token create cannot get its secret
    back: 409, and still one token."""
    url, body, _model = CREATES["token"]
    before = count(dbsession, ApiToken)
    manager.post(url, body, headers=keyed(), status=201)
    rotated = main({}, **app_settings(database_url, **{
        "taskdesk.session.secret": "a-rotated-secret-" + "r" * 40}))
    try:
        with joined(rotated, connection):
            client = ApiClient(webtest.TestApp(rotated, extra_environ={"HTTP_HOST": HOST}),
                               checker, manager.token)
            refused = client.post(url, body, headers=keyed(), status=409)
    finally:
        rotated.registry["dbbinds"].engine.dispose()
    assert refused.json["error"]["code"] == "idempotency_key_unreadable"
    assert count(dbsession, ApiToken) == before + 1


def test_the_same_key_for_another_request_is_refused(
    manager: ApiClient, dbsession: Session
) -> None:
    url, body, _model = CREATES["task"]
    manager.post(url, body, headers=keyed(), status=201)
    for other_url, other_body in ((url, {**body, "title": "Something else"}),
                                  ("/api/v1/projects", {"slug": "gamma", "name": "Gamma"})):
        refused = manager.post(other_url, other_body, headers=keyed(), status=422)
        assert refused.json["error"]["code"] == "idempotency_key_reused"
        assert set(refused.json["error"]["fields"]) == {"Idempotency-Key"}
    assert count(dbsession, Task) == 2
    assert count(dbsession, Project) == 1


def test_keys_belong_to_their_credential(
    manager: ApiClient, client_for: Callable[..., ApiClient], people: dict[str, Any],
    dbsession: Session, make_testapp: Callable[[], webtest.TestApp],
) -> None:
    """The same key from another token (even the same user's), another user or a browser
    session is another key."""
    url, body, _model = CREATES["task"]
    numbers = [manager.post(url, body, headers=keyed(), status=201).json["number"]]
    for client in (client_for(people["manager"]), client_for(people["member"])):
        numbers.append(client.post(url, body, headers=keyed(), status=201).json["number"])
    browser = make_testapp()
    sign_in(browser, "member")
    for _attempt in range(2):
        created = browser.post_json(url, body, headers={**keyed(), "X-CSRF-Token":
                                                        csrf_of(browser)}, status=201)
    numbers.append(created.json["number"])
    assert numbers == [2, 3, 4, 5]
    assert count(dbsession, Task) == 5
    assert count(dbsession, IdempotencyKey) == 4


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there", "new\nline"])
def test_a_malformed_key_is_refused(manager: ApiClient, dbsession: Session, key: str) -> None:
    url, body, _model = CREATES["task"]
    refused = manager.post(url, body, headers=keyed(key), status=400)
    assert refused.json["error"]["code"] == "invalid_idempotency_key"
    assert set(refused.json["error"]["fields"]) == {"Idempotency-Key"}
    assert count(dbsession, Task) == 1


def test_the_longest_key_and_every_printable_character_are_accepted(
    manager: ApiClient
) -> None:
    url, body, _model = CREATES["task"]
    manager.post(url, body, headers=keyed("k" * 255), status=201)
    manager.post(url, body, headers=keyed("".join(map(chr, range(0x21, 0x7F)))), status=201)


def test_a_failed_request_leaves_no_key(manager: ApiClient, dbsession: Session) -> None:
    url, _body, _model = CREATES["task"]
    manager.post(url, {"title": ""}, headers=keyed(), status=422)
    manager.post(url, {"title": "x", "priority": "nope"}, headers=keyed(), status=422)
    assert count(dbsession, IdempotencyKey) == 0
    assert manager.post(url, {"title": "Fixed"}, headers=keyed(), status=201).json["number"] == 2


def test_a_key_past_its_window_starts_afresh_and_purge_removes_it(
    manager: ApiClient, dbsession: Session, settings: Any
) -> None:
    url, body, _model = CREATES["task"]
    manager.post(url, body, headers=keyed(), status=201)
    window = timedelta(seconds=settings.api_idempotency_window)
    dbsession.execute(update(IdempotencyKey).values(created_at=utcnow() - window
                                                    - timedelta(seconds=1)))
    dbsession.flush()
    again = manager.post(url, {"title": "Another day"}, headers=keyed(), status=201)
    assert "Idempotent-Replayed" not in again.headers
    assert again.json["number"] == 3
    assert count(dbsession, IdempotencyKey) == 1

    manager.post(url, body, headers=keyed("old"), status=201)
    newest = select(func.max(IdempotencyKey.id)).scalar_subquery()
    dbsession.execute(update(IdempotencyKey).where(IdempotencyKey.id == newest)
                      .values(created_at=utcnow() - window - timedelta(seconds=1)))
    dbsession.flush()
    assert purge_expired(dbsession, settings).idempotency_keys == 1
    assert count(dbsession, IdempotencyKey) == 1


def test_the_header_costs_two_statements_and_nothing_without_it(
    manager: ApiClient, connection: Connection
) -> None:
    url, _body, _model = CREATES["task"]
    manager.post(url, {"title": "warm"}, status=201)  # token last-use stamp
    with recorded_statements(connection) as plain:
        manager.post(url, {"title": "plain"}, status=201)
    with recorded_statements(connection) as keyed_first:
        manager.post(url, {"title": "keyed"}, headers=keyed(), status=201)
    with recorded_statements(connection) as replay:
        manager.post(url, {"title": "keyed"}, headers=keyed(), status=201)
    # A task create without the header: what it cost before Idempotency-Key existed (the
    # identity, the project, the number, the task, search, watch, activity, event).
    assert len(plain) == 8, plain
    assert len(keyed_first) == len(plain) + 2, keyed_first
    assert [s.split()[0].upper() for s in keyed_first if "idempotency_keys" in s] == [
        "INSERT", "UPDATE"]
    # A replay: the identity, the project (traversal and permission), the claim, the answer.
    assert len(replay) == 4, replay


def test_other_methods_ignore_the_header(manager: ApiClient, dbsession: Session) -> None:
    manager.patch("/api/v1/projects/alpha/tasks/1", {"title": "Renamed"}, headers=keyed(""),
                  status=200)
    manager.get("/api/v1/projects/alpha/tasks", headers=keyed(""), status=200)
    assert count(dbsession, IdempotencyKey) == 0


def test_every_create_documents_the_header_and_its_errors(
    openapi_document: dict[str, Any]
) -> None:
    creates = []
    for path, item in openapi_document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            names = [p["name"] for p in operation.get("parameters", [])]
            if method == "post" and "201" in operation["responses"]:
                creates.append(path)
                assert "Idempotency-Key" in names, path
                for status in ("400", "409", "422"):
                    assert "Idempotency-Key" in operation["responses"][status]["description"]
            else:
                assert "Idempotency-Key" not in names, (method, path)
    assert {"/projects", "/projects/{slug}/tasks", "/projects/{slug}/tasks/{number}/comments",
            "/me/tokens"} <= set(creates)
