"""The one-click link of every notification mail: turn e-mail off for its reasons without
signing in (RFC 8058). A GET shows what the link does and asks to confirm; a POST does it.

The POST takes no CSRF token: mail programs send it by themselves (``List-Unsubscribe=
One-Click``) with no session. The signed token in the path is what authorises it, and all it
can do is move some reasons to "inbox only" for the person it was made for.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from taskdesk.domain.preferences import REASON_LABELS, stop_mail
from taskdesk.models import User
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission
from taskdesk.security.unsubscribe import UNSUBSCRIBE_PATH, read_unsubscribe_token
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view


def _link(request: Request) -> tuple[User, list[Any]] | None:
    """The user and reasons of the link's token, or None (and a 400 status) when it is not
    a link we made for an existing account."""
    token = request.subpath[0] if len(request.subpath) == 1 else ""
    found = read_unsubscribe_token(settings_of(request.registry).session_secret, token)
    user = request.dbsession.get(User, found[0]) if found is not None else None
    if found is None or user is None:
        request.response.status = 400
        return None
    return user, list(found[1])


def _page(request: Request, done: bool) -> dict[str, Any]:
    link = _link(request)
    if link is None:
        return {"valid": False, "done": False, "labels": [], "action": ""}
    user, reasons = link
    if done:
        stop_mail(request.dbsession, user.id, reasons)
    return {
        "valid": True,
        "done": done,
        "labels": [REASON_LABELS[reason] for reason in reasons],
        "action": request.resource_url(request.root, UNSUBSCRIBE_PATH, *request.subpath),
    }


@web_view(context=Root, name=UNSUBSCRIBE_PATH, renderer="unsubscribe.jinja2",
          request_method="GET", permission=Permission.PUBLIC)
def unsubscribe_show(context: Root, request: Request) -> dict[str, Any]:
    return _page(request, done=False)


@web_view(context=Root, name=UNSUBSCRIBE_PATH, renderer="unsubscribe.jinja2",
          request_method="POST", permission=Permission.PUBLIC, require_csrf=False)
def unsubscribe_confirm(context: Root, request: Request) -> dict[str, Any]:
    return _page(request, done=True)
