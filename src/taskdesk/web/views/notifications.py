"""What people hear and choose to hear: the inbox (``/me/notifications``) and watching
tasks and projects.

The inbox lists entries, one per task (see :mod:`taskdesk.domain.inbox`), newest first, in
pages of :data:`PAGE_SIZE`. Opening an entry marks it read and leads to the task (to the
comment, for a comment); "Mark read" and "Mark all read" are forms (CSRF). Watching is a
form on the task and project pages that htmx sends in the background where it can.
"""

from __future__ import annotations

from typing import Any

from babel.lists import format_list
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from taskdesk.domain.cursor import decode_id_cursor, encode_id_cursor
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.events import DUE_SOON, DUE_TODAY, Reason
from taskdesk.domain.inbox import InboxEntry, InboxItem, entries, entry_target, mark_read
from taskdesk.domain.watching import unwatch_project, unwatch_task, watch_project, watch_task
from taskdesk.messages import _
from taskdesk.resources import Inbox, ProjectResource, TaskResource
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.web.declare import web_view
from taskdesk.web.forms import flash, redirect
from taskdesk.web.helpers import Helpers
from taskdesk.web.views.auth import safe_next

PAGE_SIZE = 30


# -- the inbox --------------------------------------------------------------------------------
def _what(h: Helpers, item: InboxItem) -> str:
    """What one notification says happened, as a verb phrase ("commented")."""
    translate = h.translate
    changes = item.data.get("changes") or {}
    if item.reason == Reason.MENTIONED:
        return translate(_("mentioned you"))
    if item.kind == "comment.added":
        return translate(_("commented"))
    if item.kind == "comment.edited":
        return translate(_("edited a comment"))
    if item.kind == "task.created":
        if item.reason == Reason.ASSIGNED:
            return translate(_("created the task and assigned it to you"))
        return translate(_("created the task"))
    if item.kind == "task.updated":
        if item.reason == Reason.ASSIGNED:
            return translate(_("assigned it to you"))
        status = changes.get("status")
        if isinstance(status, list) and len(status) == 2:
            return translate(_("changed the status to ${status}",
                               mapping={"status": h.status(status[1])}))
        fields = [h.field(name) for name in changes if ":" not in name]
        if fields:
            return translate(_("changed ${fields}", mapping={
                "fields": format_list(fields, locale=h.locale)}))
        return translate(_("changed the task"))
    if item.kind == DUE_SOON:
        return translate(_("is due tomorrow"))
    if item.kind == DUE_TODAY:
        return translate(_("is due today"))
    if item.kind == "member.added":
        return translate(_("added you to the project"))
    return item.kind


def entry_summary(h: Helpers, entry: InboxEntry) -> dict[str, str]:
    """Who did what in an entry, newest first: ``who`` ("Lina and 2 others") and ``what``
    ("commented; changed the status to Done")."""
    newest = entry.newest
    name = newest.actor_name or h.translate(_("Someone"))
    others = entry.actors - 1
    if others <= 0:
        who = name
    elif others == 1:
        who = h.translate(_("${name} and one other", mapping={"name": name}))
    else:
        who = h.translate(_("${name} and ${count} others", mapping={
            "name": name, "count": h.number(others)}))
    if newest.kind in (DUE_SOON, DUE_TODAY):
        who = ""
    phrases = list(dict.fromkeys(_what(h, item) for item in entry.items))
    # TRANSLATORS: joins what happened to a task, newest first ("commented; changed ...").
    return {"who": who, "what": h.translate(_("; ")).join(phrases)}


@web_view(context=Inbox, renderer="me/notifications.jinja2", permission=Permission.SIGNED_IN,
          request_method="GET")
def inbox_page(context: Inbox, request: Request) -> dict[str, Any]:
    identity = signed_in(request)
    unread_only = request.GET.get("show") == "unread"
    try:
        after = decode_id_cursor(request.GET.get("cursor") or None)
    except ValidationError:
        after = 0  # a garbled link starts at the top
    found = entries(request.dbsession, identity.viewer, unread_only=unread_only, after=after,
                    limit=PAGE_SIZE + 1)
    shown = found[:PAGE_SIZE]
    next_url = None
    if len(found) > PAGE_SIZE:
        query = {"cursor": encode_id_cursor(shown[-1].last_id)}
        if unread_only:
            query["show"] = "unread"
        next_url = request.resource_url(context, query=query)
    h = Helpers(request)
    return {
        "nav": "inbox",
        "entries": [(entry, entry_summary(h, entry)) for entry in shown],
        "unread_only": unread_only,
        "next_url": next_url,
        "first_page": not after,
    }


def _entry_key(request: Request) -> int | None:
    """The entry a form or link names (``entry``), or None."""
    raw = request.params.get("entry", "")
    text = raw[1:] if raw.startswith("-") else raw
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return int(raw)


@web_view(context=Inbox, name="read", permission=Permission.SIGNED_IN, request_method="POST")
def inbox_mark_read(context: Inbox, request: Request) -> HTTPSeeOther:
    """"Mark read" of one entry (``entry``), or "Mark all read" (no ``entry``)."""
    user_id = signed_in(request).user_id
    if "entry" in request.POST:
        key = _entry_key(request)
        if key is not None:
            mark_read(request.dbsession, user_id, entry=key)
    else:
        mark_read(request.dbsession, user_id)
        flash(request, _("All notifications are marked read."))
    target = request.POST.get("next")
    return HTTPSeeOther(safe_next(request, target) if target else request.resource_url(context))


@web_view(context=Inbox, name="open", permission=Permission.SIGNED_IN, request_method="GET")
def inbox_open(context: Inbox, request: Request) -> HTTPSeeOther:
    """Open an entry: mark it read and go to its task (to the newest comment it names).

    A GET, so the entry is a real link (new tab, copy); it only ever marks the reader's own
    notifications read, and a request another site started (``Sec-Fetch-Site:
    cross-site``) marks nothing.
    """
    identity = signed_in(request)
    key = _entry_key(request)
    target = entry_target(request.dbsession, identity.viewer, key) if key is not None else None
    if target is None or target.project_slug is None:
        flash(request, _("That notification is no longer available."), "error")
        return redirect(request, context)
    if request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none"):
        mark_read(request.dbsession, identity.user_id, entry=key)
    root = request.root
    if target.task_number is None:
        return redirect(request, root, "projects", target.project_slug)
    anchor = f"comment-{target.comment_id}" if target.comment_id else None
    return redirect(request, root, "projects", target.project_slug, "tasks",
                    str(target.task_number), anchor=anchor)


# -- watching ---------------------------------------------------------------------------------
def _back(request: Request, resource: Any) -> HTTPSeeOther:
    target = request.POST.get("next")
    return HTTPSeeOther(safe_next(request, target) if target
                        else request.resource_url(resource))


@web_view(context=TaskResource, name="watch", permission=Permission.VIEW,
          request_method="POST")
def task_watch(context: TaskResource, request: Request) -> HTTPSeeOther:
    watch_task(request.dbsession, context.row.id, [signed_in(request).user_id])
    flash(request, _("You are watching #${number}: you will hear of its changes.",
                     mapping={"number": context.row.number}))
    return _back(request, context)


@web_view(context=TaskResource, name="unwatch", permission=Permission.VIEW,
          request_method="POST")
def task_unwatch(context: TaskResource, request: Request) -> HTTPSeeOther:
    unwatch_task(request.dbsession, context.row.id, signed_in(request).user_id)
    flash(request, _("You no longer watch #${number}.", mapping={"number": context.row.number}))
    return _back(request, context)


@web_view(context=ProjectResource, name="watch", permission=Permission.VIEW,
          request_method="POST")
def project_watch(context: ProjectResource, request: Request) -> HTTPSeeOther:
    watch_project(request.dbsession, context.row.id, signed_in(request).user_id)
    flash(request, _("You are watching ${project}: you will hear of changes to all its tasks.",
                     mapping={"project": context.row.name}))
    return _back(request, context)


@web_view(context=ProjectResource, name="unwatch", permission=Permission.VIEW,
          request_method="POST")
def project_unwatch(context: ProjectResource, request: Request) -> HTTPSeeOther:
    unwatch_project(request.dbsession, context.row.id, signed_in(request).user_id)
    flash(request, _("You no longer watch ${project}.", mapping={"project": context.row.name}))
    return _back(request, context)
