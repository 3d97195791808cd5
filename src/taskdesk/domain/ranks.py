"""Board order: where each task stands in its board column.

A task's ``rank`` is an integer; a column lists its tasks by rank, then by id. Integers with
gaps rather than LexoRank-like strings, because every placement the app makes without asking
(a new task, a task whose status changed elsewhere) goes to the top of its column, and
"above the top card" is plain SQL arithmetic, ``MIN(rank) - RANK_GAP``, evaluated inside the
INSERT or UPDATE that writes the task: no statement more on the hot paths (creating a task,
changing its status), and no string collation to get right on PostgreSQL.

Moving a card between two others writes one row, the moved task, at the midpoint of its
neighbours' ranks. Two moves into the same gap at once compute the same rank: both land,
and the tie is broken by id, the same way on every reader. Only when neighbours are 1 apart
(after about twenty moves into the very same gap) is the column renumbered, ``RANK_GAP``
apart, in one executemany; renumbering is not a change of the tasks (no version, no history).

New tasks go to the top of their column: the board shows the first 30 cards of a column, so
a task added at the bottom of a long column would not be seen; on top, the team sees it and
drags it to its place (triage), as the board showed newest first before it had an order.
A bulk status change (``domain.bulk``) puts its tasks on top together, in one UPDATE: they
share the rank, and stand by id among themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value
from zope.sqlalchemy import mark_changed

from taskdesk.models import Task

#: The distance between neighbours after a renumbering, and of a card put above the top one
#: or below the last: 2**20 leaves room for 20 halvings, and 2**43 placements on top before
#: a 64-bit rank would overflow.
RANK_GAP = 2**20

_column = aliased(Task, name="column_task")


def top_of_column(project_id: int | ColumnElement[int],
                  status: str | ColumnElement[str]) -> ColumnElement[int]:
    """The rank above every task of the column (0 for an empty column), as a SQL expression
    to assign to ``Task.rank``: evaluated by the INSERT or UPDATE that writes the task
    (values, or bound parameters for a statement built once)."""
    lowest = (select(func.min(_column.rank))
              .where(_column.project_id == project_id, _column.status == status)
              .scalar_subquery())
    return func.coalesce(lowest - RANK_GAP, 0)


def rank_between(dbsession: Session, task: Task, status: str, *,
                 after: tuple[int, int] | None = None,
                 before: tuple[int, int] | None = None) -> int:
    """The rank that puts ``task`` in the column of ``status`` right after the task
    ``after`` or right before ``before`` (each ``(id, rank)``), or on top without either;
    the column is renumbered first when there is no room."""
    for _attempt in range(2):
        low, high = _neighbours(dbsession, task, status, after=after, before=before)
        if low is None and high is None:
            return 0
        if low is None:
            assert high is not None
            return high - RANK_GAP
        if high is None:
            return low + RANK_GAP
        if high - low >= 2:
            return (low + high) // 2
        renumbered = _renumber(dbsession, task, status)
        after = (after[0], renumbered[after[0]]) if after else None
        before = (before[0], renumbered[before[0]]) if before else None
    raise AssertionError("a renumbered column leaves room between neighbours")


def _neighbours(dbsession: Session, task: Task, status: str, *,
                after: tuple[int, int] | None,
                before: tuple[int, int] | None) -> tuple[int | None, int | None]:
    """The ranks the moved task goes between (None: no task on that side)."""
    others = select(_column.rank).where(
        _column.project_id == task.project_id, _column.status == status,
        _column.id != task.id)
    if after is not None:
        anchor_id, anchor_rank = after
        following = others.where(_later(anchor_id, anchor_rank)).order_by(
            _column.rank, _column.id).limit(1)
        return anchor_rank, dbsession.scalar(following)
    if before is not None:
        anchor_id, anchor_rank = before
        preceding = others.where(~_later(anchor_id, anchor_rank), _column.id != anchor_id
                                 ).order_by(_column.rank.desc(), _column.id.desc()).limit(1)
        return dbsession.scalar(preceding), anchor_rank
    return None, dbsession.scalar(others.with_only_columns(func.min(_column.rank)))


def _later(anchor_id: int, anchor_rank: int) -> ColumnElement[bool]:
    """Tasks after the anchor in board order (rank, then id)."""
    return or_(_column.rank > anchor_rank,
               and_(_column.rank == anchor_rank, _column.id > anchor_id))


def _renumber(dbsession: Session, task: Task, status: str) -> dict[int, int]:
    """Space the column's tasks (but ``task``) ``RANK_GAP`` apart, in their order; return
    their new ranks by id. Core UPDATEs: neither versions nor history change."""
    ids = dbsession.scalars(
        select(_column.id).where(_column.project_id == task.project_id,
                                 _column.status == status, _column.id != task.id)
        .order_by(_column.rank, _column.id)).all()
    ranks = {task_id: index * RANK_GAP for index, task_id in enumerate(ids)}
    table: Any = Task.__table__
    # In id order, so two renumberings at once take the row locks in the same order.
    dbsession.execute(
        update(table).where(table.c.id == bindparam("task_id"))
        .values(rank=bindparam("new_rank")),
        [{"task_id": task_id, "new_rank": rank} for task_id, rank in sorted(ranks.items())])
    mark_changed(dbsession)
    return ranks


def set_rank(dbsession: Session, task: Task, rank: int) -> None:
    """Write ``task``'s rank alone (a move within its column): one row, no new version."""
    table: Any = Task.__table__
    dbsession.execute(update(table).where(table.c.id == task.id).values(rank=rank))
    mark_changed(dbsession)
    set_committed_value(task, "rank", rank)
