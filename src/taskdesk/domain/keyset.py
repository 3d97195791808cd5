"""Keyset paging of lists in id order, the one way the domain's reads page.

``after`` is the last id the caller has seen (0: from the start), ``limit`` the most rows to
return (None: all) and ``offset`` rows to skip after that. A caller wanting to know whether a
next page exists asks for one row more than it shows. Newest-first lists (``descending``)
page the other way: ``after`` is then the last (smallest) id seen, and the page holds
smaller ids.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select
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
