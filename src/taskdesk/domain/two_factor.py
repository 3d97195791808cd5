"""Two-factor authentication: authenticator (TOTP) enrolment, codes, recovery codes,
remembered devices, and sign-ins waiting for their second factor.

Secrets at rest:

* The TOTP secret must be read back to compute codes, so it is sealed
  (``security.secrets.seal``) with a key derived from ``taskdesk.session.secret``.
* Recovery codes are stored as HMAC-SHA256 keyed with another key derived from it, not
  argon2: each code carries 50 random bits (not a person's password, so nothing to slow
  down a dictionary for), the keyed hash makes a stolen table useless without the INI's
  secret, and a code is then found with one indexed lookup (argon2 would verify each of the
  ten codes in turn, about half a second per attempt). Guessing online is throttled.
* Remembered devices and pending sign-ins hold 256-bit random tokens, stored as SHA-256
  like sessions and API tokens.

Changing the session secret therefore turns every authenticator and recovery code invalid:
users then need their 2FA reset (admin page, or ``taskdesk INI reset-two-factor NAME``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from taskdesk.domain import audit
from taskdesk.domain.audit import AuditKind
from taskdesk.models import PendingSignIn, RecoveryCode, RememberedDevice, TwoFactor, User
from taskdesk.models.meta import utcnow
from taskdesk.security import totp
from taskdesk.security.secrets import digest, new_secret, seal, unseal
from taskdesk.settings import TaskdeskSettings

#: How many recovery codes a user gets at once.
RECOVERY_CODES = 10
#: Random characters per recovery code (base32: 5 bits each).
RECOVERY_LENGTH = 10
#: How long a sign-in may wait for its second factor (or for enrolment when required).
PENDING_LIFETIME = timedelta(minutes=10)
#: Sign-in methods whose provider's own second factor may be trusted
#: (``taskdesk.mfa.trust_provider``).
PROVIDER_METHODS = frozenset({"ldap", "oidc"})
#: Who issues the codes, as authenticator apps show it.
ISSUER = "Taskdesk"


def _key(settings: TaskdeskSettings, purpose: bytes) -> bytes:
    return hmac.digest(settings.session_secret.encode(), b"taskdesk two-factor: " + purpose,
                       "sha256")


def _seal_secret(settings: TaskdeskSettings, secret: str) -> bytes:
    return seal(_key(settings, b"seal"), secret.encode("ascii"))


def _unseal_secret(settings: TaskdeskSettings, box: bytes) -> str | None:
    opened = unseal(_key(settings, b"seal"), box)
    return opened.decode("ascii") if opened is not None else None


def _code_hash(settings: TaskdeskSettings, code: str) -> str:
    return hmac.new(_key(settings, b"recovery"), code.encode(), hashlib.sha256).hexdigest()


def normalise_recovery_code(text: str) -> str:
    """A recovery code as typed ("ABCDE-fghij ") in the form it is hashed in."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


# -- state ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Status:
    """What the profile shows: whether 2FA is on, since when, and what is left."""

    enabled_at: datetime | None
    recovery_codes_left: int
    remembered_devices: int

    @property
    def enabled(self) -> bool:
        return self.enabled_at is not None


def status(dbsession: Session, user_id: int) -> Status:
    """The user's 2FA status in one statement."""
    now = utcnow()
    codes = (select(func.count()).select_from(RecoveryCode)
             .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
             .scalar_subquery())
    devices = (select(func.count()).select_from(RememberedDevice)
               .where(RememberedDevice.user_id == user_id, RememberedDevice.expires_at > now)
               .scalar_subquery())
    enabled = (select(TwoFactor.enabled_at).where(TwoFactor.user_id == user_id)
               .scalar_subquery())
    row = dbsession.execute(select(enabled, codes, devices)).one()
    return Status(row[0], row[1] or 0, row[2] or 0)


def is_enabled(dbsession: Session, user_id: int) -> bool:
    return dbsession.scalar(
        select(TwoFactor.user_id).where(TwoFactor.user_id == user_id,
                                        TwoFactor.enabled_at.is_not(None))
    ) is not None


def required(settings: TaskdeskSettings, user: User) -> bool:
    """Whether ``taskdesk.mfa.require`` makes 2FA compulsory for ``user``."""
    return settings.mfa_require == "everyone" or (
        settings.mfa_require == "admins" and user.is_site_admin)


# -- enrolment -----------------------------------------------------------------------------
class AlreadyEnabled(Exception):
    """Two-factor authentication is on already: there is nothing to set up."""


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows: the secret and the URI its QR code carries."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        return totp.grouped(self.secret)


def start_enrolment(dbsession: Session, settings: TaskdeskSettings, user: User) -> Enrolment:
    """The secret being set up for ``user``: the same one until confirmed (so reloading the
    page does not invalidate a QR code already scanned), a new one if unreadable.
    Refused (:class:`AlreadyEnabled`) when 2FA is on already."""
    row = dbsession.get(TwoFactor, user.id)
    if row is not None and row.enabled_at is not None:
        raise AlreadyEnabled(user.id)
    secret = _unseal_secret(settings, row.secret_box) if row is not None else None
    if secret is None:
        secret = totp.new_secret()
        if row is None:
            dbsession.add(TwoFactor(user_id=user.id, secret_box=_seal_secret(settings, secret)))
        else:
            row.secret_box = _seal_secret(settings, secret)
    return Enrolment(secret, totp.provisioning_uri(secret, user.username, ISSUER))


def confirm_enrolment(dbsession: Session, settings: TaskdeskSettings, user: User, code: str,
                      now: float) -> list[str] | None:
    """Turn 2FA on when ``code`` is current for the secret being set up; return the new
    recovery codes (shown once), or None for a wrong code."""
    row = dbsession.get(TwoFactor, user.id)
    if row is None or row.enabled_at is not None:
        return None
    secret = _unseal_secret(settings, row.secret_box)
    step = totp.matching_step(secret, code, now, None) if secret is not None else None
    if step is None:
        return None
    row.enabled_at = utcnow()
    row.last_step = step
    _audit(dbsession, AuditKind.TWO_FACTOR_ENABLED, user.id)
    return _replace_recovery_codes(dbsession, settings, user.id)


def _audit(dbsession: Session, kind: AuditKind, user_id: int,
           actor_id: int | None = None) -> None:
    audit.record(dbsession, kind=kind, actor_id=user_id if actor_id is None else actor_id,
                 target=f"user:{user_id}")


def new_recovery_codes(dbsession: Session, settings: TaskdeskSettings,
                       user_id: int) -> list[str]:
    """Replace the user's recovery codes with :data:`RECOVERY_CODES` new ones; return them
    formatted for reading ("abcde-fghij"). Only their keyed hashes are kept."""
    _audit(dbsession, AuditKind.RECOVERY_CODES_RENEWED, user_id)
    return _replace_recovery_codes(dbsession, settings, user_id)


def _replace_recovery_codes(dbsession: Session, settings: TaskdeskSettings,
                            user_id: int) -> list[str]:
    dbsession.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    codes = ["".join(secrets.choice(alphabet) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODES)]
    dbsession.add_all(RecoveryCode(user_id=user_id, code_hash=_code_hash(settings, code))
                      for code in codes)
    half = RECOVERY_LENGTH // 2
    return [f"{code[:half]}-{code[half:]}" for code in codes]


def disable(dbsession: Session, user_id: int) -> None:
    """Turn 2FA off: the secret, the recovery codes and every remembered device go."""
    _turn_off(dbsession, user_id)
    _audit(dbsession, AuditKind.TWO_FACTOR_DISABLED, user_id)


def _turn_off(dbsession: Session, user_id: int) -> None:
    dbsession.execute(delete(TwoFactor).where(TwoFactor.user_id == user_id))
    dbsession.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    _forget_devices(dbsession, user_id)


def reset(dbsession: Session, user_id: int, *, actor_id: int | None) -> bool:
    """An administrator's reset for a user locked out (``actor_id``: the admin, None from
    the CLI): 2FA off (as :func:`disable`) and any sign-in of theirs waiting for a code
    abandoned. Whether 2FA was on."""
    was_on = is_enabled(dbsession, user_id)
    _turn_off(dbsession, user_id)
    end_pending(dbsession, user_id)
    audit.record(dbsession, kind=AuditKind.TWO_FACTOR_RESET, actor_id=actor_id,
                 target=f"user:{user_id}", details={"was_on": was_on})
    return was_on


# -- verification --------------------------------------------------------------------------
def check_totp(dbsession: Session, settings: TaskdeskSettings, user_id: int, code: str,
               now: float) -> bool:
    """Whether ``code`` is the user's current authenticator code and not used before; the
    step it belongs to is recorded, so it cannot be used again (a conditional UPDATE: of
    two concurrent requests with one code, one wins)."""
    row = dbsession.get(TwoFactor, user_id)
    if row is None or row.enabled_at is None:
        return False
    secret = _unseal_secret(settings, row.secret_box)
    step = totp.matching_step(secret, code, now, row.last_step) if secret else None
    if step is None:
        return False
    claimed = dbsession.execute(
        update(TwoFactor)
        .where(TwoFactor.user_id == user_id,
               (TwoFactor.last_step.is_(None)) | (TwoFactor.last_step < step))
        .values(last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def use_recovery_code(dbsession: Session, settings: TaskdeskSettings, user_id: int,
                      text: str) -> bool:
    """Whether ``text`` is one of the user's unused recovery codes; it is used up."""
    code = normalise_recovery_code(text)
    if len(code) != RECOVERY_LENGTH:
        return False
    used = dbsession.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id,
               RecoveryCode.code_hash == _code_hash(settings, code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(used.rowcount)  # type: ignore[attr-defined]


# -- remembered devices --------------------------------------------------------------------
def remember_device(dbsession: Session, user_id: int, days: int,
                    user_agent: str) -> tuple[str, datetime]:
    """A new remembered-device token for the browser's cookie, and when it expires."""
    secret = new_secret()
    expires_at = utcnow() + timedelta(days=days)
    dbsession.add(RememberedDevice(user_id=user_id, token_hash=digest(secret),
                                   user_agent=user_agent[:200], expires_at=expires_at))
    return secret, expires_at


def device_remembered(dbsession: Session, user_id: int, secret: str | None) -> bool:
    """Whether ``secret`` (the browser's cookie) is a live remembered device of ``user_id``."""
    if not secret:
        return False
    return dbsession.scalar(
        select(RememberedDevice.id).where(RememberedDevice.token_hash == digest(secret),
                                          RememberedDevice.user_id == user_id,
                                          RememberedDevice.expires_at > utcnow())
    ) is not None


def forget_devices(dbsession: Session, user_id: int) -> int:
    """Forget every remembered device of the user; return how many were live."""
    _audit(dbsession, AuditKind.DEVICES_FORGOTTEN, user_id)
    return _forget_devices(dbsession, user_id)


def _forget_devices(dbsession: Session, user_id: int) -> int:
    result = dbsession.execute(
        delete(RememberedDevice).where(RememberedDevice.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- pending sign-ins ----------------------------------------------------------------------
def start_pending(dbsession: Session, user_id: int, method: str, target: str) -> str:
    """Record a sign-in waiting for its second factor; return the browser's secret."""
    secret = new_secret()
    dbsession.add(PendingSignIn(user_id=user_id, token_hash=digest(secret), method=method,
                                target=target[:2000],
                                expires_at=utcnow() + PENDING_LIFETIME))
    return secret


def pending(dbsession: Session, secret: object) -> PendingSignIn | None:
    """The live pending sign-in ``secret`` names, or None (unknown, finished or expired)."""
    if not isinstance(secret, str):
        return None
    return dbsession.scalar(
        select(PendingSignIn).where(PendingSignIn.token_hash == digest(secret),
                                    PendingSignIn.expires_at > utcnow())
    )


def end_pending(dbsession: Session, user_id: int) -> None:
    """Finish (or abandon) every pending sign-in of the user."""
    dbsession.execute(delete(PendingSignIn).where(PendingSignIn.user_id == user_id))


def purge(dbsession: Session) -> int:
    """Delete expired pending sign-ins and remembered devices; return how many."""
    now = utcnow()
    pending_rows = dbsession.execute(delete(PendingSignIn).where(PendingSignIn.expires_at <= now))
    devices = dbsession.execute(delete(RememberedDevice).where(RememberedDevice.expires_at <= now))
    return int(pending_rows.rowcount + devices.rowcount)  # type: ignore[attr-defined]
