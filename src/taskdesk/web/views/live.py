"""Live updates a page polls for, and the bell it re-fetches (see ``taskdesk.domain.live``).

``GET /projects/<slug>/changes?after=<id>``: the project's changes after the event ``id``
and the caller's unread count, as JSON; ``GET /me/notifications/changes``: the unread count
alone. Each answer carries an ETag: a poll that finds nothing new gets a 304 without a
body. Under Waitress the pages poll these every ``taskdesk.live.poll_seconds``; under
Hypercorn the event stream (``taskdesk.live``) calls them too, when it opens and at every
re-check, so the session and the permission are checked by this one view, the same way.

``GET /me/notifications/bell``: the header's bell alone, which a page swaps in when its
unread count changed.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotModified
from pyramid.request import Request

from taskdesk.domain.inbox import unread_count
from taskdesk.domain.live import changes_since
from taskdesk.messages import _
from taskdesk.resources import Inbox, ProjectResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.web.declare import web_view

#: ``Cache-Control`` of a poll's answer: the browser keeps it, but asks again every time.
REVALIDATE = "private, no-cache"


def _after(request: Request) -> int | None:
    raw = request.GET.get("after", "")
    if raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 15:
        raise HTTPBadRequest(_("after must be an event id (a whole number)."))
    return int(raw)


def _answer(request: Request, tag: str, body: dict[str, Any]) -> Any:
    """``body`` as JSON with the ETag ``tag``; 304 when the client holds that tag already."""
    etag = f'"{tag}"'
    held = [part.strip() for part in request.headers.get("If-None-Match", "").split(",")]
    if etag in held or f"W/{etag}" in held:
        return HTTPNotModified(headers={"ETag": etag, "Cache-Control": REVALIDATE})
    request.response.headers["ETag"] = etag
    request.response.headers["Cache-Control"] = REVALIDATE
    return body


@web_view(context=ProjectResource, name="changes", renderer="json",
          permission=Permission.VIEW, request_method="GET")
def project_changes(context: ProjectResource, request: Request) -> Any:
    """The project's changes after ``after`` (none, and the id to start from, without it)."""
    identity = signed_in(request)
    after = _after(request)
    found = changes_since(request.dbsession, context.row.id, after)
    unread = unread_count(request.dbsession, identity.viewer)
    body = {"user": identity.user_id, "project": context.row.id, "last": found.last,
            "reset": found.reset, "unread": unread,
            "changes": [change.payload() for change in found.changes]}
    return _answer(request, f"live-{after}-{found.last}-{int(found.reset)}-{unread}", body)


@web_view(context=Inbox, name="changes", renderer="json", permission=Permission.SIGNED_IN,
          request_method="GET")
def inbox_changes(context: Inbox, request: Request) -> Any:
    """The caller's unread count (pages showing no project listen for the bell alone)."""
    identity = signed_in(request)
    unread = unread_count(request.dbsession, identity.viewer)
    body: dict[str, Any] = {"user": identity.user_id, "project": None, "last": 0,
                            "reset": False, "unread": unread, "changes": []}
    return _answer(request, f"inbox-{unread}", body)


@web_view(context=Inbox, name="bell", renderer="_bell.jinja2",
          permission=Permission.SIGNED_IN, request_method="GET")
def inbox_bell(context: Inbox, request: Request) -> dict[str, Any]:
    signed_in(request)
    return {}
