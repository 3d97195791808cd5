"""Downloads the feature packages offer: the filtered task list as CSV, and attachments.

The web UI (a link for people) and the API (``Accept: text/csv`` and ``tasks.csv``) answer
with :func:`task_csv_response` over the domain's one writer; each says what a row's ``url``
column holds: the task's web page when a feature serving it announced so
(:func:`serve_task_pages`), else what the caller offers (:func:`csv_task_urls`).
"""

from __future__ import annotations

from urllib.parse import quote

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import FileIter, Response
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer
from taskdesk.domain.attachments import inline
from taskdesk.domain.export import TaskUrl, task_csv
from taskdesk.domain.task_list import TaskQuery, TaskRow
from taskdesk.models import Attachment, database_binds, session_factory
from taskdesk.storage import BlobStore

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


#: Every attachment answer: never sniffed, never scripted, whatever the bytes are (an HTML
#: or SVG file opened in its own tab runs in a sandbox with nothing allowed).
BLOB_CSP = "sandbox; default-src 'none'"
#: Types that are markup a browser would run: sent as plain bytes.
_ACTIVE = ("text/html", "image/svg+xml", "application/xml", "text/xml")


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback ``filename`` and the real name as ``filename*`` in UTF-8
    (so 需求说明.docx downloads under its name)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_"
                       for c in filename)
    return (f'{disposition}; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}")


def attachment_response(request: Request, store: BlobStore, attachment: Attachment, *,
                        thumbnail: bool = False) -> Response:
    """The attachment's bytes (or its thumbnail's): raster images ``inline`` with their
    sniffed type, everything else as an ``attachment`` download; an ETag from the content
    hash, so a browser revalidates cheaply (304) and Range requests work."""
    address = attachment.thumbnail_sha256 if thumbnail else attachment.sha256
    shown = inline(attachment)
    media_type = "image/png" if thumbnail else attachment.media_type
    if media_type in _ACTIVE:
        media_type = "application/octet-stream"
    elif media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    blob = store.open(address or "")  # FileNotFoundError: a missing thumbnail or blob
    size = blob.seek(0, 2)
    blob.seek(0)
    response = Response(app_iter=FileIter(blob), conditional_response=True)
    response.content_type = media_type.split(";")[0]
    if "charset" in media_type:
        response.charset = "utf-8"
    response.content_length = size
    response.etag = address
    response.cache_control = "private, no-cache"
    response.headers["Content-Disposition"] = content_disposition(
        "inline" if shown else "attachment", attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = BLOB_CSP
    return response

