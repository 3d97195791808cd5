"""What every template gets besides ``request``: ``h``, helpers bound to the request.

Dates and numbers are formatted with Babel in the request's locale; workflow names, field
names and roles are translated through the ``taskdesk`` catalog (unknown names from the INI
fall back to a readable form of the name itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, timedelta
from datetime import date as Date
from datetime import datetime as DateTime
from functools import cached_property, lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_decimal
from markupsafe import Markup
from pyramid.request import Request

from taskdesk.domain import inbox
from taskdesk.domain.live import STREAM_PREFIX, STREAMS_ENVIRON_KEY
from taskdesk.domain.mentions import active_people
from taskdesk.domain.tasks import is_overdue
from taskdesk.links import Page, page_url
from taskdesk.messages import _
from taskdesk.resources import ProjectResource, TaskResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import identity_of
from taskdesk.settings import settings_of
from taskdesk.web.markdown import Mentions, mentioned_names, render_markdown

STATUS_LABELS = {
    "open": _("Open"),
    "in_progress": _("In progress"),
    "blocked": _("Blocked"),
    "done": _("Done"),
    "wont_do": _("Won't do"),
}
PRIORITY_LABELS = {
    "low": _("Low"),
    "normal": _("Normal"),
    "high": _("High"),
    "urgent": _("Urgent"),
}
ROLE_LABELS = {
    "viewer": _("Viewer"),
    "member": _("Member"),
    "manager": _("Manager"),
    "reporter": _("Reporter"),
}
FIELD_LABELS = {
    "title": _("Title"),
    "description": _("Description"),
    "status": _("Status"),
    "priority": _("Priority"),
    "assignee": _("Assignee"),
    "due_date": _("Due date"),
    "labels": _("Labels"),
    "parent": _("Parent task"),
    "name": _("Name"),
    "visibility": _("Visibility"),
    "archived": _("Archived"),
    "comment": _("Comment"),
    "task": _("Task"),
}
VISIBILITY_LABELS = {"private": _("Private"), "internal": _("Internal")}


def _readable(name: str) -> str:
    return name.replace("_", " ").capitalize()


def offset_label(offset: timedelta | None) -> str:
    """A UTC offset as "UTC+08:00", "UTC-03:30", "UTC+00:00"."""
    minutes = int((offset or timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


@lru_cache(maxsize=8)
def datetime_pattern(locale: Locale) -> str:
    """The locale's one timestamp format: its medium date and short time, joined the way
    the locale joins them ("MMM d, y, h:mm a"; "y年M月d日 HH:mm")."""
    join = str(locale.datetime_formats["medium"])
    return (join.replace("{1}", locale.date_formats["medium"].pattern)
            .replace("{0}", locale.time_formats["short"].pattern))


@lru_cache(maxsize=32)
def babel_locale(name: str) -> Locale:
    """Babel's data for a locale name, parsed once (parsing lists Babel's data folder)."""
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return Locale("en")


#: ``%`` escapes what it puts in (cheaper than ``Markup.format``'s formatter).
_TIME = Markup('<time datetime="%s" title="%s">%s</time>')


@lru_cache(maxsize=4096)
def date_text(value: Date, locale_name: str) -> str:
    """A calendar date in the locale's medium format, formatted once per process: Babel
    takes ~20 µs a date, and a list shows one or two per row."""
    return format_date(value, format="medium", locale=babel_locale(locale_name))


@lru_cache(maxsize=4096)
def minute_text(value: DateTime, locale_name: str) -> str:
    """A naive local time, to the minute, in :func:`datetime_pattern`, formatted once per
    process. The pattern holds no seconds and no zone (a medium date and a short time), so
    the naive minute is the whole key."""
    locale = babel_locale(locale_name)
    return format_datetime(value, datetime_pattern(locale), locale=locale)


class Helpers:
    """Formatting and translation helpers for one request (``h`` in templates).

    Built for every render (JSON ones too), so nothing is worked out before it is used.
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        # Labels repeat down a page (a board shows 150 cards): each is translated once per
        # render (dates are formatted once per process: ``date_text``).
        self._memo: dict[tuple[Any, ...], str] = {}
        self._people: dict[str, str] = {}
        self._looked_up: set[str] = set()

    @cached_property
    def locale_name(self) -> str:
        return str(self.request.locale_name)

    @cached_property
    def locale(self) -> Locale:
        return babel_locale(self.locale_name)

    @property
    def html_lang(self) -> str:
        return self.locale_name.replace("_", "-")

    def translate(self, message: Any) -> str:
        return str(self.request.localizer.translate(message))

    def _label(self, table: dict[str, Any], name: str | None) -> str:
        if name is None:
            return ""
        key = (id(table), name)
        label = self._memo.get(key)
        if label is None:
            message = table.get(name)
            label = self._memo[key] = (
                self.translate(message) if message is not None else _readable(name))
        return label

    def status(self, name: str | None) -> str:
        return self._label(STATUS_LABELS, name)

    def priority(self, name: str | None) -> str:
        return self._label(PRIORITY_LABELS, name)

    def role(self, name: str | None) -> str:
        return self._label(ROLE_LABELS, name)

    def field(self, name: str) -> str:
        return self._label(FIELD_LABELS, name)

    def visibility(self, name: str) -> str:
        return self._label(VISIBILITY_LABELS, name)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The reader's time zone (``request.zone``)."""
        return cast(ZoneInfo, self.request.zone)

    @property
    def zone_label(self) -> str:
        """The reader's zone and its offset now, e.g. "Asia/Shanghai (UTC+08:00)"."""
        return f"{self.zone.key} ({offset_label(DateTime.now(self.zone).utcoffset())})"

    def _local(self, value: DateTime) -> DateTime:
        if value.tzinfo is None:  # stored timestamps are UTC
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.zone)

    def date(self, value: Date | str | None) -> str:
        """A calendar date ("Dec 3, 2026", "2026年12月3日"); a timestamp's date is the date
        it was in the reader's zone. Text is an ISO date as the activity log keeps it."""
        if value is None:
            return ""
        if isinstance(value, str):
            value = Date.fromisoformat(value)
        if isinstance(value, DateTime):
            value = self._local(value).date()
        return date_text(value, self.locale_name)

    def month_day(self, value: Date) -> str:
        """A short day of the year for chart axes: "Nov 2", "11月2日"."""
        return format_skeleton("MMMd", value, locale=self.locale)

    def datetime(self, value: DateTime | None) -> str:
        """A timestamp in the reader's zone, in the one format of the locale: the medium
        date and the short time ("Dec 3, 2026, 3:43 PM", "2026年12月3日 15:43")."""
        if value is None:
            return ""
        local = self._local(value).replace(second=0, microsecond=0, tzinfo=None)
        return minute_text(local, self.locale_name)

    def timestamp(self, value: DateTime, *, date_only: bool = False) -> Markup:
        """``<time>`` for a timestamp: shown as :meth:`datetime` (or :meth:`date`), with the
        UTC instant for machines and, on hover, the time with its offset and zone
        ("Mar 2, 2026, 4:30 AM UTC+08:00 · Asia/Shanghai"). A list shows one per row, so
        this stays within the cheap formats."""
        local = self._local(value)
        moment = self.datetime(local)
        title = f"{moment} {offset_label(local.utcoffset())} · {self.zone.key}"
        shown = self.date(local) if date_only else moment
        return _TIME % (local.astimezone(UTC).isoformat(timespec="seconds"), title, shown)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def markdown(self, source: str, project: Any = None,
                 checklist: str | None = None) -> Markup:
        """``source`` as safe HTML; with ``project`` (its slug), the active people it
        ``@mentions`` link to their tasks there. Names not looked up yet by
        :meth:`look_up_mentions` are looked up now (one statement, none when none).
        ``checklist``: its checklist items as checkboxes, ``editable`` or ``disabled``."""
        if project is None:
            return render_markdown(source, checklist=checklist)
        self.look_up_mentions([source])
        slug = project.slug
        root = self.request.root
        return render_markdown(source, Mentions(self._people, lambda name: (
            self.request.resource_url(root, "projects", slug, "",
                                      query={"assignee": name, "state": "all"}))),
            checklist=checklist)

    def look_up_mentions(self, sources: Iterable[str | None]) -> str:
        """Look up at once the people every one of ``sources`` mentions (a page's texts),
        so rendering them costs one statement in all; returns "" for use in templates."""
        names = mentioned_names(s for s in sources if s) - self._looked_up
        if names:
            self._people.update(active_people(self.request.dbsession, names))
            self._looked_up |= names
        return ""

    @cached_property
    def unread_count(self) -> int:
        """Unread inbox entries of the signed-in user (the bell; one statement)."""
        identity = identity_of(self.request)
        if identity is None:
            return 0
        return inbox.unread_count(self.request.dbsession, identity.viewer)

    @property
    def unread_cap(self) -> int:
        return inbox.COUNT_CAP

    def live_attrs(self) -> Markup:
        """The ``<body>`` attributes telling ``live.js`` where this page hears of changes:
        the project the page shows (its context, or the nearest one above it) and the task,
        else the signed-in person's bell alone; nothing for anonymous visitors. The event
        stream is offered where the ASGI app serves it (Hypercorn), the poll everywhere
        (Waitress, or a stream refused)."""
        request = self.request
        if identity_of(request) is None:
            return Markup("")
        project: ProjectResource | None = None
        task: TaskResource | None = None
        node = request.context
        while node is not None and project is None:
            if isinstance(node, TaskResource) and task is None:
                task = node
            elif isinstance(node, ProjectResource):
                project = node
            node = getattr(node, "__parent__", None)
        root = request.root
        attrs: dict[str, Any] = {
            "data-live-bell": request.resource_url(root, "me", "notifications", "bell"),
            "data-live-seconds": settings_of(request.registry).live_poll_seconds,
        }
        if project is not None:
            attrs["data-live-poll"] = request.resource_url(project, "changes")
            stream = f"{STREAM_PREFIX}projects/{project.row.slug}"
        else:
            attrs["data-live-poll"] = request.resource_url(root, "me", "notifications",
                                                           "changes")
            stream = f"{STREAM_PREFIX}me"
        if request.environ.get(STREAMS_ENVIRON_KEY):
            attrs["data-live-stream"] = request.application_url + stream
        if task is not None:
            attrs["data-live-task"] = task.row.id
            attrs["data-live-notice"] = self.translate(_(
                "Someone else changed this task after you opened the form. Saving shows "
                "their changes beside yours; reload the page to start from the current "
                "version."))
            attrs["data-live-reload"] = self.translate(_("Reload"))
        return Markup("").join(Markup(' {}="{}"').format(name, value)
                               for name, value in attrs.items())

    @cached_property
    def page_project(self) -> ProjectResource | None:
        """The project the page shows: its context, or the nearest one above it (the header
        search reads ``#12`` as this project's task, ``c`` creates a task in it)."""
        node = self.request.context
        while node is not None and not isinstance(node, ProjectResource):
            node = getattr(node, "__parent__", None)
        return node

    def can(self, permission: Permission, context: Any = None) -> bool:
        """Whether the caller holds ``permission`` (templates name it ``P.<NAME>``; a plain
        string, which a typo would turn into a silent deny, is refused)."""
        if not isinstance(permission, Permission):
            raise TypeError(f"h.can needs a Permission (P.<NAME>), not {permission!r}")
        return bool(self.request.has_permission(permission, context))

    def overdue(self, task: Any) -> bool:
        """Whether ``task`` (a row or a ``Task``) is overdue on the user's current date."""
        workflow = settings_of(self.request.registry).workflow
        return is_overdue(workflow, task.status, task.due_date, self.request.today)

    @cached_property
    def api_docs_url(self) -> str | None:
        """The API reference page, when the API is switched on (None otherwise)."""
        return page_url(self.request, Page.API_REFERENCE)


def add_template_helpers(event: Any) -> None:
    request = event.get("request")
    if request is not None and "h" not in event:
        event["h"] = Helpers(request)
        event["P"] = Permission
