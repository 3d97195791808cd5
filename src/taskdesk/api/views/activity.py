"""A project's activity feed: newest first, filtered by person and kind, folded
(``domain.activity_feed``), as the web's project activity page shows it."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.errors import ApiError
from taskdesk.api.operations import api_view
from taskdesk.api.paging import (
    PAGING_KEYS,
    bad_parameters,
    decode_id_cursor,
    encode_id_cursor,
    next_url,
    page,
    paging,
    query_params,
)
from taskdesk.api.representations import Urls, feed_entry_json
from taskdesk.api.support import viewer
from taskdesk.domain.activity_feed import FeedQuery, feed_page, parse_feed_query
from taskdesk.domain.errors import ValidationError
from taskdesk.messages import _
from taskdesk.resources import ProjectResource
from taskdesk.security.permissions import Permission


@api_view(context=ProjectResource, name="activity", method="GET", permission=Permission.VIEW,
          summary="A project's activity feed, newest first", response="FeedEntryList",
          query="activity", conditional=True,
          description="Consecutive changes by one person to one task within ten minutes, "
          "with nothing else between them in this feed (its filters applied), are folded "
          "into one entry with the combined changes. `limit` counts activity entries "
          "before folding, so a page may hold fewer items; a page ends before a group "
          "that may go on. Entries naming a task the caller may not see are left out.")
def project_activity(context: ProjectResource, request: Request) -> Response:
    params = query_params(request)
    errors: dict[str, Any] = {}
    query = FeedQuery()
    try:
        query = parse_feed_query(params, strict=True, ignore=PAGING_KEYS)
    except ValidationError as error:
        errors.update(error.fields)
    paging_ = paging(request, params, errors)
    if paging_.offset:
        errors["offset"] = _("Not supported here: follow the `next` link.")
    before = 0
    try:
        before = decode_id_cursor(paging_.cursor)
    except ApiError as error:
        errors.update(error.fields or {})
    if errors:
        raise bad_parameters(errors)
    found = feed_page(request.dbsession, viewer(request), query, project_id=context.row.id,
                      before=before, limit=paging_.limit)
    cursor = encode_id_cursor(found.next_before) if found.next_before is not None else None
    urls = Urls(request)
    return page(request, [feed_entry_json(urls, entry) for entry in found.entries],
                next_url(request, params, paging_, cursor))
