"""Idempotency keys: a creating request that carries a client's key runs once; a retry with
the same key gets the first answer.

A key is claimed by inserting its row, in the transaction of the request it belongs to, before
the request does its work; the answer is written into the row at the end of that transaction.
So the row is committed exactly when the request's changes are (a request that fails, or a
server killed mid-request, leaves no row and the retry runs), and the table's unique key is
what lets only one of two concurrent requests with the same key run:

* SQLite: write transactions begin IMMEDIATE, so the second request waits for the first to
  commit (within ``taskdesk.sqlite.busy_timeout``), then finds its row and replays the answer.
* PostgreSQL: the claim also takes a transaction-level advisory lock on the key; the second
  request does not get it and answers "in progress" at once instead of waiting on the unique
  index. (Were two to get past it, the unique index would still make the second wait and
  then find the first's row.)

Cost: two statements on a request with a key (the claim's INSERT, then the UPDATE with the
answer, or the SELECT of the stored answer), none without one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import zope.sqlalchemy
from sqlalchemy import Boolean, ColumnElement, String, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from taskdesk.models import IdempotencyKey
from taskdesk.models.meta import UTCDateTime, utcnow

#: Longest key accepted (a UUID has 36 characters).
MAX_KEY_LENGTH = 255
_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")
#: The first argument of PostgreSQL's two-integer advisory locks: this module's namespace.
_LOCK_CLASS = 0x1DE7


def valid_key(key: str) -> bool:
    """1 to 255 printable ASCII characters (a UUID, a ULID, a hash...)."""
    return _KEY.fullmatch(key) is not None


def key_hash(credential: str, key: str) -> str:
    """Where ``key`` from ``credential`` (e.g. ``token:7``) is filed: each credential has
    keys of its own."""
    return hashlib.sha256(f"{credential}\n{key}".encode()).hexdigest()


def fingerprint(method: str, path: str, body: bytes | Iterable[bytes]) -> str:
    """What identifies a request: the same key with another fingerprint is a client bug.
    ``body`` may come in pieces (an upload is hashed without being held in memory whole)."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    for piece in [body] if isinstance(body, bytes) else body:
        digest.update(piece)
    return digest.hexdigest()


@dataclass(frozen=True)
class Answer:
    """A stored first answer."""

    status: int
    headers: dict[str, str]
    body: bytes
    #: ``body`` is sealed (see ``IdempotencyKey.sealed``).
    sealed: bool = False


class Refusal(StrEnum):
    #: Another request with this key has not finished.
    IN_PROGRESS = "in_progress"
    #: The key was first used for another request (method, path or body).
    DIFFERENT_REQUEST = "different_request"


def _lock(dbsession: Session, hashed: str) -> ColumnElement[bool]:
    """A condition taking the key's advisory lock on PostgreSQL (true elsewhere)."""
    if dbsession.get_bind().dialect.name != "postgresql":
        return literal(True, Boolean)
    return func.pg_try_advisory_xact_lock(_LOCK_CLASS, int(hashed[:8], 16) - 2**31,
                                          type_=Boolean)


def claim(dbsession: Session, hashed: str, request: str, window: timedelta
          ) -> int | Answer | Refusal:
    """Claim the key ``hashed`` for a request with fingerprint ``request``: the claim's id
    (run the request, then :func:`finish` or :func:`release`), the first answer to replay,
    or why neither."""
    now = utcnow()
    dialect = dbsession.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    row = select(literal(hashed, String), literal(request, String), literal(now, UTCDateTime),
                 literal(False, Boolean)).where(_lock(dbsession, hashed))
    claimed = dbsession.execute(
        insert(IdempotencyKey)
        .from_select(["key_hash", "fingerprint", "created_at", "sealed"], row)
        .on_conflict_do_nothing(index_elements=["key_hash"])
        .returning(IdempotencyKey.id)
    ).scalar()
    if claimed is not None:
        zope.sqlalchemy.mark_changed(dbsession)
        return int(claimed)
    found = dbsession.execute(
        select(IdempotencyKey.id, IdempotencyKey.fingerprint, IdempotencyKey.created_at,
               IdempotencyKey.status, IdempotencyKey.headers, IdempotencyKey.body,
               IdempotencyKey.sealed)
        .where(IdempotencyKey.key_hash == hashed)
    ).first()
    if found is None or found.status is None:
        # PostgreSQL: another request holds the key's lock and has not committed.
        return Refusal.IN_PROGRESS
    if found.created_at < now - window:
        return _renew(dbsession, found.id, found.created_at, hashed, request, now)
    if found.fingerprint != request:
        return Refusal.DIFFERENT_REQUEST
    return Answer(found.status, dict(found.headers or {}), found.body or b"", found.sealed)


def _renew(dbsession: Session, claim_id: int, created_at: datetime, hashed: str, request: str,
           now: datetime) -> int | Refusal:
    """Claim again a key whose window has passed (``purge`` has not removed it yet)."""
    renewed = dbsession.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim_id, IdempotencyKey.created_at == created_at,
               _lock(dbsession, hashed))
        .values(fingerprint=request, created_at=now, status=None, headers=None, body=None,
                sealed=False)
        .returning(IdempotencyKey.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if renewed is None:
        return Refusal.IN_PROGRESS
    zope.sqlalchemy.mark_changed(dbsession)
    return claim_id


def finish(dbsession: Session, claim_id: int, answer: Answer) -> None:
    """Store the answer of the request that claimed ``claim_id`` (in its transaction)."""
    dbsession.execute(
        update(IdempotencyKey).where(IdempotencyKey.id == claim_id)
        .values(status=answer.status, headers=answer.headers, body=answer.body,
                sealed=answer.sealed)
        .execution_options(synchronize_session=False)
    )
    zope.sqlalchemy.mark_changed(dbsession)


def release(dbsession: Session, claim_id: int) -> None:
    """Give the key back: the request did not succeed, so a retry should run it."""
    dbsession.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim_id)
                      .execution_options(synchronize_session=False))
    zope.sqlalchemy.mark_changed(dbsession)


def purge(dbsession: Session, window: timedelta) -> int:
    """Delete the keys older than ``window``; return how many."""
    result = dbsession.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - window)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)

