"""Concurrent audit appends never fork the chain.

Each thread is a request of its own (own session and transaction, on a real committed
database), released together by a barrier; each appends several entries in one transaction,
with a pause between them so the transactions overlap. On PostgreSQL the advisory lock
serialises them; on SQLite ``BEGIN IMMEDIATE`` does (a writer's transaction, and so its
read of the head, starts only after the previous writer committed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import transaction
from sqlalchemy import select
from sqlalchemy.engine import Engine

from taskdesk.domain import audit
from taskdesk.domain.audit import AuditKind
from taskdesk.models import AuditEntry, get_session_factory, get_tm_session
from tests.support.databases import create_database, migrated_engine

pytestmark = pytest.mark.slow

WRITERS = 8
EACH = 3


@pytest.fixture
def fresh_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    for url in create_database(backend, tmp_path_factory):
        engine = migrated_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def test_concurrent_appends_keep_one_chain(fresh_engine: Engine) -> None:
    session_factory = get_session_factory(fresh_engine)
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            barrier.wait(timeout=30)
            manager = transaction.TransactionManager(explicit=True)
            with manager:
                dbsession = get_tm_session(session_factory, manager)
                for n in range(EACH):
                    audit.record(dbsession, kind=AuditKind.SIGN_IN, actor_id=writer,
                                 details={"n": n})
                    time.sleep(0.01)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(session_factory, manager)
        verdict = audit.verify(dbsession)
        rows = dbsession.execute(
            select(AuditEntry.actor_id, AuditEntry.details).order_by(AuditEntry.id)).all()
    assert verdict.intact, verdict
    assert verdict.checked == WRITERS * EACH
    # Each writer's entries are contiguous: appends of one transaction are never interleaved
    # with another's (the lock is held until commit).
    writers = [actor_id for actor_id, _details in rows]
    assert all(writers[i] == writers[i - i % EACH] for i in range(len(writers)))
    assert sorted(set(writers)) == list(range(WRITERS))
