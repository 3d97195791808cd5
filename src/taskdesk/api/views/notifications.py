"""The caller's notifications (``/me/notifications``) and watching tasks and projects
(``.../watchers/me``)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.operations import api_view
from taskdesk.api.paging import (
    id_page,
    next_url,
    page,
    simple_list,
)
from taskdesk.api.rendering import json_body
from taskdesk.api.representations import Urls, notification_json
from taskdesk.api.support import actor, no_content, viewer
from taskdesk.domain.inbox import mark_read, notifications
from taskdesk.domain.schemas import NOTIFICATIONS_READ
from taskdesk.domain.watching import (
    task_watchers,
    unwatch_project,
    unwatch_task,
    watch_project,
    watch_task,
)
from taskdesk.resources import Inbox, ProjectWatch, TaskWatch
from taskdesk.security.permissions import Permission


@api_view(context=Inbox, method="GET", permission=Permission.SIGNED_IN,
          summary="The caller's notifications, newest first", response="NotificationList",
          query="notifications", conditional=True,
          description="Only notifications about what the caller may still see. "
          "`unread=true` keeps the unread ones. The web inbox groups them by task.")
def notification_list(context: Inbox, request: Request) -> Response:
    params, paging_, after = simple_list(request, flags=("unread",))
    unread = params.get("unread", "false")
    rows, cursor = id_page(
        notifications(request.dbsession, viewer(request), unread_only=unread == "true",
                      after=after, limit=paging_.limit + 1, offset=paging_.offset),
        paging_,
    )
    urls = Urls(request)
    return page(request, [notification_json(urls, row) for row in rows],
                next_url(request, params, paging_, cursor))


@api_view(context=Inbox, name="read", method="POST", permission=Permission.SIGNED_IN,
          only_method=True,
          summary="Mark notifications read", response="MarkedRead", body=NOTIFICATIONS_READ,
          description="`{}` marks all of the caller's notifications read; `{\"ids\": [...]}` "
          "those (ids of others' notifications change nothing). From a browser session, "
          "send the X-CSRF-Token header.")
def notification_mark_read(context: Inbox, request: Request) -> dict[str, Any]:
    data = NOTIFICATIONS_READ.validate(json_body(request), strict=True)
    marked = mark_read(request.dbsession, actor(request).id, ids=data.get("ids"))
    return {"marked": marked}


# -- watching ---------------------------------------------------------------------------------
def _task_watch(context: TaskWatch, request: Request) -> dict[str, Any]:
    rows = task_watchers(request.dbsession, context.task.row.id)
    return {"watching": any(row.user_id == request.authenticated_userid for row in rows),
            "watchers": len(rows)}


@api_view(context=TaskWatch, method="GET", permission=Permission.VIEW,
          summary="Whether the caller watches a task", response="Watch")
def task_watch_show(context: TaskWatch, request: Request) -> dict[str, Any]:
    return _task_watch(context, request)


@api_view(context=TaskWatch, method="PUT", permission=Permission.VIEW,
          summary="Watch a task: hear of its changes", response="Watch",
          description="Anyone who may view the task may watch it; watching twice is "
          "watching once.")
def task_watch_put(context: TaskWatch, request: Request) -> dict[str, Any]:
    task = context.task.row
    started = watch_task(request.dbsession, task.id, [actor(request).id])
    body = _task_watch(context, request)
    if started and not body["watching"]:
        body = {"watching": True, "watchers": body["watchers"] + 1}
    return body


@api_view(context=TaskWatch, method="DELETE", permission=Permission.VIEW,
          summary="Stop watching a task", response=None, status=204)
def task_watch_delete(context: TaskWatch, request: Request) -> Response:
    unwatch_task(request.dbsession, context.task.row.id, actor(request).id)
    return no_content()


def _project_watch(context: ProjectWatch, request: Request, *,
                   now: bool | None = None) -> dict[str, Any]:
    ids = set(context.project.row.watcher_ids)
    user_id = request.authenticated_userid
    if now is True:
        ids.add(user_id)
    elif now is False:
        ids.discard(user_id)
    return {"watching": user_id in ids, "watchers": len(ids)}


@api_view(context=ProjectWatch, method="GET", permission=Permission.VIEW,
          summary="Whether the caller watches a whole project", response="Watch")
def project_watch_show(context: ProjectWatch, request: Request) -> dict[str, Any]:
    return _project_watch(context, request)


@api_view(context=ProjectWatch, method="PUT", permission=Permission.VIEW,
          summary="Watch a project: hear of changes to all its tasks", response="Watch",
          description="Anyone who may view the project may watch it.")
def project_watch_put(context: ProjectWatch, request: Request) -> dict[str, Any]:
    watch_project(request.dbsession, context.project.row.id, actor(request).id)
    return _project_watch(context, request, now=True)


@api_view(context=ProjectWatch, method="DELETE", permission=Permission.VIEW,
          summary="Stop watching a project", response=None, status=204)
def project_watch_delete(context: ProjectWatch, request: Request) -> Response:
    unwatch_project(request.dbsession, context.project.row.id, actor(request).id)
    return no_content()
