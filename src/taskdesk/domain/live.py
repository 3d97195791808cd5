"""What a live update says: an event's id and kind and the ids of what it is about.

A page showing a project (board, task list, task page) hears of each change to the project
as a :class:`Change`, pushed over a server-sent event stream (``taskdesk.live``, under
Hypercorn) or polled (``/projects/<slug>/changes``, under Waitress). A change carries ids and
a kind, never text: the page fetches what changed through the normal views, so every
permission check stays where it is. Both ways read the outbox (``models.Event``): the stream
for a ``Last-Event-ID`` resume and its periodic re-check, the poll every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.models import Event

#: Where the event streams are served (``<prefix>projects/<slug>``, ``<prefix>me``): the ASGI
#: app (``taskdesk.live``) answers these paths itself, the pages link to them.
STREAM_PREFIX = "/live/"
#: The WSGI environ key the ASGI app sets on every request it hands to the WSGI app: pages
#: served there may open an event stream; elsewhere (Waitress) they poll.
STREAMS_ENVIRON_KEY = "taskdesk.live.streams"

#: Most changes one read returns; a client further behind gets ``reset`` and reloads.
CHANGES_LIMIT = 100
#: How many event ids past the client's last one a read looks through (all projects' events
#: share the id sequence): bounds the work of a read however far behind a client is.
CHANGES_WINDOW = 5000


@dataclass(frozen=True)
class Change:
    """One event as a live update: ``payload()`` is what a client receives."""

    id: int
    kind: str
    project_id: int | None
    task_id: int | None
    comment_id: int | None

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "task": self.task_id,
                "comment": self.comment_id}

    @classmethod
    def of(cls, event_id: int, kind: str, project_id: int | None, task_id: int | None,
           data: Mapping[str, Any] | None) -> Change:
        comment = (data or {}).get("comment_id")
        return cls(event_id, kind, project_id, task_id,
                   comment if isinstance(comment, int) else None)


@dataclass(frozen=True)
class Changes:
    """The changes of a project after a client's last event id. ``last`` is the id the client
    asks after next time (the newest event of any project seen, so the next read starts
    there); ``reset``: the client is too far behind to catch up change by change (or asks
    after an id that does not exist yet) and should reload what it shows."""

    changes: tuple[Change, ...]
    last: int
    reset: bool


def latest_event_id(dbsession: Session) -> int:
    """The newest event's id (0: none yet); one statement on the primary key."""
    return int(dbsession.scalar(select(func.max(Event.id))) or 0)


def changes_since(dbsession: Session, project_id: int, after: int | None, *,
                  limit: int = CHANGES_LIMIT, window: int = CHANGES_WINDOW) -> Changes:
    """The project's changes with an id above ``after``, oldest first; two statements.

    ``after`` None (a client starting) returns no change and the newest id to start from.
    """
    latest = latest_event_id(dbsession)
    if after is None:
        return Changes((), latest, False)
    if after > latest:
        # An id from another database (restored, or a test's): start again from here.
        return Changes((), latest, True)
    if latest - after > window:
        return Changes((), latest, True)
    rows = dbsession.execute(
        select(Event.id, Event.kind, Event.project_id, Event.task_id, Event.data)
        .where(Event.id > after, Event.id <= latest, Event.project_id == project_id)
        .order_by(Event.id)
        .limit(limit + 1)
    ).all()
    if len(rows) > limit:
        return Changes((), latest, True)
    return Changes(tuple(Change.of(*row) for row in rows), latest, False)
