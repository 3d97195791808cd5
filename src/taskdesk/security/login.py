"""Password sign-in and second-factor checks with throttling per account and per client
address; when sessions end; and ``purge``, which deletes what has expired.

Failures are rows in the database, so the limits hold across processes and servers.
Every refusal says the same thing: a wrong username and a wrong password are
indistinguishable, in words and in time (a dummy hash is verified for unknown users).
The password is checked against Taskdesk's own hash (where ``taskdesk.auth.local_passwords``
allows it for the account), then against LDAP when ``taskdesk.ldap.url`` is set; a directory
that cannot be reached is the one refusal that says something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from taskdesk.domain import audit, directory, idempotency, two_factor
from taskdesk.domain.audit import AuditKind
from taskdesk.models import AuthSession, LoginFailure, User
from taskdesk.models.meta import utcnow
from taskdesk.security import ldap
from taskdesk.security.passwords import dummy_hash, hash_password, verify_password
from taskdesk.settings import TaskdeskSettings


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    throttled: bool = False
    #: How the password was checked: "password" (Taskdesk's hash) or "ldap".
    method: str = "password"
    #: The directory could not be asked (nothing was counted against the account).
    unavailable: bool = False
    #: What an LDAP sign-in did to the account (created, groups); None otherwise.
    directory: directory.SignIn | None = None


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
                   user: User | None = None, method: str = "password") -> None:
    audit.record(dbsession, kind=AuditKind.SIGN_IN_FAILED, actor_id=None,
                 target=f"user:{user.id}" if user else None,
                 details={"username": username[:64], "method": method, "reason": reason},
                 address=address)


def authenticate(
    dbsession: Session, settings: TaskdeskSettings, username: str, password: str, address: str
) -> LoginResult:
    """Check a password sign-in (the local hash, then the directory); every failure is in
    the audit log with its reason, which the person signing in is never told (a throttled
    attempt only if the caller keeps the transaction's changes: the web's sign-in does).
    A success is recorded when the session starts (``web.views.auth``), after any second
    factor."""
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
    local = user is not None and directory.local_password_allowed(settings, user)
    cost = settings.password_cost
    matches, needs_rehash = verify_password(
        user.password_hash if user is not None and local else dummy_hash(cost), password, cost)
    if user is not None and local and matches and user.is_active:
        if needs_rehash:
            user.password_hash = hash_password(password, cost)
        dbsession.execute(delete(LoginFailure).where(LoginFailure.key == account_key))
        return LoginResult(user)
    if settings.ldap_enabled:
        try:
            outcome = ldap.authenticate(settings, username, password)
        except ldap.DirectoryUnavailable:
            _audit_failure(dbsession, username, address, "directory_unavailable", user, "ldap")
            return LoginResult(None, method="ldap", unavailable=True)
        signed_in = _directory_sign_in(dbsession, settings, username, outcome)
        if signed_in is not None:
            dbsession.execute(delete(LoginFailure).where(LoginFailure.key == account_key))
            return LoginResult(signed_in.user, method="ldap", directory=signed_in)
    dbsession.add_all([LoginFailure(key=account_key), LoginFailure(key=address_key)])
    reason = ("unknown_user" if user is None else "wrong_password" if not matches
              else "deactivated")
    _audit_failure(dbsession, username, address, reason, user,
                   "ldap" if settings.ldap_enabled and not local else "password")
    return LoginResult(None)


def _directory_sign_in(dbsession: Session, settings: TaskdeskSettings, username: str,
                       outcome: ldap.LdapOutcome) -> directory.SignIn | None:
    """The account the directory vouched for; a person the directory says is gone or
    disabled has their linked account deactivated."""
    if outcome.gone or outcome.disabled:
        directory.deactivate(dbsession, directory.LDAP, username)
        return None
    entry = outcome.entry
    if entry is None:
        return None
    profile = directory.DirectoryProfile(
        provider=directory.LDAP, subject=entry.username.lower(), username=entry.username,
        display_name=entry.display_name, email=entry.email,
        groups=entry.groups if settings.directory_groups else None,
    )
    try:
        return directory.sign_in(dbsession, settings, profile)
    except directory.DirectoryRefusal:
        return None


class Factor(StrEnum):
    """What passed a second-factor (or re-authentication) check."""

    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"
    PASSWORD = "password"


@dataclass(frozen=True)
class FactorResult:
    factor: Factor | None
    throttled: bool = False


def _second_factor_key(user_id: int) -> str:
    return f"second-factor:{user_id}"


def check_factor(
    dbsession: Session, settings: TaskdeskSettings, user: User, text: str, address: str,
    now: float, *, recovery: bool = False, password: bool = False,
) -> FactorResult:
    """Check ``text`` as the user's current authenticator code, or (when allowed) as one of
    their recovery codes or their password; throttled like password sign-ins.

    Failures are counted per user (``second-factor:<id>``, against
    ``taskdesk.login.account_limit``) and per client address, in the same window and table
    as failed passwords: six digits must not be guessable by trying them all.
    """
    key = _second_factor_key(user.id)
    since = utcnow() - timedelta(seconds=settings.login_window)
    if (_failures(dbsession, key, since) >= settings.login_account_limit
            or address_throttled(dbsession, settings, address)):
        return FactorResult(None, throttled=True)
    factor = None
    if two_factor.check_totp(dbsession, settings, user.id, text, now):
        factor = Factor.TOTP
    elif recovery and two_factor.use_recovery_code(dbsession, settings, user.id, text):
        factor = Factor.RECOVERY_CODE
    elif password and text and verify_password(user.password_hash, text)[0]:
        factor = Factor.PASSWORD
    if factor is None:
        dbsession.add_all([LoginFailure(key=key), LoginFailure(key=_address_key(address))])
        return FactorResult(None)
    dbsession.execute(delete(LoginFailure).where(LoginFailure.key == key))
    return FactorResult(factor)


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
    """Delete sessions past their idle or absolute limit (and expired pending sign-ins and
    remembered devices), failures older than the
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
    # Sign-ins that waited too long for their second factor and remembered devices past
    # their lifetime count as sessions: both are sign-in state a browser holds.
    sign_in_state = sessions.rowcount + two_factor.purge(dbsession)  # type: ignore[attr-defined]
    return Expired(sign_in_state, failures.rowcount, keys)  # type: ignore[attr-defined]
