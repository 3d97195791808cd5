"""``@username`` in descriptions and comments: who is named, so they can be told.

A mention is ``@`` and a username (see ``USERNAME_PATTERN``) that does not follow a letter,
digit or ``@`` (so ``lina@example.com`` names nobody); a dot or hyphen that ends it is
punctuation (``@lina.`` names lina). Mentions in code (`` `@x` `` and fenced blocks) count
too: people paste commands that name colleagues less often than they name them in prose, and
a missed mention costs more than an extra one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.models import User

MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._-]{1,62})", re.IGNORECASE)
#: More names than this in one text are not looked up (a pasted list is not a mention).
MAX_MENTIONS = 50


def mentioned_usernames(text: str) -> list[str]:
    """The usernames ``text`` mentions, lower case, in order of first mention."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".-").lower()
        if len(name) >= 2:
            seen.setdefault(name, None)
    return list(seen)[:MAX_MENTIONS]


def newly_mentioned(dbsession: Session, text: str, *, before: str = "") -> list[int]:
    """Ids of the active users ``text`` mentions that ``before`` (the previous text of an
    edit) did not: an edit tells only the people it adds. One statement, none when nobody
    is mentioned."""
    names = [n for n in mentioned_usernames(text) if n not in set(mentioned_usernames(before))]
    if not names:
        return []
    rows = dbsession.execute(
        select(User.id).where(User.username.in_(names), User.is_active.is_(True))
        .order_by(User.id)
    )
    return [row.id for row in rows]


def active_people(dbsession: Session, names: Iterable[str]) -> dict[str, str]:
    """Username -> display name of the active users among ``names`` (lower case), in one
    statement (none for no names): what a page links ``@mentions`` to."""
    wanted = sorted(set(names))[:MAX_MENTIONS * 4]
    if not wanted:
        return {}
    rows = dbsession.execute(select(User.username, User.display_name).where(
        User.username.in_(wanted), User.is_active.is_(True)))
    return {row.username: row.display_name for row in rows}
