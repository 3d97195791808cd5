"""Event deliveries (site admins): how many events wait for the worker, and the parked
ones (dispatching failed too often) with their last error and a "Retry" button."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from taskdesk.domain import events
from taskdesk.messages import _
from taskdesk.security.permissions import Permission
from taskdesk.web.declare import web_view
from taskdesk.web.forms import flash
from taskdesk.web.traversal import Deliveries

#: Parked events listed (newest first); the count above the list says how many there are.
SHOWN = 100


@web_view(context=Deliveries, renderer="admin/deliveries.jinja2", request_method="GET",
          permission=Permission.ADMINISTER)
def deliveries(context: Deliveries, request: Request) -> dict[str, Any]:
    return {
        "nav": "admin",
        "counts": events.outbox_counts(request.dbsession),
        "parked": events.parked_events(request.dbsession, limit=SHOWN),
    }


@web_view(context=Deliveries, name="retry", request_method="POST",
          permission=Permission.ADMINISTER)
def delivery_retry(context: Deliveries, request: Request) -> HTTPSeeOther:
    raw = request.POST.get("event", "")
    event_id = int(raw) if raw.isdigit() and len(raw) <= 12 else 0
    if event_id and events.retry_event(request.dbsession, event_id):
        flash(request, _("The event will be delivered again in a moment."))
    else:
        flash(request, _("That event is not parked (any more); nothing to retry."), "error")
    return HTTPSeeOther(request.resource_url(context))
