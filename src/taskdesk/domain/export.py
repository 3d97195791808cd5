"""CSV export of a filtered task list: the one writer behind every download (the web UI's
and the API's), streamed page by page.

The body is UTF-8 with a byte-order mark, so Excel opens Chinese text correctly. Timestamps
are written as ``YYYY-MM-DD HH:MM:SS`` in UTC (the column names say so) and due dates as
``YYYY-MM-DD``: the forms spreadsheets read as dates, unlike ISO 8601 with ``T`` and an
offset. Cells that a spreadsheet would run as a formula are quoted with a leading ``'``.

The first page is read when :func:`task_csv` is called, so a bad cursor or filter raises
:class:`~taskdesk.domain.errors.ValidationError` before the response starts; the rest is read
while the response is sent, after the request's transaction has ended, with a session of
its own that the iterator closes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer
from taskdesk.domain.task_list import TaskPage, TaskQuery, TaskRow, list_tasks

BOM = "\ufeff"
COLUMNS = (
    "project", "number", "title", "status", "priority", "assignee", "reporter", "due_date",
    "labels", "created_at_utc", "updated_at_utc", "completed_at_utc", "url",
    # Added after the first release: at the end, so columns read by position stay put.
    "parent", "checklist_done", "checklist_total", "blocked",
)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Rows read per statement while streaming.
CHUNK_ROWS = 200
#: Leading characters that make a spreadsheet treat a cell as a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")

#: The URL written in a row's ``url`` column.
TaskUrl = Callable[[TaskRow], str]


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def _moment(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT) if value is not None else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def csv_lines(rows: Iterable[TaskRow], task_url: TaskUrl) -> bytes:
    """``rows`` as CSV lines (UTF-8, no header)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([
            _cell(row.project_slug), row.number, _cell(row.title), row.status, row.priority,
            row.assignee or "", row.reporter or "", _day(row.due_date),
            _cell(", ".join(row.labels)), _moment(row.created_at), _moment(row.updated_at),
            _moment(row.completed_at), task_url(row),
            row.parent or "", row.checklist_done, row.checklist_total,
            "true" if row.blocked else "false",
        ])
    return buffer.getvalue().encode("utf-8")


def csv_header() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(COLUMNS)
    return (BOM + buffer.getvalue()).encode("utf-8")


def task_csv(
    dbsession: Session,
    viewer: Viewer,
    query: TaskQuery,
    *,
    project_id: int | None,
    task_url: TaskUrl,
    open_session: Callable[[], Session],
) -> Iterator[bytes]:
    """The whole filtered list as CSV chunks: the first page read now from ``dbsession``,
    the following ones (``CHUNK_ROWS`` each) from a session made by ``open_session``."""
    first = list_tasks(dbsession, viewer, query, project_id=project_id, limit=CHUNK_ROWS)

    def body() -> Iterator[bytes]:
        yield csv_header()
        page: TaskPage = first
        session = None
        try:
            while True:
                if page.items:
                    yield csv_lines(page.items, task_url)
                if page.next_cursor is None:
                    return
                if session is None:
                    session = open_session()
                page = list_tasks(session, viewer, query, project_id=project_id, limit=CHUNK_ROWS,
                                  cursor=page.next_cursor)
        finally:
            if session is not None:
                session.close()

    return body()
