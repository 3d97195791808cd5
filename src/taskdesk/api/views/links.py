"""Links between tasks: a task's links (list, add) and one link (show, remove)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.operations import api_view
from taskdesk.api.paging import id_page, next_url, page, simple_list
from taskdesk.api.rendering import json_body
from taskdesk.api.representations import Urls, link_json
from taskdesk.api.support import actor, created, no_content, viewer
from taskdesk.domain.links import LinkRow, add_link, find_link, remove_link, task_links
from taskdesk.domain.schemas import TASK_LINK
from taskdesk.resources import TaskLinkResource, TaskLinks
from taskdesk.security.actions import actions_in
from taskdesk.security.permissions import Permission

LINKS_NOTE = (
    "`kind` is seen from this task: `blocks`, `blocked_by`, `relates_to`, `duplicates` or "
    "`duplicated_by`; the other task shows the inverse. Links to tasks the caller may not "
    "see are left out."
)


def _json(request: Request, links: TaskLinks, link: LinkRow) -> dict[str, Any]:
    task = links.task
    return link_json(Urls(request), task.row, task.project.row.slug, link,
                     actions_in(request, links, TaskLinkResource))


@api_view(context=TaskLinks, method="GET", permission=Permission.VIEW,
          summary="A task's links to other tasks, oldest first", response="TaskLinkList",
          query="page", conditional=True, description=LINKS_NOTE)
def link_list(context: TaskLinks, request: Request) -> Response:
    params, paging_, after = simple_list(request)
    rows = task_links(request.dbsession, viewer(request), context.task.row, after=after,
                      limit=paging_.limit + 1, offset=paging_.offset)
    kept, cursor = id_page(rows, paging_)
    items = [_json(request, context, link) for link in kept]
    return page(request, items, next_url(request, params, paging_, cursor))


@api_view(context=TaskLinks, method="POST", permission=Permission.EDIT_TASK,
          summary="Link a task to another", response="TaskLink", status=201, body=TASK_LINK,
          description="Needs `edit_task` on this task and that the caller may see the other "
          "one (a task they may not see answers as a missing one: 422). A link that exists "
          "already answers 409; a self link or one that would make a cycle of `blocks` or "
          "of `duplicates` answers 422.")
def link_create(context: TaskLinks, request: Request) -> dict[str, Any]:
    task = context.task.row
    row = add_link(request.dbsession, task, actor(request), json_body(request), strict=True)
    link = find_link(request.dbsession, viewer(request), task, row.id)
    assert link is not None  # the actor may see the task they linked
    body = _json(request, context, link)
    return created(request, body, body["url"])


@api_view(context=TaskLinkResource, method="GET", permission=Permission.VIEW,
          summary="A link to another task", response="TaskLink")
def link_show(context: TaskLinkResource, request: Request) -> dict[str, Any]:
    return _json(request, context.__parent__, context.row)


@api_view(context=TaskLinkResource, method="DELETE", permission=Permission.EDIT_TASK,
          summary="Remove a link", response=None, status=204,
          description="Needs `edit_task` on the task the link is removed from; both tasks' "
          "histories record it.")
def link_delete(context: TaskLinkResource, request: Request) -> Response:
    remove_link(request.dbsession, context.task.row, actor(request), context.row)
    return no_content()
