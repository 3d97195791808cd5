"""Downloads the feature packages offer: the filtered task list as CSV.

The web UI (a link for people) and the API (``Accept: text/csv`` and ``tasks.csv``) answer
with :func:`task_csv_response` over the domain's one writer; each says what a row's ``url``
column holds: the task's web page when a feature serving it announced so
(:func:`serve_task_pages`), else what the caller offers (:func:`csv_task_urls`).
"""

from __future__ import annotations

from urllib.parse import quote

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer
from taskdesk.domain.export import TaskUrl, task_csv
from taskdesk.domain.task_list import TaskQuery, TaskRow
from taskdesk.models import database_binds, session_factory

#: Registry key of this module: whether a feature serves each task's web page.
_TASK_PAGES_KEY = "taskdesk.downloads.task_pages"


def serve_task_pages(config: Configurator) -> None:
    """Announce that this site serves each task's page at its resource URL (the web UI's
    ``includeme`` does), so CSV rows link to it whichever feature wrote them."""
    config.registry[_TASK_PAGES_KEY] = True


def csv_task_urls(request: Request, otherwise: TaskUrl) -> TaskUrl:
    """A CSV row's ``url``: the task's web page for people opening it from a spreadsheet,
    or ``otherwise`` on a deployment without one."""
    if request.registry.get(_TASK_PAGES_KEY, False):
        return task_page_urls(request)
    return otherwise


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
        return database_binds(registry).session(session_factory(registry), read_only=True)

    chunks = task_csv(request.dbsession, viewer, query, project_id=project_id,
                      task_url=task_url, open_session=open_session)
    response = Response(app_iter=chunks, content_type="text/csv", charset="utf-8")
    response.content_disposition = f'attachment; filename="{filename}"'
    response.cache_control = "private, no-store"
    return response
