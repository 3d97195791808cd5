"""Search everywhere: ``GET /api/v1/search?q=``, the web search page's twin."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.operations import api_view
from taskdesk.api.paging import bad_parameters, next_url, page, paging, query_params
from taskdesk.api.representations import Urls, search_hit_json
from taskdesk.api.support import viewer
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.schemas import SEARCH_QUERY
from taskdesk.domain.search_results import parse_jump, search_tasks, tasks_numbered
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission

NOTE = (
    "The tasks of every project the caller may see whose title, description or comments "
    "hold every word of `q` (English words also in other forms: `migrating` finds "
    "`migration`; the last word may be the start of a word; Chinese text is matched "
    "character by character, so any Chinese word is found). Ordered by project slug, then "
    "newest task first, with the offsets of the matches. `q` of the form `#12` or "
    "`project#12` lists the task(s) of that number instead (`#12` in the project `project` "
    "names, or in any project): one page, no marks; a task the caller may not see is not "
    "listed, as a missing one is not."
)


@api_view(context=Root, name="search", method="GET", permission=Permission.SIGNED_IN,
          summary="Search every project", response="SearchHitList", query="search",
          description=NOTE, conditional=True)
def search(context: Root, request: Request) -> Response:
    params = query_params(request)
    errors: dict[str, Any] = {}
    try:
        values = SEARCH_QUERY.read(params, None, strict=True, ignore=("limit", "cursor"))
    except ValidationError as error:
        errors.update(error.fields)
        values = {}
    paging_ = paging(request, params, errors)
    if errors:
        raise bad_parameters(errors)
    query = values.get("q", "")
    urls = Urls(request)
    jump = parse_jump(query)
    if jump is not None:
        found = tasks_numbered(request.dbsession, viewer(request), jump.number,
                               slug=jump.project or values.get("project"))
        return page(request, [search_hit_json(urls, task) for task in found], None)
    try:
        result = search_tasks(request.dbsession, viewer(request), query, limit=paging_.limit,
                              cursor=paging_.cursor)
    except ValidationError as error:
        raise bad_parameters(error.fields) from None
    return page(request, [search_hit_json(urls, hit) for hit in result.hits],
                next_url(request, params, paging_, result.next_cursor))
