"""Password sign-in with throttling per account and per client address; when sessions
end; and ``purge``, which deletes what has expired.

Failures are rows in the database, so the limits hold across processes and servers.
Every refusal says the same thing: a wrong username and a wrong password are
indistinguishable, in words and in time (a dummy hash is verified for unknown users).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from taskdesk.domain import audit, idempotency
from taskdesk.domain.audit import AuditKind
from taskdesk.models import AuthSession, LoginFailure, User
from taskdesk.models.meta import utcnow
from taskdesk.security.passwords import DUMMY_HASH, hash_password, verify_password
from taskdesk.settings import TaskdeskSettings


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    throttled: bool = False


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"account:{username}"[:120], _address_key(address)


def _address_key(address: str) -> str:
    return f"address:{address}"[:120]


def _failures(dbsession: Session, key: str, since: object) -> int:
    return dbsession.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key == key, LoginFailure.created_at > since)
    ) or 0


def address_throttled(dbsession: Session, settings: TaskdeskSettings, address: str) -> bool:
    """Whether ``address`` failed to authenticate too often lately (passwords and tokens)."""
    since = utcnow() - timedelta(seconds=settings.login_window)
    return _failures(dbsession, _address_key(address), since) >= settings.login_address_limit


def record_address_failure(dbsession: Session, address: str) -> None:
    dbsession.add(LoginFailure(key=_address_key(address)))


def _audit_failure(dbsession: Session, username: str, address: str, reason: str,
                   user: User | None = None) -> None:
    audit.record(dbsession, kind=AuditKind.SIGN_IN_FAILED, actor_id=None,
                 target=f"user:{user.id}" if user else None,
                 details={"username": username[:64], "method": "password", "reason": reason},
                 address=address)


def authenticate(
    dbsession: Session, settings: TaskdeskSettings, username: str, password: str, address: str
) -> LoginResult:
    """Check a password sign-in; every outcome is in the audit log (the failures' reasons
    too, which the person signing in is never told). A throttled attempt is only recorded
    if the caller keeps the transaction's changes (the web's sign-in does)."""
    username = username.strip().lower()
    account_key, address_key = _keys(username, address)
    since = utcnow() - timedelta(seconds=settings.login_window)
    if (
        _failures(dbsession, account_key, since) >= settings.login_account_limit
        or address_throttled(dbsession, settings, address)
    ):
        _audit_failure(dbsession, username, address, "throttled")
        return LoginResult(None, throttled=True)

    user = dbsession.scalar(select(User).where(User.username == username)) if username else None
    matches, needs_rehash = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if user is None or not matches or not user.is_active:
        dbsession.add_all([LoginFailure(key=account_key), LoginFailure(key=address_key)])
        reason = ("unknown_user" if user is None else "wrong_password" if not matches
                  else "deactivated")
        _audit_failure(dbsession, username, address, reason, user)
        return LoginResult(None)
    if needs_rehash:
        user.password_hash = hash_password(password)
    dbsession.execute(delete(LoginFailure).where(LoginFailure.key == account_key))
    audit.record(dbsession, kind=AuditKind.SIGN_IN, actor_id=user.id, target=f"user:{user.id}",
                 details={"method": "password"}, address=address)
    return LoginResult(user)


class SessionEnd(StrEnum):
    """Why a signed-in session is over (the sign-in page and the API say which)."""

    #: Unused for longer than ``taskdesk.session.idle_timeout``.
    IDLE = "idle"
    #: Older than ``taskdesk.session.max_age``, however active.
    MAX_AGE = "max_age"


def touch_interval(settings: TaskdeskSettings) -> timedelta:
    """How old a session's recorded last use may get before a request writes it again.

    Requests within this interval of the recorded time write nothing (reads stay reads);
    the price is that the recorded time lags the real last use by up to this much, which
    :func:`idle_limit` allows for. A twelfth of the idle timeout, at most a minute: with the
    default 8 hours an active session costs one UPDATE a minute, as before; with a 60 s
    timeout, one every 5 s.
    """
    return timedelta(seconds=min(60.0, settings.session_idle_timeout / 12))


def idle_limit(settings: TaskdeskSettings) -> timedelta:
    """How long after its recorded last use a session ends: the idle timeout plus the
    recording lag, so a session never ends before ``idle_timeout`` of real inactivity (and
    at most one touch interval after it)."""
    return timedelta(seconds=settings.session_idle_timeout) + touch_interval(settings)


def session_end(settings: TaskdeskSettings, created_at: datetime, last_seen_at: datetime,
                now: datetime) -> SessionEnd | None:
    """Whether a session with these times is over at ``now``, and why."""
    if now - created_at > timedelta(seconds=settings.session_max_age):
        return SessionEnd.MAX_AGE
    if now - last_seen_at > idle_limit(settings):
        return SessionEnd.IDLE
    return None


class Expired(NamedTuple):
    sessions: int
    failures: int
    idempotency_keys: int


def purge_expired(dbsession: Session, settings: TaskdeskSettings) -> Expired:
    """Delete sessions past their idle or absolute limit, failures older than the
    throttling window and idempotency keys older than their window; return how many of
    each. None can matter any more: an expired session is refused anyway, an old failure
    no longer counts, and an old key is claimed afresh."""
    now = utcnow()
    idle_before = now - idle_limit(settings)
    started_before = now - timedelta(seconds=settings.session_max_age)
    sessions = dbsession.execute(
        delete(AuthSession).where(
            or_(AuthSession.last_seen_at < idle_before, AuthSession.created_at < started_before)
        )
    )
    failures = dbsession.execute(
        delete(LoginFailure).where(
            LoginFailure.created_at < now - timedelta(seconds=settings.login_window)
        )
    )
    keys = idempotency.purge(dbsession, timedelta(seconds=settings.api_idempotency_window))
    return Expired(sessions.rowcount, failures.rowcount, keys)  # type: ignore[attr-defined]
