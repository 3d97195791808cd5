"""Finding people by what someone typed: the people picker's suggestions, and the forms that
accept a username or a display name.

Users are few (hundreds, a few thousand), so matching any part of a name scans the users
table: a ``LIKE '%…%'`` can use no b-tree index on SQLite or PostgreSQL, and scanning a few
thousand short rows costs well under a millisecond; the limit bounds what is returned.
The restrictions are correlated subqueries that look each candidate up by index (project
members by user and group, group members by user, tasks by assignee).
Matching is case-insensitive for Latin letters on both databases (SQLite's ``lower`` only
folds ASCII); Chinese names have no case and match as typed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from typing import NamedTuple

from sqlalchemy import ColumnElement, case, exists, func, or_, select, true
from sqlalchemy.orm import Session

from taskdesk.domain.accounts import like_pattern
from taskdesk.domain.errors import ValidationError
from taskdesk.messages import _
from taskdesk.models import Task, User

#: How many suggestions one search returns at most.
SUGGESTION_LIMIT = 10
#: Longer input matches nobody (usernames have 64 characters, display names 120).
_MAX_TYPED = 120


class Person(NamedTuple):
    username: str
    display_name: str
    email: str


def _typed(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()[:_MAX_TYPED]


def assigned_in(project_id: int) -> ColumnElement[bool]:
    """A WHERE clause on ``User`` keeping the people assigned to a task of the project
    (whom anyone who may see its task list sees as assignees there)."""
    return exists().where(Task.project_id == project_id, Task.assignee_id == User.id)


def find_people(
    dbsession: Session,
    text: str,
    *,
    among: ColumnElement[bool] | None = None,
    match_email: bool = False,
    limit: int = SUGGESTION_LIMIT,
) -> list[Person]:
    """Active people whose username, display name (or, with ``match_email``, e-mail address)
    contains ``text`` in any case, restricted to those ``among`` keeps (e.g.
    ``may_be_assigned(project_id)``); exact matches first, then prefixes, then by name.

    Empty ``text`` finds nobody: suggestions answer what was typed, they list no directory.
    """
    text = _typed(text)
    if not text:
        return []
    lowered = text.lower()
    anywhere, prefix = like_pattern(text), like_pattern(text, anywhere=False)
    columns = [User.username, User.display_name, *([User.email] if match_email else [])]
    rank = case(
        (or_(User.username == lowered, func.lower(User.display_name) == lowered), 0),
        (or_(*(column.ilike(prefix, escape="\\") for column in columns)), 1),
        else_=2,
    )
    statement = (
        select(User.username, User.display_name, User.email)
        .where(User.is_active.is_(True), or_(*(c.ilike(anywhere, escape="\\") for c in columns)))
        .order_by(rank, func.lower(User.display_name), User.username)
        .limit(limit)
    )
    if among is not None:
        statement = statement.where(among)
    return [Person._make(row) for row in dbsession.execute(statement)]


def resolve_person(
    dbsession: Session,
    typed: str,
    *,
    field: str,
    prefer: ColumnElement[bool] | None = None,
    active_only: bool = True,
) -> User:
    """The user ``typed`` names: a username, or else a display name (any case).

    A username always wins and names its user whatever their state (the caller's own rules
    then refuse a deactivated account with their own message). A display name names an
    active person (any person without ``active_only``); when several share it, those
    ``prefer`` keeps (e.g. the people who may be assigned in the project) decide if they are
    one. Refusals are a :class:`ValidationError` on ``field``: nobody, or several people.
    """
    text = _typed(typed)
    if not text:
        raise ValidationError({field: _("This field is required.")})
    lowered = text.lower()
    by_name = func.lower(User.display_name) == lowered
    if active_only:
        by_name = by_name & User.is_active.is_(True)
    statement = (
        select(User, (prefer if prefer is not None else true()).label("preferred"))
        .where(or_(User.username == lowered, by_name))
        .order_by(User.username)
    )
    rows = dbsession.execute(statement).all()
    for row in rows:
        if row.User.username == lowered:
            return row.User  # type: ignore[no-any-return]
    if len(rows) > 1:
        rows = [row for row in rows if row.preferred] or rows
    if len(rows) == 1:
        return rows[0].User  # type: ignore[no-any-return]
    mapping = {"name": text}
    if rows:
        raise ValidationError({field: _(
            "Several people are called ${name}: use the username.", mapping=mapping)})
    raise ValidationError({field: _("No one has the username or display name ${name}.",
                                       mapping=mapping)})


def display_names(dbsession: Session, usernames: Collection[str]) -> dict[str, str]:
    """The display names of ``usernames`` (unknown names are left out), in one statement."""
    if not usernames:
        return {}
    rows = dbsession.execute(
        select(User.username, User.display_name).where(User.username.in_(sorted(usernames))))
    return {username: name for username, name in rows}
