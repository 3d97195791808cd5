"""`taskdesk INI purge`: expired sessions and stale sign-in failures go, live ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from taskdesk.models import AuthSession, LoginFailure
from taskdesk.models.meta import utcnow
from taskdesk.security.login import purge_expired


def test_purge_removes_only_what_can_no_longer_matter(dbsession, factory, settings):
    user = factory.user("sam")
    now = utcnow()
    idle = timedelta(seconds=settings.session_idle_timeout)
    lifetime = timedelta(seconds=settings.session_max_age)
    window = timedelta(seconds=settings.login_window)
    dbsession.add_all([
        AuthSession(user_id=user.id, token_hash="a" * 64, created_at=now, last_seen_at=now),
        AuthSession(user_id=user.id, token_hash="b" * 64, created_at=now - idle * 2,
                    last_seen_at=now - idle - timedelta(minutes=1)),
        AuthSession(user_id=user.id, token_hash="c" * 64,
                    created_at=now - lifetime - timedelta(minutes=1), last_seen_at=now),
        LoginFailure(key="address:10.0.0.1", created_at=now),
        LoginFailure(key="address:10.0.0.1", created_at=now - window - timedelta(minutes=1)),
    ])
    dbsession.flush()

    assert purge_expired(dbsession, settings) == (2, 1)
    assert list(dbsession.scalars(select(AuthSession.token_hash))) == ["a" * 64]
    assert dbsession.scalar(select(LoginFailure.created_at)) == now
