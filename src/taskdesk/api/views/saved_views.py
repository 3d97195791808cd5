"""Saved views of a project (list, save, show, change, delete) and bulk changes of tasks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api.operations import api_view
from taskdesk.api.paging import bad_parameters, page, query_params
from taskdesk.api.rendering import json_body
from taskdesk.api.representations import Urls
from taskdesk.api.support import actor, created, no_content, settings, viewer
from taskdesk.domain.bulk import MAX_BULK_TASKS, apply_bulk_change, bulk_schema, read_bulk_change
from taskdesk.domain.saved_views import (
    SAVED_VIEW,
    ViewRow,
    create_view,
    delete_view,
    private_views,
    update_view,
    view_query,
    view_row,
    views_in,
)
from taskdesk.i18n import header_locale, localizer_for
from taskdesk.messages import _
from taskdesk.models import User
from taskdesk.resources import MyViews, SavedViewContainer, SavedViewResource, TaskContainer
from taskdesk.security.actions import actor_may
from taskdesk.security.permissions import Permission


def _json(request: Request, slug: str, row: ViewRow, allowed: list[str]) -> dict[str, Any]:
    urls = Urls(request)
    query = f"?{urlencode(row.filters)}" if row.filters else ""
    return {
        "id": row.id, "name": row.name, "shared": row.shared, "filters": row.filters,
        "valid": view_query(row.filters, settings(request).workflow) is not None,
        "owner": row.owner, "url": f"{urls.project(slug)}/views/{row.id}",
        "tasks_url": f"{urls.project(slug)}/tasks{query}", "allowed": allowed,
    }


def _allowed(request: Request, context: SavedViewResource) -> list[str]:
    return [str(Permission.CHANGE_VIEW)] if request.has_permission(
        Permission.CHANGE_VIEW, context) else []


VIEWS_NOTE = ("The project's shared views and the caller's private ones, shared first, by "
              "name. A view's `filters` are the task list's query parameters; use them with "
              "`GET .../tasks`.")


@api_view(context=SavedViewContainer, method="GET", permission=Permission.VIEW,
          summary="A project's saved views", response="SavedViewList", description=VIEWS_NOTE)
def view_list(context: SavedViewContainer, request: Request) -> Response:
    unknown = {key: _("Unknown parameter.") for key in query_params(request)}
    if unknown:
        raise bad_parameters(unknown)
    project = context.project
    me = request.authenticated_userid
    manager = request.has_permission(Permission.MANAGE_PROJECT, project)
    # The views' own ACL, answered for the whole list (no check per row): the owner, and a
    # manager for a shared one; nobody in an archived project.
    change = [] if project.row.is_archived else [str(Permission.CHANGE_VIEW)]
    items = [_json(request, project.row.slug, row,
                   change if row.owner_id == me or (row.shared and manager) else [])
             for row in views_in(request.dbsession, project.row.id, me)]
    return page(request, items, None)


@api_view(context=MyViews, method="GET", permission=Permission.SIGNED_IN,
          summary="The caller's private saved views in every project", response="SavedViewList",
          description="Private views in the projects the caller may still see, by project "
          "and name (shared ones are listed with their project).")
def my_view_list(context: MyViews, request: Request) -> Response:
    unknown = {key: _("Unknown parameter.") for key in query_params(request)}
    if unknown:
        raise bad_parameters(unknown)
    change = [str(Permission.CHANGE_VIEW)]
    items = [_json(request, slug, row, change)
             for slug, row in private_views(request.dbsession, viewer(request))]
    return page(request, items, None)


@api_view(context=SavedViewContainer, method="POST", permission=Permission.VIEW,
          summary="Save a view", response="SavedView", status=201, body=SAVED_VIEW,
          description="Anyone who may see the project saves private views; `shared: true` "
          "needs `edit_task` (members and managers). Bad `filters` answer 422 naming each "
          "as `filters.<name>`.")
def view_create(context: SavedViewContainer, request: Request) -> dict[str, Any]:
    user = actor(request)
    project = context.project
    row = create_view(request.dbsession, settings(request).workflow, project.row.id, user,
                      json_body(request), may=actor_may(request, project), strict=True)
    body = _json(request, project.row.slug, view_row(row, user.username),
                 [str(Permission.CHANGE_VIEW)])
    return created(request, body, body["url"])


def _owner(request: Request, context: SavedViewResource) -> str:
    user = request.dbsession.get(User, context.row.owner_id)
    return user.username if user is not None else ""


@api_view(context=SavedViewResource, method="GET", permission=Permission.VIEW,
          summary="A saved view", response="SavedView")
def view_show(context: SavedViewResource, request: Request) -> dict[str, Any]:
    return _json(request, context.project.row.slug, view_row(context.row, _owner(
        request, context)), _allowed(request, context))


@api_view(context=SavedViewResource, method="PATCH", permission=Permission.CHANGE_VIEW,
          summary="Rename, change or share a saved view", response="SavedView",
          body=SAVED_VIEW, partial=True,
          description="Its owner may change it, and a project manager a shared one; "
          "sharing needs `edit_task`.")
def view_update(context: SavedViewResource, request: Request) -> dict[str, Any]:
    update_view(request.dbsession, settings(request).workflow, context.row, json_body(request),
                may=actor_may(request, context.project), strict=True)
    body: dict[str, Any] = view_show(context, request)
    return body


@api_view(context=SavedViewResource, method="DELETE", permission=Permission.CHANGE_VIEW,
          summary="Delete a saved view", response=None, status=204)
def view_delete(context: SavedViewResource, request: Request) -> Response:
    delete_view(request.dbsession, context.row)
    return no_content()


def _bulk_schema(task_settings: Any) -> Any:
    return bulk_schema(task_settings.workflow)


@api_view(context=TaskContainer, name="bulk", method="POST", permission=Permission.VIEW,
          only_method=True, summary="Change or delete many tasks at once",
          response="TaskBulkResult", body=_bulk_schema,
          description=f"One transaction for up to {MAX_BULK_TASKS} tasks (more: 422). Each "
          "task carries the version it was read at: a task changed since is refused "
          "(`version_conflict`), not overwritten. Each change needs the permission the "
          "single-task change needs (`status`: `set_status`, `assignee`: `assign`, the "
          "others `edit_task`, `delete`: `delete_task`); a task refused leaves the others "
          "be, and each changed task gets one history entry.")
def task_bulk(context: TaskContainer, request: Request) -> dict[str, Any]:
    task_settings = settings(request)
    change = read_bulk_change(task_settings.workflow, json_body(request), strict=True)
    project = context.project
    results = apply_bulk_change(request.dbsession, task_settings, project.entity(),
                                actor(request), change, may=actor_may(request, context))
    localizer = localizer_for(request.registry, header_locale(request))
    items = [{"number": r.number, "outcome": r.outcome, "changes": dict(r.changes),
              "reason": r.reason,
              "message": str(localizer.translate(r.message)) if r.message else None}
             for r in results]
    return {"items": items,
            "changed": sum(1 for r in results if r.outcome in ("changed", "deleted")),
            "refused": sum(1 for r in results if r.outcome == "refused")}
