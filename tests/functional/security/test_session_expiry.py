"""Sessions end after the idle timeout of real inactivity, never before, however short the
timeout; the sign-in page and the API say why a session ended.

Time moves by rewriting the session's timestamps in the database (no sleeping): moving
``created_at`` and ``last_seen_at`` back by N seconds is N seconds passing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import webtest
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from taskdesk.models import AuthSession, User
from taskdesk.models.meta import utcnow
from taskdesk.security.login import idle_limit, touch_interval
from taskdesk.settings import parse_settings
from tests.support.apps import SESSION_SECRET
from tests.support.databases import recorded_statements
from tests.support.factories import Factory
from tests.support.sessions import sign_in, whoami

SHORT = {"taskdesk.session.idle_timeout": "60"}


def short_settings(**overrides: str) -> Any:
    return parse_settings({"taskdesk.session.secret": SESSION_SECRET, **SHORT, **overrides})


def session_of(dbsession: Session, user: User) -> AuthSession:
    dbsession.expire_all()
    return dbsession.scalars(select(AuthSession).where(AuthSession.user_id == user.id)).one()


def pass_time(dbsession: Session, user: User, seconds: float) -> None:
    """``seconds`` pass for ``user``'s session: both its timestamps move back."""
    row = session_of(dbsession, user)
    step = timedelta(seconds=seconds)
    dbsession.execute(update(AuthSession).where(AuthSession.id == row.id).values(
        created_at=row.created_at - step, last_seen_at=row.last_seen_at - step))
    dbsession.flush()


def set_times(dbsession: Session, user: User, **ages: float) -> None:
    """Set ``created_at``/``last_seen_at`` to that many seconds ago."""
    now = utcnow()
    dbsession.execute(update(AuthSession).where(AuthSession.user_id == user.id).values(
        **{name: now - timedelta(seconds=age) for name, age in ages.items()}))
    dbsession.flush()


def test_the_touch_interval_follows_the_idle_timeout() -> None:
    assert touch_interval(short_settings()) == timedelta(seconds=5)
    assert idle_limit(short_settings()) == timedelta(seconds=65)
    eight_hours = short_settings(**{"taskdesk.session.idle_timeout": "28800"})
    assert touch_interval(eight_hours) == timedelta(seconds=60)  # the write rate of before
    assert idle_limit(eight_hours) == timedelta(seconds=28860)


def test_a_session_used_every_four_seconds_outlives_a_60_second_timeout(
    factory: Factory, dbsession: Session, app_with: Callable[..., webtest.TestApp]
) -> None:
    """The issue's case: with last use recorded only once a minute and checked before the
    refresh, this session ended at 60 s although it was never idle for more than 4 s."""
    alice = factory.user("alice")
    app = app_with(**SHORT)
    sign_in(app, "alice")
    for step in range(45):  # three minutes of use
        pass_time(dbsession, alice, 4)
        assert whoami(app) == "alice", f"signed out after {4 * (step + 1)} s of use"
    assert utcnow() - session_of(dbsession, alice).last_seen_at <= timedelta(seconds=5)


def test_a_session_ends_after_the_idle_timeout_never_before(
    factory: Factory, dbsession: Session, app_with: Callable[..., webtest.TestApp]
) -> None:
    alice = factory.user("alice")
    app = app_with(**SHORT)
    sign_in(app, "alice")
    # The last use was recorded up to a touch interval (5 s) after it happened: 64 s after
    # the recorded time, the real idleness may be only 59 s, so the session is alive...
    set_times(dbsession, alice, last_seen_at=64)
    assert whoami(app) == "alice"
    # ...and that use was recorded: from it, 66 s is past the timeout whatever the lag.
    pass_time(dbsession, alice, 66)
    assert whoami(app) is None


def test_requests_that_do_not_refresh_cost_no_statement(
    factory: Factory, dbsession: Session, connection: Connection,
    app_with: Callable[..., webtest.TestApp],
) -> None:
    alice = factory.user("alice")
    app = app_with(**SHORT)
    sign_in(app, "alice")
    set_times(dbsession, alice, last_seen_at=1)
    with recorded_statements(connection) as quiet:
        assert whoami(app) == "alice"
    set_times(dbsession, alice, last_seen_at=6)
    with recorded_statements(connection) as refreshing:
        assert whoami(app) == "alice"
    # /me: the identity (user, session, groups in one statement) and the user's row; a
    # refresh adds its UPDATE, and only a refresh.
    updates = [s for s in refreshing if s.lstrip().upper().startswith("UPDATE AUTH_SESSIONS")]
    assert len(quiet) == 2, quiet
    assert len(refreshing) == 3, refreshing
    assert len(updates) == 1, refreshing


@pytest.mark.parametrize(("language", "idle_text", "max_age_text"), [
    ("en", "You were signed out after 2 minutes without activity.",
     "Your session reached its maximum length."),
    ("zh-CN", "你已连续 2 分钟没有操作，已自动退出登录。", "你的会话已达到最长时限。"),  # noqa: RUF001
])
def test_the_sign_in_page_says_why_the_session_ended(
    factory: Factory, dbsession: Session, app_with: Callable[..., webtest.TestApp],
    language: str, idle_text: str, max_age_text: str,
) -> None:
    alice = factory.user("alice")
    app = app_with(**{"taskdesk.session.idle_timeout": "120"})
    headers = {"Accept-Language": language}
    sign_in(app, "alice")
    set_times(dbsession, alice, last_seen_at=130)
    page = app.get("/projects", headers=headers).follow(headers=headers)
    assert page.request.path == "/login"
    assert page.html.select_one("#session-ended").get_text(strip=True) == idle_text

    sign_in(app, "alice")
    set_times(dbsession, alice, created_at=14 * 86400 + 5, last_seen_at=0)
    page = app.get("/login", headers=headers)
    assert page.html.select_one("#session-ended").get_text(strip=True) == max_age_text

    # Signing in again (or out) leaves nothing to explain.
    sign_in(app, "alice")
    assert app.get("/login").html.select_one("#session-ended") is None
    fresh = app_with(**{"taskdesk.session.idle_timeout": "120"})
    assert fresh.get("/login").html.select_one("#session-ended") is None


@pytest.mark.parametrize(("ages", "message"), [
    ({"last_seen_at": 70}, "The session ended after 60 seconds without activity; sign in "
                           "again."),
    ({"created_at": 14 * 86400 + 5, "last_seen_at": 0},
     "The session reached its maximum length; sign in again."),
])
def test_an_api_call_with_an_ended_session_says_so(
    factory: Factory, dbsession: Session, app_with: Callable[..., webtest.TestApp],
    ages: dict[str, float], message: str,
) -> None:
    alice = factory.user("alice")
    app = app_with(**SHORT)
    sign_in(app, "alice")
    set_times(dbsession, alice, **ages)
    for path in ("/api/v1/me", "/api/v1/projects/nowhere"):
        response = app.get(path, expect_errors=True)
        assert response.status_int == 401
        assert response.json == {"error": {"status": 401, "code": "session_ended",
                                           "message": message}}
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="taskdesk"'
    chinese = app.get("/api/v1/me", headers={"Accept-Language": "zh-CN"}, expect_errors=True)
    assert "登录" in chinese.json["error"]["message"]
    # Without a session cookie it is the usual challenge.
    anonymous = app_with(**SHORT).get("/api/v1/me", expect_errors=True)
    assert anonymous.json["error"]["code"] == "unauthorized"
    assert "Bearer" in anonymous.json["error"]["message"]
