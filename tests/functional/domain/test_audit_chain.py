"""The audit log's hash chain: appends, verification, tampering found, append-only, export."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from taskdesk.domain import audit
from taskdesk.domain.audit import GENESIS, AuditKind
from taskdesk.maintenance import purge
from taskdesk.models import CLIENT_ADDRESS, AuditEntry
from taskdesk.models.meta import utcnow


def entries(dbsession: Session) -> list[AuditEntry]:
    dbsession.expire_all()
    return list(dbsession.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def append(dbsession: Session, count: int) -> list[AuditEntry]:
    for n in range(count):
        audit.record(dbsession, kind=AuditKind.SIGN_OUT, actor_id=None, target=f"user:{n}",
                     details={"n": n, "名字": "李娜", "tuple": (1, 2)}, address="192.0.2.1")
    return entries(dbsession)


def tamper(dbsession: Session, backend: str, sql: str, **params: object) -> None:
    """Run ``sql`` on the table as an attacker with database access would (on PostgreSQL
    after switching the append-only trigger off, inside the test's transaction)."""
    if backend == "postgresql":
        dbsession.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    dbsession.execute(text(sql), params)


def test_each_entry_links_to_the_one_before(dbsession: Session) -> None:
    rows = append(dbsession, 3)
    assert rows[0].previous_hash == GENESIS
    assert [row.previous_hash for row in rows[1:]] == [row.hash for row in rows[:-1]]
    assert [row.id for row in rows] == [1, 2, 3]
    assert rows[0].details == {"n": 0, "名字": "李娜", "tuple": [1, 2]}
    verdict = audit.verify(dbsession)
    assert verdict.intact
    assert (verdict.checked, verdict.head_hash) == (3, rows[-1].hash)


def test_an_empty_log_is_intact(dbsession: Session) -> None:
    assert audit.verify(dbsession) == audit.Verdict(0, GENESIS)


def test_unknown_kinds_are_refused(dbsession: Session) -> None:
    with pytest.raises(ValueError, match=r"auth\.sign_inn"):
        audit.record(dbsession, kind="auth.sign_inn", actor_id=None)


def test_address_defaults_to_the_requests_client(dbsession: Session) -> None:
    dbsession.info[CLIENT_ADDRESS] = "198.51.100.7"
    try:
        audit.record(dbsession, kind=AuditKind.SIGN_OUT, actor_id=None)
        audit.record(dbsession, kind=AuditKind.SIGN_OUT, actor_id=None, address="203.0.113.9")
    finally:
        del dbsession.info[CLIENT_ADDRESS]
    assert [row.address for row in entries(dbsession)] == ["198.51.100.7", "203.0.113.9"]


def test_a_changed_entry_is_found(dbsession: Session, backend: str) -> None:
    rows = append(dbsession, 4)
    tamper(dbsession, backend, "UPDATE audit_log SET target = 'user:666' WHERE id = :id",
           id=rows[1].id)
    verdict = audit.verify(dbsession)
    assert (verdict.broken_id, verdict.checked) == (rows[1].id, 1)
    assert "changed" in verdict.reason


def test_a_deleted_entry_is_found(dbsession: Session, backend: str) -> None:
    rows = append(dbsession, 4)
    tamper(dbsession, backend, "DELETE FROM audit_log WHERE id = :id", id=rows[1].id)
    verdict = audit.verify(dbsession)
    assert verdict.broken_id == rows[2].id
    assert "missing" in verdict.reason


def test_an_entry_inserted_between_two_is_found(dbsession: Session, backend: str) -> None:
    """The forger makes room and inserts an entry that links correctly to the one before
    it, with a correct hash of its own: the entry after it no longer links."""
    rows = append(dbsession, 3)
    last = rows[-1]
    tamper(dbsession, backend, "UPDATE audit_log SET id = id + 1 WHERE id = :id", id=last.id)
    forged = {"id": last.id, "created_at": utcnow(), "kind": "user.admin_changed",
              "actor_id": None, "target": "user:666", "details": {"is_site_admin": True},
              "address": None, "previous_hash": rows[-2].hash}
    dbsession.execute(insert(AuditEntry.__table__).values(
        **forged, hash=audit.entry_hash(**forged)))
    verdict = audit.verify(dbsession)
    assert (verdict.broken_id, verdict.checked) == (last.id + 1, 3)
    assert "link" in verdict.reason


def test_the_app_cannot_change_or_delete_entries(dbsession: Session) -> None:
    row = append(dbsession, 1)[0]
    row.target = "user:666"
    with pytest.raises(RuntimeError, match="append-only"):
        dbsession.flush()
    dbsession.rollback()


def test_postgresql_refuses_update_and_delete(dbsession: Session, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite relies on the chain")
    row = append(dbsession, 1)[0]
    for statement in ("UPDATE audit_log SET target = 'x' WHERE id = :id",
                      "DELETE FROM audit_log WHERE id = :id"):
        with pytest.raises(DBAPIError, match="append-only"), dbsession.begin_nested():
            dbsession.execute(text(statement), {"id": row.id})
    with pytest.raises(DBAPIError, match="append-only"), dbsession.begin_nested():
        dbsession.execute(text("TRUNCATE audit_log"))
    assert audit.verify(dbsession).checked == 1


def test_purge_leaves_the_log_alone(dbsession: Session, settings: object) -> None:
    rows = append(dbsession, 2)
    purge(dbsession, settings)  # type: ignore[arg-type]
    assert [row.hash for row in entries(dbsession)] == [row.hash for row in rows]


def test_export_is_json_lines_in_batches(dbsession: Session,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    rows = append(dbsession, 5)
    monkeypatch.setattr(audit, "BATCH", 2)
    lines = list(audit.export_lines(dbsession))
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    exported = [json.loads(line) for line in lines]
    assert [item["id"] for item in exported] == [row.id for row in rows]
    first = exported[0]
    assert set(first) == {"id", "created_at", "kind", "actor_id", "actor", "target", "details",
                          "address", "previous_hash", "hash"}
    assert first["kind"] == "auth.sign_out"
    assert first["details"]["名字"] == "李娜"
    assert first["created_at"].endswith("+00:00")
    assert first["hash"] == rows[0].hash
    assert list(audit.export_lines(dbsession, since=utcnow())) == []
