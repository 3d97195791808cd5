"""Reading tasks: the one task-list query behind the web UI, the JSON API and CSV export.

Filters and sort come from request parameters (``parse_task_query``); ``list_tasks`` pages
with a keyset cursor, so page 20,000 costs what page 1 costs, and issues exactly one
statement whatever the page holds: plain columns, no ORM entities (loading entities dominates
a list request), each task's labels aggregated in a correlated subquery.
Cross-project lists keep only the projects the viewer may see, in SQL.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from taskdesk.domain.access import Viewer, visible_to_member
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.schema import _
from taskdesk.domain.search import matching_task_ids, search_expression
from taskdesk.models import Project, Task, TaskLabel, User, read_rows
from taskdesk.models.meta import UTCDateTime, json_array_agg
from taskdesk.settings import Workflow
from taskdesk.timezones import local_midnight

FILTER_KEYS = (
    "status", "state", "assignee", "reporter", "priority", "label",
    "due_before", "due_after", "updated_since", "q", "sort",
)
SORT_FIELDS = ("number", "updated", "created", "due", "priority")
#: Each field ascending, then descending (``-``).
SORT_VALUES = tuple(f"{sign}{name}" for name in SORT_FIELDS for sign in ("", "-"))
DEFAULT_SORT = "-number"
CROSS_PROJECT_SORT = "-updated"
_MAX_LIST = 50


@dataclass(frozen=True)
class TaskQuery:
    """Validated filters and sort of a task list (all optional)."""

    statuses: tuple[str, ...] = ()
    assignee: str | None = None
    reporter: str | None = None
    priorities: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    due_before: date | None = None
    due_after: date | None = None
    updated_since: datetime | None = None
    text: str = ""
    #: None: by number in a project, by last update across projects.
    sort: str | None = None
    #: The workflow's priorities, lowest first, for sorting by priority.
    priority_order: tuple[str, ...] = ()

    def as_params(self) -> dict[str, str]:
        """The query as URL parameters again (for next-page links and bookmarks)."""
        params: dict[str, str] = {}
        if self.statuses:
            params["status"] = ",".join(self.statuses)
        for key, value in (("assignee", self.assignee), ("reporter", self.reporter)):
            if value is not None:
                params[key] = value
        if self.priorities:
            params["priority"] = ",".join(self.priorities)
        if self.labels:
            params["label"] = ",".join(self.labels)
        for key, day in (("due_before", self.due_before), ("due_after", self.due_after)):
            if day is not None:
                params[key] = day.isoformat()
        if self.updated_since is not None:
            params["updated_since"] = self.updated_since.isoformat()
        if self.text:
            params["q"] = self.text
        if self.sort is not None:
            params["sort"] = self.sort
        return params


class TaskRow(NamedTuple):
    """One task of a list: plain values, built positionally from the query's row."""

    id: int
    project_id: int
    project_slug: str
    project_name: str
    number: int
    title: str
    description: str
    status: str
    priority: str
    assignee: str | None
    assignee_name: str | None
    reporter: str | None
    due_date: date | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    version: int
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskPage:
    items: list[TaskRow]
    next_cursor: str | None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\uff0c", ",").split(",") if part.strip()]


def _choices(key: str, value: str, allowed: Collection[str]) -> tuple[str, ...]:
    chosen = _split(value)
    wrong = [item for item in chosen if item not in allowed]
    if wrong or len(chosen) > _MAX_LIST:
        raise ValidationError({key: _("Unknown value: ${value}. Allowed: ${allowed}.", mapping={
            "value": ", ".join(wrong) or value, "allowed": ", ".join(allowed)})})
    return tuple(dict.fromkeys(chosen))


def _person(key: str, value: str) -> str:
    value = value.strip().lower()
    if not value or len(value) > 64:
        raise ValidationError({key: _("Use me, none or a username.")})
    return value


def _day(key: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError({key: _("Must be a date like 2026-12-31.")}) from None


def _moment(key: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError({key: _("Must be a date and time like 2026-12-31T08:00:00Z.")})
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sort(key: str, value: str) -> str:
    value = value.strip()
    if value not in SORT_VALUES:
        raise ValidationError({key: _("Unknown value: ${value}. Allowed: ${allowed}.", mapping={
            "value": value, "allowed": ", ".join(SORT_VALUES)})})
    return value


def parse_task_query(
    params: Mapping[str, Any],
    workflow: Workflow,
    *,
    strict: bool = False,
    ignore: Collection[str] = (),
) -> TaskQuery:
    """Validate list parameters; ``strict`` (the API) refuses keys it does not know. Every
    bad parameter is reported, in one ValidationError.

    ``state`` is shorthand for statuses by category: ``open`` (open and active statuses) or
    ``closed`` (done and cancelled ones).
    """
    errors: dict[str, Any] = {}
    if strict:
        errors.update({k: _("Unknown parameter.") for k in params
                       if k not in FILTER_KEYS and k not in ignore})

    def read(key: str, parse: Callable[[str, str], Any]) -> Any:
        """The parsed value of ``key``; None when absent, blank or bad (noted in errors)."""
        value = params.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            errors[key] = _("Give this parameter once.")
            return None
        if not value.strip():
            return None
        try:
            return parse(key, value)
        except ValidationError as error:
            errors.update(error.fields)
            return None

    values: dict[str, Any] = {}
    statuses = read("status", lambda k, v: _choices(k, v, workflow.status_names))
    if statuses is not None:
        values["statuses"] = statuses
    state = read("state", lambda k, v: _choices(k, v, ("open", "closed")))
    if state is not None:
        categories = {"open": ("open", "active"), "closed": ("done", "cancelled")}
        by_state = [n for s in state for n in workflow.names_in(*categories[s])]
        # No status left: a name no status can have (statuses are lower-case words), and
        # one PostgreSQL accepts in a text parameter (NUL bytes are refused there).
        values["statuses"] = tuple(
            n for n in by_state if statuses is None or n in statuses) or ("-none-",)
    parsers: tuple[tuple[str, str, Callable[[str, str], Any]], ...] = (
        ("assignee", "assignee", _person),
        ("reporter", "reporter", _person),
        ("priority", "priorities", lambda k, v: _choices(k, v, workflow.priorities)),
        ("label", "labels",
         lambda k, v: tuple(label.lower() for label in _split(v))[:_MAX_LIST]),
        ("due_before", "due_before", _day),
        ("due_after", "due_after", _day),
        ("updated_since", "updated_since", _moment),
        ("q", "text", lambda k, v: v.strip()[:200]),
        ("sort", "sort", _sort),
    )
    for key, attribute, parse in parsers:
        value = read(key, parse)
        if value is not None:
            values[attribute] = value
    if errors:
        raise ValidationError(errors)
    return TaskQuery(**values, priority_order=workflow.priorities)


_assignee = aliased(User, name="assignee")
_reporter = aliased(User, name="reporter")
_ROW_WIDTH = len(TaskRow._fields)  # the row's leading columns, labels last
_COLUMNS = (
    Task.id, Task.project_id, Project.slug.label("project_slug"),
    Project.name.label("project_name"), Task.number, Task.title, Task.description,
    Task.status, Task.priority, _assignee.username.label("assignee"),
    _assignee.display_name.label("assignee_name"), _reporter.username.label("reporter"),
    Task.due_date, Task.created_at, Task.updated_at, Task.completed_at, Task.version,
)
_BASE: Select[Any] = cast("Select[Any]", (
    select(*_COLUMNS)
    .join(Project, Project.id == Task.project_id)
    .outerjoin(_assignee, _assignee.id == Task.assignee_id)
    .outerjoin(_reporter, _reporter.id == Task.reporter_id)
))


def _labels_of(task_id: Any, dialect: str) -> ColumnElement[tuple[str, ...]]:
    """The label names of the task ``task_id`` (a column of the enclosing query), sorted."""
    return (
        select(json_array_agg(dialect, TaskLabel.name, sort=True))
        .where(TaskLabel.task_id == task_id)
        .scalar_subquery()
        .label("labels")
    )


@dataclass(frozen=True)
class _Segment:
    """A run of the list that one index range scan returns in order.

    Sorting by priority reads one segment per priority (index on project, priority,
    number) and by due date one for dated tasks and one for undated ones (which come last
    either way). Each segment is ordered by ``column`` then id, or by id alone when the
    column is the same in the whole segment (``ordered`` false: the undated tasks).
    """

    condition: ColumnElement[bool]
    column: Any
    ordered: bool = True


def _segments(sort: str, priority_order: tuple[str, ...]) -> list[_Segment]:
    name, descending = sort.lstrip("-"), sort.startswith("-")
    if name == "due":
        return [_Segment(Task.due_date.is_not(None), Task.due_date),
                _Segment(Task.due_date.is_(None), Task.due_date, ordered=False)]
    if name == "priority":
        ordered = list(reversed(priority_order)) if descending else list(priority_order)
        return [_Segment(Task.priority == p, Task.number) for p in ordered]
    column = {"number": Task.number, "updated": Task.updated_at, "created": Task.created_at}
    return [_Segment(true(), column[name])]


def _encode_cursor(sort: str, segment: int, key: Any, task_id: int) -> str:
    if isinstance(key, datetime):
        key = key.astimezone(UTC).isoformat()
    elif isinstance(key, date):
        key = key.isoformat()
    raw = orjson.dumps([sort, segment, key, task_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, segments: list[_Segment]) -> tuple[int, Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, segment, key, task_id = orjson.loads(raw)
        if cursor_sort != sort:
            raise ValueError("cursor of another list")
        for number in (segment, task_id):
            if not isinstance(number, int) or isinstance(number, bool):
                raise ValueError("not a number")
        if not 0 <= segment < len(segments):
            raise ValueError("no such segment")
        name = sort.lstrip("-")
        if not segments[segment].ordered:
            key = None
        elif name in ("updated", "created"):
            key = datetime.fromisoformat(key)
        elif name == "due":
            key = date.fromisoformat(key)
        elif not isinstance(key, int) or isinstance(key, bool):
            raise ValueError("bad key")
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationError({"cursor": _("This cursor is not valid for this list.")}) from None
    return segment, key, task_id


def _after(segment: _Segment, descending: bool) -> ColumnElement[bool]:
    """Rows after the cursor's (``key``, ``last_id``) within a segment."""
    last_id = bindparam("last_id", type_=Integer)
    tie = Task.id < last_id if descending else Task.id > last_id
    if not segment.ordered:
        return tie
    column = segment.column
    key = bindparam("key", type_=column.type)
    beyond = column < key if descending else column > key
    return or_(beyond, and_(column == key, tie))


def _filters(
    viewer: Viewer, query: TaskQuery, dialect: str, project_id: int | None
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The shape of a list's WHERE clause and the values of its parameters.

    Lists of the same shape share one statement object, built once (see ``_statement``):
    building a SELECT and its cache key costs more than running it on a small page.
    """
    shape: list[str] = []
    params: dict[str, Any] = {}
    if project_id is not None:
        shape.append("project")
        params["project_id"] = project_id
    elif viewer.is_site_admin:
        shape.append("everything")
    elif viewer.user_id is None:
        shape.append("nothing")
    else:
        shape.append("visible")
        params["viewer_id"] = viewer.user_id
    for name, value in (("assignee", query.assignee), ("reporter", query.reporter)):
        if value == "none":
            shape.append(f"{name}:none")
        elif value == "me":
            shape.append(f"{name}:id")
            params[name] = viewer.user_id or -1
        elif value is not None:
            shape.append(f"{name}:username")
            params[name] = value
    for name, values in (("statuses", query.statuses), ("priorities", query.priorities),
                         ("labels", query.labels)):
        # One parameter per value, counted in the shape: an "expanding" IN list would
        # make SQLAlchemy re-render the statement's SQL on every execution.
        if values:
            shape.append(f"{name}:{len(values)}")
            params.update({f"{name}_{index}": value for index, value in enumerate(values)})
    bounds: tuple[tuple[str, date | None], ...] = (
        ("due_before", query.due_before), ("due_after", query.due_after),
        ("updated_since", query.updated_since),
    )
    for name, bound in bounds:
        if bound is not None:
            shape.append(name)
            params[name] = bound
    if query.text:
        expression = search_expression(dialect, query.text)
        if expression is not None:
            shape.append("search")
            params["search"] = expression
    return tuple(shape), params


def _person_filter(column: Any, kind: str, name: str) -> ColumnElement[bool]:
    if kind == "none":
        return column.is_(None)  # type: ignore[no-any-return]
    value = bindparam(name, type_=Integer) if kind == "id" else (
        select(User.id).where(User.username == bindparam(name, type_=String))
        .scalar_subquery()
    )
    return column == value  # type: ignore[no-any-return]


def _one_of(column: Any, name: str, count: int) -> ColumnElement[bool]:
    """``column IN (:name_0, :name_1, ...)``, the parameters ``_filters`` makes."""
    return column.in_([bindparam(f"{name}_{index}") for index in range(count)])  # type: ignore[no-any-return]


def _filtered(shape: tuple[str, ...], dialect: str) -> Select[Any]:
    """The filtered SELECT of task rows for a shape, without order or limit."""
    statement = _BASE
    conditions: dict[str, Callable[[], ColumnElement[bool]]] = {
        "project": lambda: Task.project_id == bindparam("project_id", type_=Integer),
        "nothing": lambda: Project.id.is_(None),
        "visible": lambda: visible_to_member(bindparam("viewer_id", type_=Integer)),
        "due_before": lambda: Task.due_date < bindparam("due_before", type_=Date),
        "due_after": lambda: Task.due_date > bindparam("due_after", type_=Date),
        "updated_since": lambda: Task.updated_at >= bindparam(
            "updated_since", type_=UTCDateTime),
        "search": lambda: Task.id.in_(matching_task_ids(dialect)),
    }
    for part in shape:
        name, _, kind = part.partition(":")
        if name in ("assignee", "reporter"):
            column = Task.assignee_id if name == "assignee" else Task.reporter_id
            statement = statement.where(_person_filter(column, kind, name))
        elif name == "statuses":
            statement = statement.where(_one_of(Task.status, name, int(kind)))
        elif name == "priorities":
            statement = statement.where(_one_of(Task.priority, name, int(kind)))
        elif name == "labels":
            statement = statement.where(Task.id.in_(
                select(TaskLabel.task_id).where(_one_of(TaskLabel.name, name, int(kind)))))
        elif part != "everything":
            statement = statement.where(conditions[part]())
    return statement


@lru_cache(maxsize=512)
def _statement(
    shape: tuple[str, ...], dialect: str, sort: str, priority_order: tuple[str, ...],
    first: int, after: bool,
) -> Select[Any]:
    """The whole page statement of a shape, sort and cursor position, built once."""
    filtered = _filtered(shape, dialect)
    descending = sort.startswith("-")
    segments = _segments(sort, priority_order)
    page_end = bindparam("page_end", type_=Integer)
    branches = []
    single = len(segments) - first == 1
    for index, segment in enumerate(segments[first:], start=first):
        branch = filtered.where(segment.condition).add_columns(
            *([_labels_of(Task.id, dialect)] if single else []),
            literal(index).label("segment"), segment.column.label("sort_key"),
        )
        if after and index == first:
            branch = branch.where(_after(segment, descending))
        ordering = [segment.column, Task.id] if segment.ordered else [Task.id]
        branch = branch.order_by(*(c.desc() if descending else c.asc() for c in ordering))
        branches.append(branch.limit(page_end))
    offset = bindparam("row_offset", type_=Integer)
    limit = bindparam("row_limit", type_=Integer)
    if single:
        return branches[0].offset(offset)
    # Each branch is an index range scan with its own LIMIT; the outer query merges at most
    # len(segments) * page_end rows.
    merged = union_all(*(b.subquery().select() for b in branches)).subquery()
    keys = [merged.c.sort_key, merged.c.id]
    columns = list(merged.c)
    return (
        # Labels only for the rows of the page, not for every branch's rows.
        select(*columns[:-2], _labels_of(merged.c.id, dialect), *columns[-2:])
        .order_by(merged.c.segment, *(k.desc() if descending else k.asc() for k in keys))
        .offset(offset)
        .limit(limit)
    )


def list_tasks(
    dbsession: Session,
    viewer: Viewer,
    query: TaskQuery,
    *,
    project_id: int | None = None,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
) -> TaskPage:
    """One page of tasks and the cursor of the next page (None on the last)."""
    dialect = dbsession.get_bind().dialect.name
    shape, params = _filters(viewer, query, dialect, project_id)
    sort = query.sort or (DEFAULT_SORT if project_id is not None else CROSS_PROJECT_SORT)
    segments = _segments(sort, query.priority_order)
    first, key, last_id = _decode_cursor(cursor, sort, segments) if cursor else (0, None, 0)
    statement = _statement(shape, dialect, sort, query.priority_order, first, bool(cursor))
    params.update(key=key, last_id=last_id, page_end=offset + limit + 1,
                  row_offset=offset, row_limit=limit + 1)
    rows = read_rows(dbsession, statement, params).all()

    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode_cursor(sort, last.segment, last.sort_key, last.id)
    return TaskPage([TaskRow._make(row[:_ROW_WIDTH]) for row in rows], next_cursor)


@lru_cache(maxsize=256)
def _count_statement(shape: tuple[str, ...], dialect: str) -> Select[Any]:
    matching = _filtered(shape, dialect).with_only_columns(literal(1)).limit(
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
    shape, params = _filters(viewer, query, dialect, project_id)
    params["cap_end"] = cap + 1
    return int(read_rows(dbsession, _count_statement(shape, dialect), params).scalar_one())


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
    counts = []
    for status in statuses:
        matching = select(literal(1)).where(Task.project_id == project_id, Task.status == status)
        if cap is not None:
            matching = matching.limit(cap + 1)
        counts.append(
            select(func.count()).select_from(matching.subquery()).scalar_subquery().label(status)
        )
    row = dbsession.execute(select(*counts)).one()
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
