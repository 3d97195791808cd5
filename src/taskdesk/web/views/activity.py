"""Activity feeds on the web: a project's (``/projects/<slug>/activity``), the signed-in
user's (``/me/activity``: their projects), the secret Atom feed for feed readers
(``/feeds/<secret>/activity.atom``) and the profile's form that makes its address."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain import accounts
from taskdesk.domain.access import Viewer
from taskdesk.domain.activity_feed import (
    FeedPage,
    FeedQuery,
    feed_page,
    parse_feed_query,
    visible_project_id,
)
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.schemas import ACTIVITY_KINDS, ACTIVITY_QUERY
from taskdesk.i18n import choose_locale
from taskdesk.messages import _
from taskdesk.resources import FeedResource, Me, ProjectResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.web.declare import web_view
from taskdesk.web.forms import form_errors

#: Activity entries read for one page of a feed (folded entries show fewer lines).
PAGE_SIZE = 50
#: The newest activity entries the Atom feed holds.
ATOM_SIZE = 50
#: The kinds of activity as the filter form names them.
KIND_LABELS = {
    "created": _("Created tasks"),
    "changed": _("Changed tasks"),
    "status": _("Status changes"),
    "assignee": _("Assignee changes"),
    "comments": _("Comments"),
    "links": _("Links"),
    "attachments": _("Attachments"),
    "deleted": _("Deleted tasks"),
    "members": _("Members"),
    "project": _("Project settings"),
}
assert tuple(KIND_LABELS) == ACTIVITY_KINDS


def _read_filters(params: Mapping[str, Any]) -> tuple[FeedQuery, int, dict[str, Any]]:
    """The filters and ``before`` of a feed page, and the problems with them (a bad value
    is shown at its field, and the page lists nothing)."""
    errors: dict[str, Any] = {}
    query = FeedQuery()
    try:
        query = parse_feed_query(params)
    except ValidationError as error:
        errors.update(form_errors(error))
    raw = str(params.get("before", "")).strip()
    before = 0
    if raw:
        if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31:
            before = int(raw)
        else:
            errors["before"] = _("Must be a whole number from ${a} to ${b}.",
                                 mapping={"a": 1, "b": 2**31 - 1})
    return query, before, errors


def _feed_page(request: Request, viewer: Viewer, *, project_id: int | None) -> dict[str, Any]:
    query, before, errors = _read_filters(request.GET)
    if errors:
        request.response.status = 400
        found = FeedPage([], None)
    else:
        found = feed_page(request.dbsession, viewer, query, project_id=project_id,
                          before=before, limit=PAGE_SIZE)
    next_url = None
    if found.next_before is not None:
        next_url = "?" + urlencode({**query.params(), "before": found.next_before})
    translate = request.localizer.translate
    return {
        "entries": found.entries,
        "next_url": next_url,
        "values": {key: request.GET.get(key, "") for key in ACTIVITY_QUERY.keys},
        "errors": errors,
        "filtered": bool(query.person or query.kinds),
        "kinds": [(kind, translate(label)) for kind, label in KIND_LABELS.items()],
    }


@web_view(context=ProjectResource, name="activity", renderer="projects/activity.jinja2",
          permission=Permission.VIEW, request_method="GET")
def project_activity(context: ProjectResource, request: Request) -> dict[str, Any]:
    return {"nav": "projects", "project": context.row, "tab": "activity",
            **_feed_page(request, signed_in(request).viewer, project_id=context.row.id)}


@web_view(context=Me, name="activity", renderer="me/activity.jinja2",
          permission=Permission.SIGNED_IN, request_method="GET")
def my_activity(context: Me, request: Request) -> dict[str, Any]:
    return {"section": "activity",
            **_feed_page(request, signed_in(request).viewer, project_id=None)}


@web_view(context=Me, name="feed", renderer="me/feed_created.jinja2",
          permission=Permission.SIGNED_IN, request_method="POST")
def feed_address_renew(context: Me, request: Request) -> dict[str, Any]:
    """Make a new secret feed address (the old one stops working) and show it on this one
    response, which no cache may keep: only its digest is stored, as for API tokens."""
    _token, secret = accounts.renew_feed_token(request.dbsession, signed_in(request).user)
    request.response.cache_control = "no-store"
    return {"section": "profile", "feed_url": feed_url(request, secret)}


def feed_url(request: Request, secret: str) -> str:
    return str(request.resource_url(request.root, "feeds", secret, "activity.atom"))


def _atom_time(value: Any) -> str:
    return str(value.isoformat(timespec="seconds")).replace("+00:00", "Z")


@web_view(context=FeedResource, name="activity.atom", permission=Permission.PUBLIC,
          request_method="GET")
def feed_atom(context: FeedResource, request: Request) -> Response:
    """The owner's feed as Atom 1.0: the newest activity in their projects (``?project=``:
    one project they may see), exactly as they may see it now. The secret in the address is
    the only authority: no session, no cookie. ETag and Last-Modified answer 304."""
    owner = context.owner
    viewer = context.viewer
    project_id = None
    slug = request.GET.get("project", "")
    if slug:
        project_id = visible_project_id(request.dbsession, viewer, slug)
        if project_id is None:
            raise HTTPNotFound()
    # The owner's language, as their pages speak it (a feed reader sends no cookie).
    request.locale_name = choose_locale(request, owner.locale)
    found = feed_page(request.dbsession, viewer, FeedQuery(), project_id=project_id,
                      before=0, limit=ATOM_SIZE)
    entries = found.entries
    updated = entries[0].created_at if entries else owner.created_at
    self_url = request.resource_url(context, "activity.atom",
                                    query={"project": slug} if slug else None)
    html_url = (request.resource_url(request.root, "projects", slug, "activity") if slug
                else request.resource_url(request.root, "me", "activity"))
    body = render("feeds/activity.atom.jinja2", {
        "entries": entries,
        "feed_id": f"{_tag(request)}:feeds/{owner.id}/activity" + (f"/{slug}" if slug else ""),
        "entry_tag": f"{_tag(request)}:activity/",
        "updated": _atom_time(updated),
        "atom_time": _atom_time,
        "self_url": self_url,
        "html_url": html_url,
        "slug": slug,
        "owner": owner,
    }, request=request)
    response = Response(body=body.encode("utf-8"),
                        content_type="application/atom+xml", charset="utf-8")
    response.etag = hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
    response.last_modified = updated
    response.cache_control = "private, no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.conditional_response = True
    return response


def _tag(request: Request) -> str:
    """The start of the feed's ``tag:`` URIs (RFC 4151): this site's host name and a date
    it held that name (the year Taskdesk's feeds began)."""
    return f"tag:{request.domain},2026"
