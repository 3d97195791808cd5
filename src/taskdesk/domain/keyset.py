"""Keyset paging of lists in id order, the one way the domain's reads page.

``after`` is the last id the caller has seen (0: from the start), ``limit`` the most rows to
return (None: all) and ``offset`` rows to skip after that. A caller wanting to know whether a
next page exists asks for one row more than it shows. Newest-first lists (``descending``)
page the other way: ``after`` is then the last (smallest) id seen, and the page holds
smaller ids.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

_Statement = TypeVar("_Statement", bound=Select[*tuple[Any, ...]])


def window(statement: _Statement,
           id_column: InstrumentedAttribute[int] | ColumnElement[int], *, after: int,
           limit: int | None, offset: int, descending: bool = False) -> _Statement:
    """``statement``, ordered by ``id_column``, narrowed to the rows after id ``after``, then
    ``offset`` and ``limit``. ``id_column`` may be an aggregate's column in a subquery
    (the inbox pages groups by their newest id)."""
    statement = statement.order_by(id_column.desc() if descending else id_column)
    if after:
        statement = statement.where(id_column < after if descending else id_column > after)
    if limit is not None:
        statement = statement.limit(limit)
    if offset:
        statement = statement.offset(offset)
    return statement


def windows(statement: Select[*tuple[Any, ...]], parent_column: Any, id_column: Any,
            parents: Collection[int], *, after: int, limit: int,
            descending: bool = False, total: int | None = None) -> Select[Any]:
    """The same page of ``statement`` (``after``, ``limit``, as :func:`window`) for each of
    ``parents``, in one statement: nested lists (the comments of every task of a page) load
    in one round trip whatever the number of parents.

    Each row is ``statement``'s columns, then the parent's id and the row's place (1, 2, ...)
    in its parent's page; ordered by parent, then place. ``ROW_NUMBER() OVER (PARTITION BY
    parent ORDER BY id)`` is a window function SQLite (3.25+) and PostgreSQL both have.
    ``total`` caps the rows of all parents together (a caller's budget), None: no cap.
    """
    order = id_column.desc() if descending else id_column
    place = func.row_number().over(partition_by=parent_column, order_by=order)
    inner = statement.add_columns(parent_column.label("parent_id"), place.label("place"))
    inner = inner.where(parent_column.in_(sorted(parents)))
    if after:
        inner = inner.where(id_column < after if descending else id_column > after)
    rows = inner.subquery()
    return (select(*rows.c).where(rows.c.place <= limit)
            .order_by(rows.c.parent_id, rows.c.place).limit(total))
