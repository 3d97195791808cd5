"""Downloads the feature packages offer: the filtered task list as CSV.

The web UI (a link for people) and the API (``Accept: text/csv`` and ``tasks.csv``) answer
with :func:`task_csv_response` over the domain's one writer; each says what a row's ``url``
column holds (:func:`task_page_urls`: the task's web page, when the web UI is switched on).
"""

from __future__ import annotations

from urllib.parse import quote

from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer
from taskdesk.domain.export import TaskUrl, task_csv
from taskdesk.domain.task_list import TaskQuery, TaskRow


def task_page_urls(request: Request) -> TaskUrl:
    """Each task's web page (its resource URL at the site root), by string joining: the
    rows are written after the request has ended, and there may be many."""
    base = request.resource_url(request.root, "projects")

    def url(row: TaskRow) -> str:
        return f"{base}/{quote(row.project_slug)}/tasks/{row.number}"

    return url


def task_csv_response(
    request: Request, viewer: Viewer, query: TaskQuery, *, project_id: int | None,
    filename: str, task_url: TaskUrl,
) -> Response:
    """The filtered list as a streamed CSV attachment (raises ValidationError for a bad
    filter before anything is sent)."""
    registry = request.registry

    def open_session() -> Session:
        session: Session = registry["dbbinds"].session(registry["dbsession_factory"],
                                                       read_only=True)
        return session

    chunks = task_csv(request.dbsession, viewer, query, project_id=project_id,
                      task_url=task_url, open_session=open_session)
    response = Response(app_iter=chunks, content_type="text/csv", charset="utf-8")
    response.content_disposition = f'attachment; filename="{filename}"'
    response.cache_control = "private, no-store"
    return response
