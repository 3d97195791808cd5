"""`taskdesk INI purge`: expired sessions, stale sign-in failures and expired idempotency keys
go, live ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from taskdesk.models import AuthSession, IdempotencyKey, LoginFailure
from taskdesk.models.meta import utcnow
from taskdesk.security.login import Expired, idle_limit, purge_expired


def test_purge_removes_only_what_can_no_longer_matter(dbsession, factory, settings):
    user = factory.user("sam")
    now = utcnow()
    idle = idle_limit(settings)
    lifetime = timedelta(seconds=settings.session_max_age)
    window = timedelta(seconds=settings.login_window)
    key_window = timedelta(seconds=settings.api_idempotency_window)
    dbsession.add_all([
        AuthSession(user_id=user.id, token_hash="a" * 64, created_at=now, last_seen_at=now),
        AuthSession(user_id=user.id, token_hash="b" * 64, created_at=now - idle * 2,
                    last_seen_at=now - idle - timedelta(minutes=1)),
        # Past the idle timeout but within the lag its last use may have: refused by the
        # same rule only a little later, so kept.
        AuthSession(user_id=user.id, token_hash="g" * 64, created_at=now - idle * 2,
                    last_seen_at=now - timedelta(seconds=settings.session_idle_timeout + 1)),
        AuthSession(user_id=user.id, token_hash="c" * 64,
                    created_at=now - lifetime - timedelta(minutes=1), last_seen_at=now),
        LoginFailure(key="address:10.0.0.1", created_at=now),
        LoginFailure(key="address:10.0.0.1", created_at=now - window - timedelta(minutes=1)),
        IdempotencyKey(key_hash="d" * 64, fingerprint="f" * 64,
                       created_at=now - key_window + timedelta(minutes=1)),
        IdempotencyKey(key_hash="e" * 64, fingerprint="f" * 64,
                       created_at=now - key_window - timedelta(minutes=1)),
    ])
    dbsession.flush()

    assert purge_expired(dbsession, settings) == Expired(sessions=2, failures=1,
                                                        idempotency_keys=1)
    assert list(dbsession.scalars(select(IdempotencyKey.key_hash))) == ["d" * 64]
    assert sorted(dbsession.scalars(select(AuthSession.token_hash))) == ["a" * 64, "g" * 64]
    assert dbsession.scalar(select(LoginFailure.created_at)) == now
