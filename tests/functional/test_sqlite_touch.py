"""Reading while another connection writes: the last-use timestamp waits, the reader doesn't.

SQLite refuses a reader's upgrade to a write lock while another connection writes; the
policy's once-a-minute "last used" update must then be skipped, not fail the request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import transaction
import webtest
from sqlalchemy import text

from taskdesk.domain import accounts
from taskdesk.models import User, get_tm_session
from taskdesk.models.meta import utcnow


def test_a_token_request_succeeds_while_another_connection_holds_the_write_lock(
    spare_app: Callable[..., webtest.TestApp], backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's lock upgrade only; PostgreSQL waits on the row lock instead")
    app = spare_app(**{"taskdesk.sqlite.busy_timeout": "50"})
    registry = app.app.registry
    engine = registry["dbbinds"].engine
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        user = User(username="toucher", display_name="T", email="", password_hash="x")
        dbsession.add(user)
        dbsession.flush()
        token, secret = accounts.create_token(dbsession, user, {"name": "t", "scope": "read"})
        token.last_used_at = utcnow() - timedelta(hours=1)
        token_id = token.id
    headers = {"Authorization": f"Bearer {secret}"}

    with engine.connect() as writer:
        write = writer.begin()  # BEGIN IMMEDIATE: another process in the middle of a write
        try:
            response = app.get("/api/v1/me", headers=headers)
        finally:
            write.rollback()
    assert response.json["username"] == "toucher"

    with engine.connect() as reader:
        stale = reader.execute(text("SELECT last_used_at FROM api_tokens WHERE id = :id"),
                               {"id": token_id}).scalar_one()
    app.get("/api/v1/me", headers=headers)  # the lock is free again: now it is recorded
    with engine.connect() as reader:
        fresh = reader.execute(text("SELECT last_used_at FROM api_tokens WHERE id = :id"),
                               {"id": token_id}).scalar_one()
    assert fresh != stale


def test_a_write_that_cannot_get_the_lock_is_503_busy_and_writes_nothing(
    spare_app: Callable[..., webtest.TestApp], backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's database-wide write lock only")
    app = spare_app(**{"taskdesk.sqlite.busy_timeout": "50"})
    registry = app.app.registry
    engine = registry["dbbinds"].engine
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        user = User(username="writer", display_name="W", email="", password_hash="x")
        dbsession.add(user)
        dbsession.flush()
        _token, secret = accounts.create_token(dbsession, user, {"name": "w", "scope": "write"})
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"name": "made while locked", "scope": "read"}

    with engine.connect() as writer:
        write = writer.begin()  # another process holds the write lock past every retry
        try:
            refused = app.post_json("/api/v1/me/tokens", body, headers=headers, status=503)
        finally:
            write.rollback()
    assert refused.json["error"]["code"] == "busy"
    assert [t["name"] for t in app.get("/api/v1/me/tokens", headers=headers).json["items"]] == [
        "w"]
    app.post_json("/api/v1/me/tokens", body, headers=headers, status=201)


def test_a_form_that_cannot_get_the_write_lock_gets_the_busy_page(
    spare_app: Callable[..., webtest.TestApp], backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's database-wide write lock only")
    app = spare_app(**{"taskdesk.sqlite.busy_timeout": "50"})
    engine = app.app.registry["dbbinds"].engine
    form = app.get("/login").forms["login-form"]
    form["username"] = "nobody"
    form["password"] = "wrong password"
    with engine.connect() as writer:
        write = writer.begin()
        try:
            page = form.submit(status=503)
        finally:
            write.rollback()
    assert page.headers["Retry-After"] == "1"
    assert "The database is busy; please try again in a moment." in page.text
