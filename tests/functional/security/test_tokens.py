"""API tokens: bearer authentication, 401s with a challenge, scopes, storage, last use."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import webtest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.domain import accounts
from taskdesk.models import ApiToken, Project, Task
from taskdesk.models.meta import utcnow
from taskdesk.security.secrets import TOKEN_PREFIX
from tests.support.factories import Factory
from tests.support.sessions import csrf_of, sign_in


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_unauthorized(response: webtest.TestResponse, *, broken_token: bool) -> None:
    """401, the common JSON error shape and an RFC 6750 challenge."""
    assert response.status_int == 401
    assert response.content_type == "application/json"
    assert response.json["error"]["status"] == 401
    assert response.json["error"]["message"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is broken_token


def test_bearer_token_authenticates_and_records_last_use(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    token, secret = accounts.create_token(dbsession, alice, {"name": "ci", "scope": "read"})
    assert token.last_used_at is None
    response = browser().get("/api/v1/me", headers=bearer(secret))
    assert response.json["username"] == "alice"
    dbsession.expire_all()
    used = dbsession.get(ApiToken, token.id)
    assert used is not None
    assert used.last_used_at is not None
    assert utcnow() - used.last_used_at < timedelta(minutes=1)


def test_no_credentials_get_a_challenge(browser: Callable[[], Any], connection: Any) -> None:
    assert_unauthorized(browser().get("/api/v1/me", expect_errors=True), broken_token=False)


@pytest.mark.parametrize("case", ["unknown", "malformed", "empty", "expired", "revoked",
                                  "deactivated"])
def test_broken_tokens_get_401(
    case: str, factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    token, secret = accounts.create_token(
        dbsession, alice, {"name": "ci", "scope": "write", "expires_in_days": 30})
    if case == "unknown":
        secret = secret[:-4] + "AAAA"
    elif case == "malformed":
        secret = "not a token at all \u00e9"
    elif case == "empty":
        secret = ""
    elif case == "expired":
        token.expires_at = utcnow() - timedelta(seconds=1)
    elif case == "revoked":
        accounts.revoke_token(dbsession, token)
    elif case == "deactivated":
        accounts.set_active(dbsession, alice, False)
    dbsession.flush()
    app = browser()
    for url in ("/api/v1/me", f"/api/v1/projects/{factory.project(alice).slug}/",
                "/api/v1/projects/no-such-project/"):
        response = app.get(url, headers=bearer(secret), expect_errors=True)
        assert_unauthorized(response, broken_token=True)
    dbsession.expire_all()
    assert dbsession.get(ApiToken, token.id).last_used_at is None  # type: ignore[union-attr]


def test_read_only_token_may_read_but_not_change(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    project = factory.project(alice, slug="alpha")
    task = factory.task(project, alice, title="Keep me")
    _, secret = accounts.create_token(dbsession, alice, {"name": "ro", "scope": "read"})
    app = browser()
    headers = bearer(secret)
    base = "/api/v1/projects/alpha/"
    assert app.get(base, headers=headers).status_int == 200
    assert app.get(f"{base}tasks/{task.number}/", headers=headers).status_int == 200

    refused = [
        app.post_json("/api/v1/projects/", {"slug": "beta", "name": "Beta"}, headers=headers,
                      expect_errors=True),
        app.post_json(f"{base}tasks/", {"title": "New"}, headers=headers, expect_errors=True),
        app.patch_json(f"{base}tasks/{task.number}/", {"title": "Changed"}, headers=headers,
                       expect_errors=True),
        app.patch_json(f"{base}tasks/{task.number}/", {}, headers=headers, expect_errors=True),
        app.delete(f"{base}tasks/{task.number}/", headers=headers, expect_errors=True),
        app.patch_json(base, {"name": "Renamed"}, headers=headers, expect_errors=True),
        app.delete(base, headers=headers, expect_errors=True),
        app.post_json("/api/v1/me/tokens/", {"name": "more", "scope": "write"},
                      headers=headers, expect_errors=True),
    ]
    assert [r.status_int for r in refused] == [403] * len(refused)
    assert all(r.json["error"]["status"] == 403 for r in refused)
    dbsession.expire_all()
    assert dbsession.scalar(select(func.count()).select_from(Project)) == 1
    kept = dbsession.get(Task, task.id)
    assert kept is not None
    assert kept.title == "Keep me"
    assert dbsession.get(Project, project.id).name == "Alpha"  # type: ignore[union-attr]
    assert dbsession.scalar(select(func.count()).select_from(ApiToken)) == 1


def test_write_token_needs_no_csrf_token(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice = factory.user("alice")
    _, secret = accounts.create_token(dbsession, alice, {"name": "rw", "scope": "write"})
    response = browser().post_json("/api/v1/projects/", {"slug": "beta", "name": "Beta"},
                                   headers=bearer(secret))
    assert response.status_int == 201
    assert dbsession.scalar(select(Project.name).where(Project.slug == "beta")) == "Beta"


def test_token_secret_is_shown_once_and_stored_only_as_a_hash(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    factory.user("alice")
    app = browser()
    sign_in(app, "alice")
    response = app.post_json("/api/v1/me/tokens/", {"name": "deploy", "scope": "write"},
                             headers={"X-CSRF-Token": csrf_of(app)})
    assert response.status_int == 201
    secret = response.json["secret"]
    assert secret.startswith(TOKEN_PREFIX)
    assert len(secret) - len(TOKEN_PREFIX) >= 43  # 32 random bytes in URL-safe base64
    assert "no-store" in response.headers["Cache-Control"]

    dbsession.expire_all()
    [row] = dbsession.scalars(select(ApiToken))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[: len(TOKEN_PREFIX) + 6]
    stored = [str(getattr(row, column.key)) for column in ApiToken.__table__.columns]
    assert not any(secret in value for value in stored)
    assert row.scope == "write"
    assert row.name == "deploy"

    shown_again = app.get(f"/api/v1/me/tokens/{row.id}/")
    assert secret not in shown_again.text
    assert row.prefix in shown_again.text
    listed = app.get("/api/v1/me/tokens/")
    assert secret not in listed.text
    assert browser().get("/api/v1/me", headers=bearer(secret)).json["username"] == "alice"


def test_tokens_are_random_and_distinct(factory: Factory, dbsession: Session) -> None:
    alice = factory.user("alice")
    secrets = {accounts.create_token(dbsession, alice, {"name": f"t{i}"})[1] for i in range(20)}
    assert len(secrets) == 20
    assert len({s[: len(TOKEN_PREFIX) + 6] for s in secrets}) > 1


def test_one_users_token_cannot_reach_anothers_tokens(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    alice, bob = factory.user("alice"), factory.user("bob")
    bobs, _ = accounts.create_token(dbsession, bob, {"name": "bobs", "scope": "read"})
    _, secret = accounts.create_token(dbsession, alice, {"name": "alices", "scope": "write"})
    app = browser()
    url = f"/api/v1/me/tokens/{bobs.id}/"
    assert app.get(url, headers=bearer(secret), expect_errors=True).status_int == 404
    assert app.delete(url, headers=bearer(secret), expect_errors=True).status_int == 404
    dbsession.expire_all()
    assert dbsession.get(ApiToken, bobs.id).revoked_at is None  # type: ignore[union-attr]
