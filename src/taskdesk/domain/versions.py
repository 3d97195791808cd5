"""Optimistic concurrency: the one place a client's expected version meets the stored one.

Tasks and comments carry a ``version`` that every change bumps. A change based on an older
version is refused with :class:`ConflictError` (nothing is written). The ORM's
``version_id_col`` then guards the write itself: a row changed by another transaction
between reading and writing it raises ``StaleDataError``, which :func:`versioned_flush`
turns into ``ConflictError(raced=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from taskdesk.domain.errors import ConflictError
from taskdesk.models import Comment, Task


def expect_version(current: int, expected: int | None, *, field: str | None = None) -> None:
    """Refuse a change based on ``expected`` when the row is at ``current`` (no expectation:
    no check). ``field`` names the data's field that held the version, if it came in the
    data rather than from the caller."""
    if expected is not None and expected != current:
        raise ConflictError(current, field=field)


@contextmanager
def versioned_flush(dbsession: Session, row: Task | Comment) -> Iterator[None]:
    """Change ``row`` inside the block and flush it in a savepoint.

    When the row changed meanwhile (StaleDataError) only the savepoint is rolled back, so the
    session stays usable and the error can carry the current version (a failed plain flush
    leaves a PendingRollbackError).
    """
    try:
        with dbsession.begin_nested():
            yield
            dbsession.flush()
    except StaleDataError:
        model = type(row)
        current = dbsession.scalar(select(model.version).where(model.id == row.id))
        raise ConflictError(current or 0, raced=True) from None
