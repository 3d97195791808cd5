"""CSV export of a filtered task list, streamed page by page.

The body is UTF-8 with a byte-order mark, so Excel opens Chinese text correctly. The first
page is read in the view (a bad cursor or filter is still a JSON 400); the rest is read while
the server sends the response, after the request's transaction has ended, with a session of
its own that the iterator closes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.representations import Urls
from taskdesk.domain.access import Viewer
from taskdesk.domain.queries import TaskPage, TaskQuery, TaskRow, list_tasks

BOM = "\ufeff"
COLUMNS = (
    "project", "number", "title", "status", "priority", "assignee", "reporter", "due_date",
    "labels", "created_at", "updated_at", "completed_at", "url",
)
#: Leading characters that make a spreadsheet treat a cell as a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(request: Request) -> bool:
    """Whether the client asked for text/csv rather than JSON (``Accept``)."""
    if "text/csv" not in request.headers.get("Accept", "").lower():
        return False
    offers = request.accept.acceptable_offers(["application/json", "text/csv"])
    return bool(offers) and offers[0][0] == "text/csv"


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _lines(urls: Urls, rows: list[TaskRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([
            _cell(row.project_slug), row.number, _cell(row.title), row.status, row.priority,
            row.assignee or "", row.reporter or "",
            row.due_date.isoformat() if row.due_date else "", _cell(", ".join(row.labels)),
            row.created_at.isoformat(), row.updated_at.isoformat(),
            row.completed_at.isoformat() if row.completed_at else "",
            urls.task(row.project_slug, row.number),
        ])
    return buffer.getvalue().encode("utf-8")


def csv_response(
    request: Request, viewer: Viewer, query: TaskQuery, *, project_id: int | None,
    filename: str,
) -> Response:
    chunk = request.registry.taskdesk_settings.api_max_limit
    first = list_tasks(request.dbsession, viewer, query, project_id=project_id, limit=chunk)
    registry = request.registry
    urls = Urls(request)

    def body() -> Iterator[bytes]:
        header = io.StringIO()
        csv.writer(header).writerow(COLUMNS)
        yield (BOM + header.getvalue()).encode("utf-8")
        page: TaskPage = first
        session = None
        try:
            while True:
                if page.items:
                    yield _lines(urls, page.items)
                if page.next_cursor is None:
                    return
                if session is None:
                    session = registry["dbbinds"].session(registry["dbsession_factory"],
                                                          read_only=True)
                page = list_tasks(session, viewer, query, project_id=project_id, limit=chunk,
                                  cursor=page.next_cursor)
        finally:
            if session is not None:
                session.close()

    response = Response(app_iter=body(), content_type="text/csv", charset="utf-8")
    response.content_disposition = f'attachment; filename="{filename}"'
    response.cache_control = "private, no-store"
    return response
