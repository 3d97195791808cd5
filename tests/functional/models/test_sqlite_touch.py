"""SQLite's one write lock: readers go on beside a writer, writers that cannot get it fail
cleanly.

SQLite refuses a reader's upgrade to a write lock while another connection writes; the
policy's once-a-minute "last used" update must then be skipped, not fail the request. A
request that must write and cannot get the lock within the busy timeout is retried, then
answered 503 (JSON for the API, a page for the web), with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import transaction
import webtest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from taskdesk.domain import accounts
from taskdesk.models import User, get_tm_session
from taskdesk.models.meta import utcnow


def _sqlite_app(spare_app: Callable[..., webtest.TestApp], backend: str) -> webtest.TestApp:
    if backend != "sqlite":
        pytest.skip("SQLite's database-wide write lock only; PostgreSQL locks rows")
    return spare_app(**{"taskdesk.sqlite.busy_timeout": "50"})


def _token(app: webtest.TestApp, username: str, scope: str) -> tuple[int, dict[str, str]]:
    """A committed user and token; the token's id and the headers that use it."""
    registry = app.app.registry
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        user = User(username=username, display_name=username, email="", password_hash="x")
        dbsession.add(user)
        dbsession.flush()
        token, secret = accounts.create_token(dbsession, user, {"name": "t", "scope": scope})
        token.last_used_at = utcnow() - timedelta(hours=1)
        token_id = token.id
    return token_id, {"Authorization": f"Bearer {secret}"}


@contextmanager
def _locked(app: webtest.TestApp) -> Iterator[None]:
    """Another connection holds the write lock (BEGIN IMMEDIATE) meanwhile."""
    engine: Engine = app.app.registry["dbbinds"].engine
    with engine.connect() as writer:
        write = writer.begin()
        try:
            yield
        finally:
            write.rollback()


def _last_used(app: webtest.TestApp, token_id: int) -> object:
    engine: Engine = app.app.registry["dbbinds"].engine
    with engine.connect() as reader:
        return reader.execute(text("SELECT last_used_at FROM api_tokens WHERE id = :id"),
                              {"id": token_id}).scalar_one()


def test_a_token_request_succeeds_while_another_connection_holds_the_write_lock(
    spare_app: Callable[..., webtest.TestApp], backend: str
) -> None:
    app = _sqlite_app(spare_app, backend)
    token_id, headers = _token(app, "toucher", "read")
    with _locked(app):
        response = app.get("/api/v1/me", headers=headers)
    assert response.json["username"] == "toucher"
    stale = _last_used(app, token_id)
    app.get("/api/v1/me", headers=headers)  # the lock is free again: now it is recorded
    assert _last_used(app, token_id) != stale


def test_a_write_that_cannot_get_the_lock_is_503_busy_and_writes_nothing(
    spare_app: Callable[..., webtest.TestApp], backend: str
) -> None:
    app = _sqlite_app(spare_app, backend)
    _token_id, headers = _token(app, "writer", "write")
    body = {"name": "made while locked", "scope": "read"}
    with _locked(app):
        refused = app.post_json("/api/v1/me/tokens", body, headers=headers, status=503)
    assert refused.json["error"]["code"] == "busy"
    assert refused.headers["Retry-After"] == "1"
    names = [t["name"] for t in app.get("/api/v1/me/tokens", headers=headers).json["items"]]
    assert names == ["t"]
    app.post_json("/api/v1/me/tokens", body, headers=headers, status=201)


def test_a_form_that_cannot_get_the_write_lock_gets_the_busy_page(
    spare_app: Callable[..., webtest.TestApp], backend: str
) -> None:
    app = _sqlite_app(spare_app, backend)
    form = app.get("/login").forms["login-form"]
    form["username"] = "nobody"
    form["password"] = "wrong password"
    with _locked(app):
        page = form.submit(status=503)
    assert page.headers["Retry-After"] == "1"
    assert "The database is busy; please try again in a moment." in page.text
