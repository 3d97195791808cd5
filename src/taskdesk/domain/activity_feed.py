"""Activity feeds: a project's, a person's ("my projects") and the Atom feed, with the same
filters (by person, by kind), keyset paging and folding for the web, Atom and the API.

Visibility is the list rule of :func:`taskdesk.domain.feeds.activity` (projects the viewer
may see, link entries naming hidden tasks left out), applied in SQL; the filters are SQL
conditions too, so a page holds only what the reader asked for and may see.

Folding: consecutive changes (``task.updated``) by one person to one task within
:data:`FOLD_WINDOW`, with nothing else between them in this feed (its filters applied),
are shown as one entry with the combined changes (each field from its first old value to
its last new value; a field changed and changed back is left out). Folding works on the
rows of one page: a page never ends inside a group unless one group fills a whole page
(the rest then starts the next page), see :func:`feed_page`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer, visible_projects
from taskdesk.domain.feeds import ActivityRow, activity
from taskdesk.domain.schemas import ACTIVITY_KINDS, ACTIVITY_QUERY
from taskdesk.models import Activity, Project, User

#: Changes by one person to one task this close together are folded into one entry.
FOLD_WINDOW = timedelta(minutes=10)
#: The action whose entries fold.
_FOLDED_ACTION = "task.updated"


def _changed(field_name: str) -> ColumnElement[bool]:
    """``task.updated`` entries that changed ``field_name`` (a key of ``changes``)."""
    return and_(Activity.action == _FOLDED_ACTION,
                Activity.changes[field_name].as_string().is_not(None))


#: Each kind of activity as a condition on its entries.
KIND_CONDITIONS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "created": lambda: Activity.action == "task.created",
    "changed": lambda: Activity.action == _FOLDED_ACTION,
    "status": lambda: _changed("status"),
    "assignee": lambda: _changed("assignee"),
    "comments": lambda: Activity.action.in_(
        ("comment.added", "comment.edited", "comment.deleted")),
    "links": lambda: Activity.action.in_(("link.added", "link.removed")),
    "attachments": lambda: Activity.action.in_(("attachment.added", "attachment.deleted")),
    "deleted": lambda: Activity.action == "task.deleted",
    "members": lambda: Activity.action.in_(("member.added", "member.changed",
                                            "member.removed")),
    "project": lambda: Activity.action.in_(("project.created", "project.updated")),
}
assert tuple(KIND_CONDITIONS) == ACTIVITY_KINDS


@dataclass(frozen=True)
class FeedQuery:
    """A feed's filters: whose activity (``me``, ``none``: someone whose account is gone, or
    a username; None: everyone's) and which kinds (empty: all)."""

    person: str | None = None
    kinds: tuple[str, ...] = ()

    def params(self) -> dict[str, str]:
        """The filters as URL parameters again (next-page links)."""
        return ACTIVITY_QUERY.as_params(self)


def parse_feed_query(params: Mapping[str, Any], *, strict: bool = False,
                     ignore: Sequence[str] = ()) -> FeedQuery:
    """The filters from URL parameters; :class:`~taskdesk.domain.errors.ValidationError`
    names every bad one (``strict``, the API: unknown ones too, but those in ``ignore``)."""
    values = ACTIVITY_QUERY.read(params, None, strict=strict, ignore=ignore)
    return FeedQuery(**values)


def _conditions(query: FeedQuery, viewer: Viewer) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.person == "me":
        conditions.append(Activity.actor_id == viewer.user_id)
    elif query.person == "none":
        conditions.append(Activity.actor_id.is_(None))
    elif query.person is not None:
        conditions.append(User.username == query.person)
    if query.kinds:
        conditions.append(or_(*(KIND_CONDITIONS[kind]() for kind in query.kinds)))
    return conditions


@dataclass(frozen=True)
class FeedEntry(ActivityRow):
    """An entry of a feed: one activity entry, or several folded (``count`` of them, the
    newest's id, time and actor, ``oldest_id`` the first's id, the combined ``changes``)."""

    count: int = 1
    oldest_id: int = 0
    #: The time of the first folded entry (the same as ``created_at`` for one entry).
    started_at: datetime | None = None


@dataclass(frozen=True)
class FeedPage:
    entries: list[FeedEntry]
    #: The id to pass as ``before`` for the next (older) page; None on the last page.
    next_before: int | None


def _folds(group: Sequence[ActivityRow], row: ActivityRow, window: timedelta) -> bool:
    """Whether ``row`` (older) continues ``group`` (newest first)."""
    newest = group[0]
    return (row.action == newest.action == _FOLDED_ACTION
            and row.actor_username is not None
            and row.actor_username == newest.actor_username
            and row.task_number is not None
            and (row.project_slug, row.task_number) == (newest.project_slug,
                                                         newest.task_number)
            and newest.created_at - row.created_at <= window)


def _entry(group: Sequence[ActivityRow]) -> FeedEntry:
    newest, oldest = group[0], group[-1]
    changes: dict[str, Any] = {}
    if len(group) > 1:
        for row in reversed(group):
            for name, pair in row.changes.items():
                if name in changes:
                    changes[name] = [changes[name][0], pair[1]]
                else:
                    changes[name] = list(pair)
        changes = {name: pair for name, pair in changes.items() if pair[0] != pair[1]
                   or name == "description"}
    else:
        changes = newest.changes
    return FeedEntry(
        id=newest.id, created_at=newest.created_at, action=newest.action, changes=changes,
        project_slug=newest.project_slug, project_name=newest.project_name,
        task_number=newest.task_number, task_title=newest.task_title,
        actor_username=newest.actor_username, actor_name=newest.actor_name,
        count=len(group), oldest_id=oldest.id, started_at=oldest.created_at,
    )


def fold(rows: Sequence[ActivityRow], window: timedelta = FOLD_WINDOW) -> list[FeedEntry]:
    """``rows`` (newest first, as a feed shows them) with consecutive changes by one person
    to one task within ``window`` folded into one entry each."""
    entries: list[FeedEntry] = []
    group: list[ActivityRow] = []
    for row in rows:
        if group and _folds(group, row, window):
            group.append(row)
            continue
        if group:
            entries.append(_entry(group))
        group = [row]
    if group:
        entries.append(_entry(group))
    return entries


def feed_page(
    dbsession: Session,
    viewer: Viewer,
    query: FeedQuery,
    *,
    project_id: int | None = None,
    before: int = 0,
    limit: int = 50,
) -> FeedPage:
    """One page of a feed, newest first, folded, in one statement: a project's
    (``project_id``; the caller checked that ``viewer`` may see it) or else the activity in
    the projects ``viewer`` holds a role in. ``before``: the ``next_before`` of the previous
    page (0: the newest). At most ``limit`` activity entries are read; the last group is
    left for the next page when more follow (it may go on there)."""
    rows = activity(dbsession, viewer, project_id=project_id,
                    member_only=project_id is None, where=_conditions(query, viewer),
                    after=before, limit=limit + 1)
    more = len(rows) > limit
    entries = fold(rows[:limit])
    if not more:
        return FeedPage(entries, None)
    if len(entries) > 1:
        entries.pop()
    return FeedPage(entries, entries[-1].oldest_id)


def visible_project_id(dbsession: Session, viewer: Viewer, slug: str) -> int | None:
    """The id of the project ``slug`` if ``viewer`` may see it (the Atom feed's
    ``?project=``); None for a hidden project and a missing one alike. One statement."""
    return dbsession.scalar(
        select(Project.id).where(Project.slug == slug, visible_projects(viewer)))
