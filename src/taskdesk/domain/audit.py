"""The security audit log: append-only, hash-chained, written in the changing transaction.

Every security-relevant event (sign-in, tokens, roles and memberships, accounts, project
archiving and settings, webhooks, the admin command's actions) calls :func:`record` on the
session that makes the change, so the entry commits or rolls back with it.

The chain: each entry stores the SHA-256 of the entry before it (``previous_hash``) and its
own ``hash``, the SHA-256 of its fields as canonical JSON (sorted keys, no spaces, UTF-8)
together with ``previous_hash``. Ids are given by the writer, one more than the chain's
head, so :func:`verify` finds a changed entry (its hash), a deleted one (a gap, or a link
that no longer matches) and one inserted between others (the next entry's link). A chain
re-computed from the tampered entry onwards can only be caught by comparing the head hash
with a copy kept elsewhere: ``audit verify`` prints it for that.

Appends are serialised, so two writers never both extend the same head (a fork):

* PostgreSQL: ``pg_advisory_xact_lock`` on a fixed key, held until the transaction ends,
  before the head is read; under READ COMMITTED the head read after the lock sees the
  previous writer's committed entry.
* SQLite: write transactions begin ``BEGIN IMMEDIATE`` (``models.TaskdeskSQLiteDialect``),
  which takes the database's single write lock first; a second writer waits for the first
  to commit before its transaction (and so its head read) begins. Read-only requests begin
  DEFERRED but record nothing (every recorded change is a POST, PUT, PATCH or DELETE).

Append-only: the application has no UPDATE or DELETE of ``audit_log`` (the ORM refuses to
flush one, see :func:`_refuse`), ``purge`` leaves it alone, and on PostgreSQL a trigger
(migration 0018) refuses UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import Row, event, select, text
from sqlalchemy.orm import Session
from translationstring import TranslationString

from taskdesk.domain.schema import Day, Number, OneOf, QuerySchema, Words
from taskdesk.messages import _
from taskdesk.models import CLIENT_ADDRESS, AuditEntry, User
from taskdesk.models.meta import utcnow

#: The ``previous_hash`` of the first entry.
GENESIS = "0" * 64
#: PostgreSQL advisory lock key serialising appends ("audit" in ASCII).
LOCK_KEY = 0x6175646974
#: Rows read per statement by verify and export (memory stays bounded by this).
BATCH = 500


class AuditKind(StrEnum):
    """Every kind of audit entry: a dotted name, ``area.event``."""

    SIGN_IN = "auth.sign_in"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    SIGN_OUT = "auth.sign_out"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    MEMBERSHIP_CHANGED = "membership.changed"
    GROUP_CREATED = "group.created"
    GROUP_MEMBER_ADDED = "group.member_added"
    GROUP_MEMBER_REMOVED = "group.member_removed"
    USER_CREATED = "user.created"
    USER_DEACTIVATED = "user.deactivated"
    USER_REACTIVATED = "user.reactivated"
    USER_ADMIN_CHANGED = "user.admin_changed"
    USER_PASSWORD_RESET = "user.password_reset"
    USER_PASSWORD_CHANGED = "user.password_changed"
    USER_SESSIONS_ENDED = "user.sessions_ended"
    PROJECT_ARCHIVED = "project.archived"
    PROJECT_UNARCHIVED = "project.unarchived"
    PROJECT_SETTINGS_CHANGED = "project.settings_changed"
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_CHANGED = "webhook.changed"
    WEBHOOK_SECRET_CHANGED = "webhook.secret_changed"
    WEBHOOK_DELETED = "webhook.deleted"
    SECOND_FACTOR_FAILED = "auth.second_factor_failed"
    TWO_FACTOR_ENABLED = "two_factor.enabled"
    TWO_FACTOR_DISABLED = "two_factor.disabled"
    TWO_FACTOR_RESET = "two_factor.reset"
    RECOVERY_CODES_RENEWED = "two_factor.recovery_codes_renewed"
    DEVICES_FORGOTTEN = "two_factor.devices_forgotten"
    DIRECTORY_ACCOUNT_CREATED = "directory.account_created"
    DIRECTORY_ACCOUNT_LINKED = "directory.account_linked"
    DIRECTORY_GROUPS_SYNCED = "directory.groups_synced"


#: What the admin pages call each kind.
LABELS: dict[AuditKind, TranslationString] = {
    AuditKind.SIGN_IN: _("Signed in"),
    AuditKind.SIGN_IN_FAILED: _("Sign-in failed"),
    AuditKind.SIGN_OUT: _("Signed out"),
    AuditKind.TOKEN_CREATED: _("API token created"),
    AuditKind.TOKEN_REVOKED: _("API token revoked"),
    AuditKind.MEMBERSHIP_CHANGED: _("Project role changed"),
    AuditKind.GROUP_CREATED: _("Group created"),
    AuditKind.GROUP_MEMBER_ADDED: _("Added to group"),
    AuditKind.GROUP_MEMBER_REMOVED: _("Removed from group"),
    AuditKind.USER_CREATED: _("User created"),
    AuditKind.USER_DEACTIVATED: _("User deactivated"),
    AuditKind.USER_REACTIVATED: _("User reactivated"),
    AuditKind.USER_ADMIN_CHANGED: _("Site admin rights changed"),
    AuditKind.USER_PASSWORD_RESET: _("Password reset by an admin"),
    AuditKind.USER_PASSWORD_CHANGED: _("Password changed"),
    AuditKind.USER_SESSIONS_ENDED: _("Sessions ended"),
    AuditKind.PROJECT_ARCHIVED: _("Project archived"),
    AuditKind.PROJECT_UNARCHIVED: _("Project unarchived"),
    AuditKind.PROJECT_SETTINGS_CHANGED: _("Project settings changed"),
    AuditKind.WEBHOOK_CREATED: _("Webhook created"),
    AuditKind.WEBHOOK_CHANGED: _("Webhook changed"),
    AuditKind.WEBHOOK_SECRET_CHANGED: _("Webhook secret regenerated"),
    AuditKind.WEBHOOK_DELETED: _("Webhook deleted"),
    AuditKind.SECOND_FACTOR_FAILED: _("Second factor refused"),
    AuditKind.TWO_FACTOR_ENABLED: _("Two-factor authentication turned on"),
    AuditKind.TWO_FACTOR_DISABLED: _("Two-factor authentication turned off"),
    AuditKind.TWO_FACTOR_RESET: _("Two-factor authentication reset by an admin"),
    AuditKind.RECOVERY_CODES_RENEWED: _("New recovery codes made"),
    AuditKind.DEVICES_FORGOTTEN: _("Remembered devices forgotten"),
    AuditKind.DIRECTORY_ACCOUNT_CREATED: _("Account created by directory sign-in"),
    AuditKind.DIRECTORY_ACCOUNT_LINKED: _("Account linked to the directory"),
    AuditKind.DIRECTORY_GROUPS_SYNCED: _("Groups changed by the directory"),
}


def _refuse(*_args: Any) -> None:
    raise RuntimeError("the audit log is append-only")


event.listen(AuditEntry, "before_update", _refuse)
event.listen(AuditEntry, "before_delete", _refuse)


def canonical(value: Any) -> str:
    """``value`` as canonical JSON: sorted keys, no whitespace, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(*, id: int, created_at: datetime, kind: str, actor_id: int | None,
               target: str | None, details: Mapping[str, Any], address: str | None,
               previous_hash: str) -> str:
    """The SHA-256 (hex) that chains an entry with these fields to ``previous_hash``."""
    fields = {"id": id, "created_at": _timestamp(created_at), "kind": kind,
              "actor_id": actor_id, "target": target, "details": details,
              "address": address, "previous_hash": previous_hash}
    return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()


def _hash_of(entry: AuditEntry | Row[Any]) -> str:
    return entry_hash(id=entry.id, created_at=entry.created_at, kind=entry.kind,
                      actor_id=entry.actor_id, target=entry.target, details=entry.details,
                      address=entry.address, previous_hash=entry.previous_hash)


def _lock_chain(dbsession: Session) -> None:
    """Serialise appends until this transaction ends (see the module's docstring)."""
    if dbsession.get_bind().dialect.name == "postgresql":
        dbsession.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def record(dbsession: Session, *, kind: str, actor_id: int | None, target: str | None = None,
           details: dict[str, Any] | None = None, address: str | None = None) -> None:
    """Append an entry to the audit log in ``dbsession``'s transaction.

    ``kind`` must be an :class:`AuditKind` value; ``address`` defaults to the client
    address of the request the session serves (none for the admin command).
    """
    kind = AuditKind(kind).value
    # Stored exactly as hashed: tuples become lists, keys strings.
    plain: dict[str, Any] = json.loads(canonical(details or {}))
    if address is None:
        address = dbsession.info.get(CLIENT_ADDRESS)
    _lock_chain(dbsession)
    head = dbsession.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry = AuditEntry(id=head.id + 1 if head else 1, created_at=utcnow(), kind=kind,
                       actor_id=actor_id, target=target and target[:200], details=plain,
                       address=address and address[:64],
                       previous_hash=head.hash if head else GENESIS)
    dbsession.add(entry)
    # Hashed once added: a listener may date new rows (the demo data's clock does).
    entry.hash = _hash_of(entry)
    dbsession.flush()


# -- verifying -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found: how many entries it checked, the head's hash, and the
    first broken entry (its id) with the reason, or None when the chain is intact."""

    checked: int
    head_hash: str
    broken_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def _batches(dbsession: Session, since: datetime | None = None) -> Iterator[Row[Any]]:
    """Every entry in id order as it is stored (columns, not entities: the session's
    identity map could hold stale ones, and nothing accumulates there), read ``BATCH`` at
    a time (keyset)."""
    after = 0
    table = AuditEntry.__table__
    while True:
        statement = select(table).where(table.c.id > after)
        if since is not None:
            statement = statement.where(table.c.created_at >= since)
        rows = dbsession.execute(statement.order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def verify(dbsession: Session) -> Verdict:
    """Walk the whole chain; stop at the first entry that does not hold."""
    previous_id, previous_hash, checked = 0, GENESIS, 0
    for entry in _batches(dbsession):
        if entry.id != previous_id + 1:
            return Verdict(checked, previous_hash, entry.id,
                           f"entries {previous_id + 1}..{entry.id - 1} are missing")
        if entry.previous_hash != previous_hash:
            return Verdict(checked, previous_hash, entry.id,
                           "its link to the previous entry does not match (an entry before "
                           "it was removed, replaced or inserted)")
        if _hash_of(entry) != entry.hash:
            return Verdict(checked, previous_hash, entry.id,
                           "its contents do not match its hash (it was changed)")
        previous_id, previous_hash, checked = entry.id, entry.hash, checked + 1
    return Verdict(checked, previous_hash)


# -- reading ---------------------------------------------------------------------------------

def as_json(entry: AuditEntry | Row[Any], actor: str | None) -> dict[str, Any]:
    """An entry as one exported JSON object (``actor``: the actor's username, if known)."""
    return {"id": entry.id, "created_at": _timestamp(entry.created_at), "kind": entry.kind,
            "actor_id": entry.actor_id, "actor": actor, "target": entry.target,
            "details": entry.details, "address": entry.address,
            "previous_hash": entry.previous_hash, "hash": entry.hash}


def export_lines(dbsession: Session, since: datetime | None = None) -> Iterator[str]:
    """The entries created at or after ``since`` (all: None) as JSON lines, for a SIEM,
    streamed in batches of ``BATCH``."""
    names: dict[int, str] = {}
    for entry in _batches(dbsession, since):
        actor = None
        if entry.actor_id is not None:
            if entry.actor_id not in names:
                # The admin command has no user; a SIEM wants names, not only ids. Actors
                # are few, so each is read once (and the cache stays small).
                username = dbsession.scalar(
                    select(User.username).where(User.id == entry.actor_id))
                names[entry.actor_id] = username or ""
            actor = names[entry.actor_id] or None
        yield canonical(as_json(entry, actor)) + "\n"


#: The admin page's filters and its keyset (``before``: the smallest id already shown).
AUDIT_QUERY = QuerySchema("AuditQuery", (
    OneOf("kind", "Only entries of this kind.", choices=tuple(AuditKind)),
    Words("actor", "Only entries by this user (username).", max_length=64),
    Day("since", "Entries on or after this day (UTC)."),
    Day("until", "Entries on or before this day (UTC)."),
    Number("before", "Entries older than this one (its id).", form=False),
))


class AuditFilter(NamedTuple):
    """The admin page's filters (all optional); ``actor`` is a username."""

    kind: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None


class AuditRow(NamedTuple):
    entry: AuditEntry
    actor_name: str | None
    actor_username: str | None


def browse(dbsession: Session, filters: AuditFilter, *, before: int = 0,
           limit: int = 50) -> list[AuditRow]:
    """Entries matching ``filters``, newest first, with their actors' names; ``before``:
    the smallest id of the previous page (keyset). One statement, whatever the filters."""
    statement = (
        select(AuditEntry, User.display_name, User.username)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .order_by(AuditEntry.id.desc()).limit(limit)
    )
    if before:
        statement = statement.where(AuditEntry.id < before)
    if filters.kind:
        statement = statement.where(AuditEntry.kind == filters.kind)
    if filters.actor:
        statement = statement.where(User.username == filters.actor.lower())
    if filters.since is not None:
        statement = statement.where(
            AuditEntry.created_at >= datetime.combine(filters.since, time(), UTC))
    if filters.until is not None:
        # The last day is included: entries before the next midnight (UTC).
        statement = statement.where(AuditEntry.created_at < datetime.combine(
            filters.until, time(), UTC) + timedelta(days=1))
    return [AuditRow(*row) for row in dbsession.execute(statement)]
