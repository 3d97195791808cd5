"""Reading tasks: the one task-list query behind the web UI, the JSON API and CSV export.

Filters and sort come from request parameters (``parse_task_query``, by the declaration
:data:`taskdesk.domain.schemas.TASK_QUERY`); ``list_tasks`` pages
with a keyset cursor, so page 20,000 costs what page 1 costs, and issues exactly one
statement whatever the page holds: plain columns, no ORM entities (loading entities dominates
a list request), each task's labels aggregated in a correlated subquery.
Cross-project lists keep only the projects the viewer may see, in SQL.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from taskdesk.domain.access import Viewer, visible_to_member
from taskdesk.domain.cursor import decode_cursor, encode_cursor, invalid_cursor, is_whole_number
from taskdesk.domain.links import blocked_by_open_task, blocker_scope, blocker_visibility
from taskdesk.domain.schemas import TASK_QUERY
from taskdesk.domain.search import matching_task_ids, search_expression
from taskdesk.models import Project, Task, TaskLabel, User, read_rows
from taskdesk.models.meta import UTCDateTime, json_array_agg
from taskdesk.settings import Workflow

DEFAULT_SORT = "-number"
CROSS_PROJECT_SORT = "-updated"
#: The statuses of each ``state``, by category.
_STATE_CATEGORIES = {"open": ("open", "active"), "closed": ("done", "cancelled")}


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
    #: True: only tasks blocked by an open task the viewer may see; False: only the others.
    blocked: bool | None = None
    #: Only the sub-tasks of the task of this number (in each task's project).
    parent: int | None = None
    #: ``hide``: no sub-tasks; ``only``: only sub-tasks; None: every task.
    subtasks: str | None = None
    #: None: by number in a project, by last update across projects.
    sort: str | None = None
    #: The workflow's priorities, lowest first, for sorting by priority.
    priority_order: tuple[str, ...] = ()

    def as_params(self) -> dict[str, str]:
        """The query as URL parameters again (for next-page links and bookmarks)."""
        return TASK_QUERY.as_params(self)


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
    #: The number and title of the task this one is a sub-task of (None: top level).
    parent: int | None
    parent_title: str | None
    #: Checklist items ticked and in all (``domain.checklists``).
    checklist_done: int
    checklist_total: int
    #: Blocked by a task that is not done and that the viewer may see (``domain.links``).
    blocked: bool = False
    labels: tuple[str, ...] = ()


def task_row(task: Task, project: Any, *, blocked: bool = False) -> TaskRow:
    """The list row of one loaded task (assignee, reporter, parent and labels loaded) in
    ``project`` (anything with ``id``, ``slug`` and ``name``): a single task shown as the
    lists show it; ``blocked`` from ``domain.links.is_blocked`` where the reader shows it."""
    assignee: User | None = task.assignee
    reporter: User | None = task.reporter
    parent: Task | None = task.parent if task.parent_id is not None else None
    return TaskRow(
        id=task.id, project_id=project.id, project_slug=project.slug,
        project_name=project.name, number=task.number, title=task.title,
        description=task.description, status=task.status, priority=task.priority,
        assignee=assignee.username if assignee else None,
        assignee_name=assignee.display_name if assignee else None,
        reporter=reporter.username if reporter else None, due_date=task.due_date,
        created_at=task.created_at, updated_at=task.updated_at,
        completed_at=task.completed_at, version=task.version,
        parent=parent.number if parent else None, parent_title=parent.title if parent else None,
        checklist_done=task.checklist_done, checklist_total=task.checklist_total,
        blocked=blocked, labels=tuple(task.labels),
    )


@dataclass(frozen=True)
class TaskPage:
    items: list[TaskRow]
    next_cursor: str | None


def parse_task_query(
    params: Mapping[str, Any],
    workflow: Workflow,
    *,
    strict: bool = False,
    ignore: Collection[str] = (),
) -> TaskQuery:
    """Validate list parameters (:data:`~taskdesk.domain.schemas.TASK_QUERY`); ``strict``
    (the API) refuses keys it does not know. Every bad parameter is reported, in one
    ValidationError.

    ``state`` is shorthand for statuses by category: ``open`` (open and active statuses) or
    ``closed`` (done and cancelled ones).
    """
    values = TASK_QUERY.read(params, workflow, strict=strict, ignore=ignore)
    state = values.pop("state", None)
    if state is not None:
        statuses = values.get("statuses")
        by_state = [n for s in state for n in workflow.names_in(*_STATE_CATEGORIES[s])]
        # No status left: a name no status can have (statuses are lower-case words), and
        # one PostgreSQL accepts in a text parameter (NUL bytes are refused there).
        values["statuses"] = tuple(
            n for n in by_state if statuses is None or n in statuses) or ("-none-",)
    return TaskQuery(**values, priority_order=workflow.priorities)


_assignee = aliased(User, name="assignee")
_reporter = aliased(User, name="reporter")
_parent = aliased(Task, name="parent")
#: The row's leading columns (``blocked`` is added by ``filtered_tasks``), labels last.
_ROW_WIDTH = len(TaskRow._fields)
_COLUMNS = (
    Task.id, Task.project_id, Project.slug.label("project_slug"),
    Project.name.label("project_name"), Task.number, Task.title, Task.description,
    Task.status, Task.priority, _assignee.username.label("assignee"),
    _assignee.display_name.label("assignee_name"), _reporter.username.label("reporter"),
    Task.due_date, Task.created_at, Task.updated_at, Task.completed_at, Task.version,
    _parent.number.label("parent"), _parent.title.label("parent_title"),
    Task.checklist_done, Task.checklist_total,
)
_BASE: Select[Any] = cast("Select[Any]", (
    select(*_COLUMNS)
    .join(Project, Project.id == Task.project_id)
    .outerjoin(_assignee, _assignee.id == Task.assignee_id)
    .outerjoin(_reporter, _reporter.id == Task.reporter_id)
    .outerjoin(_parent, _parent.id == Task.parent_id)
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
    column = {"number": Task.number, "updated": Task.updated_at, "created": Task.created_at,
              "rank": Task.rank}
    return [_Segment(true(), column[name])]


def _encode_cursor(sort: str, segment: int, key: Any, task_id: int) -> str:
    if isinstance(key, datetime):
        key = key.astimezone(UTC).isoformat()
    elif isinstance(key, date):
        key = key.isoformat()
    return encode_cursor(sort, segment, key, task_id)


def _decode_cursor(cursor: str, sort: str, segments: list[_Segment]) -> tuple[int, Any, int]:
    values = decode_cursor(cursor)
    try:
        cursor_sort, segment, key, task_id = values
        if cursor_sort != sort:
            raise ValueError("cursor of another list")
        if not is_whole_number(segment) or not is_whole_number(task_id):
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
        elif not is_whole_number(key):
            raise ValueError("bad key")
    except (ValueError, TypeError):
        raise invalid_cursor() from None
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


class ListShape(NamedTuple):
    """What a list's WHERE clause tests, without the values: lists of one shape share one
    statement object, built once (see ``_statement``), since building a SELECT and its cache
    key costs more than running it on a small page.

    ``scope``: ``project``, ``everything`` (a site admin), ``nothing`` (signed out) or
    ``visible`` (the viewer's projects). A person filter is ``none``, ``id`` (``me``) or
    ``username``; a list filter holds its number of values, one parameter each (an
    "expanding" IN list would make SQLAlchemy re-render the SQL on every execution).
    """

    scope: str
    assignee: str | None = None
    reporter: str | None = None
    statuses: int = 0
    priorities: int = 0
    labels: int = 0
    due_before: bool = False
    due_after: bool = False
    updated_since: bool = False
    search: bool = False
    #: The ``blocked`` filter: None (none), True or False.
    blocked: bool | None = None
    #: Which blockers count for the "blocked" column (``domain.links.blocker_scope``).
    blockers: str = "visible"
    parent: bool = False
    subtasks: str | None = None


def _person_kind(value: str | None) -> str | None:
    if value is None:
        return None
    return value if value in ("none", "me") else "username"


def list_shape(
    viewer: Viewer, query: TaskQuery, dialect: str, project_id: int | None
) -> tuple[ListShape, dict[str, Any]]:
    """The shape of a list's WHERE clause and the values of its parameters."""
    params: dict[str, Any] = {}
    if project_id is not None:
        scope = "project"
        params["project_id"] = project_id
    elif viewer.is_site_admin:
        scope = "everything"
    elif viewer.user_id is None:
        scope = "nothing"
    else:
        scope = "visible"
        params["viewer_id"] = viewer.user_id
    people = {}
    for name, value in (("assignee", query.assignee), ("reporter", query.reporter)):
        kind = _person_kind(value)
        if kind == "me":
            kind = "id"
            params[name] = viewer.user_id or -1
        elif kind == "username":
            params[name] = value
        people[name] = kind
    for name, values in (("statuses", query.statuses), ("priorities", query.priorities),
                         ("labels", query.labels)):
        params.update({f"{name}_{index}": value for index, value in enumerate(values)})
    bounds: tuple[tuple[str, date | None], ...] = (
        ("due_before", query.due_before), ("due_after", query.due_after),
        ("updated_since", query.updated_since),
    )
    for name, bound in bounds:
        if bound is not None:
            params[name] = bound
    search = None
    if query.parent is not None:
        params["parent"] = query.parent
    if query.text:
        search = search_expression(dialect, query.text)
        if search is not None:
            params["search"] = search
    blockers = blocker_scope(viewer)
    if blockers == "visible":
        params["viewer_id"] = viewer.user_id
    shape = ListShape(
        scope, people["assignee"], people["reporter"], len(query.statuses),
        len(query.priorities), len(query.labels), query.due_before is not None,
        query.due_after is not None, query.updated_since is not None, search is not None,
        query.blocked, blockers, query.parent is not None, query.subtasks,
    )
    return shape, params


def _person_filter(column: Any, kind: str, name: str) -> ColumnElement[bool]:
    if kind == "none":
        return column.is_(None)  # type: ignore[no-any-return]
    value = bindparam(name, type_=Integer) if kind == "id" else (
        select(User.id).where(User.username == bindparam(name, type_=String))
        .scalar_subquery()
    )
    return column == value  # type: ignore[no-any-return]


def _one_of(column: Any, name: str, count: int) -> ColumnElement[bool]:
    """``column IN (:name_0, :name_1, ...)``, the parameters ``list_shape`` makes."""
    return column.in_([bindparam(f"{name}_{index}") for index in range(count)])  # type: ignore[no-any-return]


def filtered_tasks(shape: ListShape, dialect: str) -> Select[Any]:
    """The filtered SELECT of task rows for a shape, without order or limit; its last
    column says whether each task is blocked (the same EXISTS as the ``blocked`` filter)."""
    blocked = blocked_by_open_task(Task.id, Task.project_id, blocker_visibility(shape.blockers))
    statement = _BASE.add_columns(blocked.label("blocked"))
    if shape.blocked is not None:
        statement = statement.where(blocked if shape.blocked else ~blocked)
    if shape.scope == "project":
        statement = statement.where(Task.project_id == bindparam("project_id", type_=Integer))
    elif shape.scope == "nothing":
        statement = statement.where(Project.id.is_(None))
    elif shape.scope == "visible":
        statement = statement.where(visible_to_member(bindparam("viewer_id", type_=Integer)))
    if shape.assignee is not None:
        statement = statement.where(_person_filter(Task.assignee_id, shape.assignee, "assignee"))
    if shape.reporter is not None:
        statement = statement.where(_person_filter(Task.reporter_id, shape.reporter, "reporter"))
    if shape.statuses:
        statement = statement.where(_one_of(Task.status, "statuses", shape.statuses))
    if shape.priorities:
        statement = statement.where(_one_of(Task.priority, "priorities", shape.priorities))
    if shape.labels:
        statement = statement.where(Task.id.in_(
            select(TaskLabel.task_id).where(_one_of(TaskLabel.name, "labels", shape.labels))))
    if shape.due_before:
        statement = statement.where(Task.due_date < bindparam("due_before", type_=Date))
    if shape.due_after:
        statement = statement.where(Task.due_date > bindparam("due_after", type_=Date))
    if shape.updated_since:
        statement = statement.where(
            Task.updated_at >= bindparam("updated_since", type_=UTCDateTime))
    if shape.search:
        statement = statement.where(Task.id.in_(matching_task_ids(dialect)))
    if shape.parent:
        # The parent's number in the task's own project (ix_tasks_parent_number).
        parent = aliased(Task, name="wanted_parent")
        statement = statement.where(Task.parent_id == (
            select(parent.id).where(parent.project_id == Task.project_id,
                                    parent.number == bindparam("parent", type_=Integer))
            .scalar_subquery()))
    if shape.subtasks == "hide":
        statement = statement.where(Task.parent_id.is_(None))
    elif shape.subtasks == "only":
        statement = statement.where(Task.parent_id.is_not(None))
    return statement


@lru_cache(maxsize=512)
def _statement(
    shape: ListShape, dialect: str, sort: str, priority_order: tuple[str, ...],
    first: int, after: bool,
) -> Select[Any]:
    """The whole page statement of a shape, sort and cursor position, built once."""
    filtered = filtered_tasks(shape, dialect)
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


@lru_cache(maxsize=16)
def _one_task(shape: ListShape, dialect: str) -> Select[Any]:
    """The statement of :func:`read_task` for a shape (its viewer's blocker scope)."""
    return (
        filtered_tasks(shape, dialect)
        .add_columns(_labels_of(Task.id, dialect))
        .where(Task.number == bindparam("number", type_=Integer))
    )


def read_task(dbsession: Session, viewer: Viewer, project_id: int, number: int
              ) -> TaskRow | None:
    """The task of ``number`` in a project as the lists show it to ``viewer`` (people,
    parent, labels and the ``blocked`` flag), or None: one statement, plain columns."""
    dialect = dbsession.get_bind().dialect.name
    shape, params = list_shape(viewer, TaskQuery(), dialect, project_id)
    params["number"] = number
    row = read_rows(dbsession, _one_task(shape, dialect), params).first()
    return None if row is None else TaskRow._make(row)


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
    shape, params = list_shape(viewer, query, dialect, project_id)
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


#: "My work": the open tasks assigned to the viewer in every project they may see.
MY_WORK = {"assignee": "me", "state": "open", "sort": "due"}


def my_work(dbsession: Session, viewer: Viewer, workflow: Workflow, *, limit: int) -> TaskPage:
    """The viewer's open tasks across projects, by due date (undated last), then by
    priority, highest first: the list's due-date order with the priority deciding among the
    tasks due the same day (on the page read; past ``limit`` a tie may continue on the next)."""
    page = list_tasks(dbsession, viewer, parse_task_query(MY_WORK, workflow), limit=limit)
    rank = {name: index for index, name in enumerate(workflow.priorities)}
    items = sorted(page.items, key=lambda row: (
        row.due_date is None, row.due_date or date.min, -rank.get(row.priority, -1)))
    return TaskPage(items, page.next_cursor)
