"""Counting tasks: a list's total, a board's columns, open tasks per project, and the weekly
created/completed chart."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, String, bindparam, case, func, literal, select
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer
from taskdesk.domain.task_list import ListShape, TaskQuery, filtered_tasks, list_shape
from taskdesk.models import Task, read_rows
from taskdesk.models.meta import UTCDateTime
from taskdesk.settings import Workflow
from taskdesk.timezones import local_midnight


@lru_cache(maxsize=256)
def _count_statement(shape: ListShape, dialect: str) -> Select[Any]:
    matching = filtered_tasks(shape, dialect).with_only_columns(literal(1)).limit(
        bindparam("cap_end", type_=Integer))
    return select(func.count()).select_from(matching.subquery())


def count_tasks(
    dbsession: Session, viewer: Viewer, query: TaskQuery, *, project_id: int | None = None,
    cap: int,
) -> int:
    """How many tasks match ``query`` (what ``list_tasks`` pages through), counting at most
    ``cap + 1``: a result above ``cap`` means "more than cap".

    Counting every match of a broad filter in a project of a million tasks reads every
    matching index entry; stopping at the cap keeps the list's cost bounded, like the board's
    column totals (``count_by_status``).
    """
    dialect = dbsession.get_bind().dialect.name
    shape, params = list_shape(viewer, query, dialect, project_id)
    params["cap_end"] = cap + 1
    return int(read_rows(dbsession, _count_statement(shape, dialect), params).scalar_one())


@lru_cache(maxsize=16)
def _status_counts_statement(statuses: int, capped: bool) -> Select[Any]:
    """:func:`count_by_status`'s statement for that many statuses (bound as ``status_0``,
    ``status_1``...), built once: a board runs it on every view, and building five
    subqueries cost more than running them."""
    project_id = bindparam("project_id", type_=Integer)
    cap_end = bindparam("cap_end", type_=Integer)
    counts = []
    for index in range(statuses):
        matching = select(literal(1)).where(
            Task.project_id == project_id,
            Task.status == bindparam(f"status_{index}", type_=String))
        if capped:
            matching = matching.limit(cap_end)
        counts.append(select(func.count()).select_from(matching.subquery()).scalar_subquery())
    return select(*counts)


def count_by_status(
    dbsession: Session, project_id: int, statuses: Collection[str], *, cap: int | None = None
) -> dict[str, int]:
    """Tasks per status in one statement.

    With ``cap`` each count stops at ``cap + 1`` (an index range scan of at most that many
    entries per status), so a board costs the same at a thousand tasks and at a million;
    a count above ``cap`` means "more than cap".
    """
    if not statuses:
        return {}
    params: dict[str, Any] = {f"status_{index}": status for index, status in enumerate(statuses)}
    params["project_id"] = project_id
    if cap is not None:
        params["cap_end"] = cap + 1
    row = read_rows(dbsession, _status_counts_statement(len(statuses), cap is not None),
                    params).one()
    return {status: int(count) for status, count in zip(statuses, row, strict=True)}


def open_task_counts(
    dbsession: Session, project_ids: Collection[int], workflow: Workflow
) -> dict[int, int]:
    """Open (not done or cancelled) tasks per project, in one grouped query."""
    if not project_ids:
        return {}
    rows = dbsession.execute(
        select(Task.project_id, func.count())
        .where(Task.project_id.in_(project_ids),
               Task.status.in_(workflow.names_in("open", "active")))
        .group_by(Task.project_id)
    )
    return {project_id: count for project_id, count in rows}


def weekly_created_completed(
    dbsession: Session, project_id: int, *, today: date, zone: tzinfo, weeks: int = 12
) -> list[tuple[date, int, int]]:
    """(Monday of the week, tasks created, tasks completed) for the last ``weeks`` weeks,
    each from Monday 00:00 to the next in the reader's ``zone``, the last holding ``today``.

    The weeks' bounds are instants worked out here (a week in a zone with summer time is
    not always 168 hours), so the database only compares timestamps.
    """
    first_monday = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    bounds = [literal(local_midnight(first_monday + timedelta(weeks=index), zone), UTCDateTime)
              for index in range(weeks + 1)]
    counts = {index: [0, 0] for index in range(weeks)}
    for slot, column in ((0, Task.created_at), (1, Task.completed_at)):
        week = case(*((column < end, index) for index, end in enumerate(bounds[1:])),
                    else_=None).label("week")
        rows = dbsession.execute(
            select(week, func.count())
            .where(Task.project_id == project_id, column >= bounds[0], column < bounds[-1])
            .group_by(week)
        )
        for index, count in rows:
            if index is not None:
                counts[int(index)][slot] = count
    return [
        (first_monday + timedelta(weeks=index), created, completed)
        for index, (created, completed) in sorted(counts.items())
    ]
