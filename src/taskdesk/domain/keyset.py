"""Keyset paging of lists in id order, the one way the domain's reads page.

``after`` is the last id the caller has seen (0: from the start), ``limit`` the most rows to
return (None: all) and ``offset`` rows to skip after that. A caller wanting to know whether a
next page exists asks for one row more than it shows.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

_Statement = TypeVar("_Statement", bound=Select[*tuple[Any, ...]])


def window(statement: _Statement, id_column: InstrumentedAttribute[int], *, after: int,
           limit: int | None, offset: int) -> _Statement:
    """``statement``, ordered by ``id_column``, narrowed to the rows after id ``after``, then
    ``offset`` and ``limit``."""
    statement = statement.order_by(id_column)
    if after:
        statement = statement.where(id_column > after)
    if limit is not None:
        statement = statement.limit(limit)
    if offset:
        statement = statement.offset(offset)
    return statement
