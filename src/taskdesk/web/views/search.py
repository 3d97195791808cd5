"""Search everywhere: the header's search box, its results page and its jumps to a task by
number (``#12``, ``website#12``)."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.schemas import SEARCH_QUERY
from taskdesk.domain.search import marked
from taskdesk.domain.search_results import SearchPage, parse_jump, search_tasks, tasks_numbered
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.web.declare import web_view
from taskdesk.web.forms import refuse

PAGE_SIZE = 30


@web_view(context=Root, name="search", renderer="search.jinja2",
          permission=Permission.SIGNED_IN, request_method="GET")
def search(context: Root, request: Request) -> dict[str, Any] | HTTPSeeOther:
    """Results grouped by project; a query naming a task by number opens it, offers the
    candidates, or says there is no such task (the same for a task the viewer may not see)."""
    values = SEARCH_QUERY.read(request.GET, None)
    query = values.get("q", "")
    viewer = signed_in(request).viewer
    result: dict[str, Any] = {"nav": "search", "query": query, "page": SearchPage([], None),
                              "next_url": None, "choices": [], "no_such_task": False,
                              "errors": {}, "marked": marked}
    jump = parse_jump(query)
    if jump is not None:
        # "#12" on a project's page means that project's task 12 (the header sends its slug).
        slug = jump.project or values.get("project")
        found = tasks_numbered(request.dbsession, viewer, jump.number, slug=slug)
        if len(found) == 1:
            task = found[0]
            return HTTPSeeOther(request.resource_url(
                context, "projects", task.project_slug, "tasks", str(task.number)))
        result.update(choices=found, no_such_task=not found)
        return result
    try:
        page = search_tasks(request.dbsession, viewer, query, limit=PAGE_SIZE,
                            cursor=request.GET.get("cursor") or None)
    except ValidationError as error:
        refuse(request)
        result["errors"] = dict(error.fields)
        return result
    result["page"] = page
    if page.next_cursor:
        result["next_url"] = request.resource_url(
            context, "search", query={"q": query, "cursor": page.next_cursor})
    return result
