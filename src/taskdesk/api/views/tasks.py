"""Tasks: the lists (a project's and across projects, JSON or CSV), create, show, change,
delete, and a task's activity."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api import conditional
from taskdesk.api.operations import api_view
from taskdesk.api.paging import (
    PAGING_KEYS,
    bad_parameters,
    id_page,
    next_url,
    page,
    paging,
    query_params,
    simple_list,
)
from taskdesk.api.rendering import json_body
from taskdesk.api.representations import TaskJson, Urls, activity_json
from taskdesk.api.support import actor, created, no_content, settings, viewer
from taskdesk.api.traversal import AllTasks
from taskdesk.domain.board import move_task
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.export import TaskUrl
from taskdesk.domain.feeds import activity
from taskdesk.domain.links import is_blocked
from taskdesk.domain.schemas import move_schema, task_schemas
from taskdesk.domain.task_list import TaskQuery, list_tasks, parse_task_query
from taskdesk.domain.tasks import add_task, delete_task, update_task
from taskdesk.downloads import csv_task_urls, task_csv_response
from taskdesk.messages import _
from taskdesk.resources import (
    ProjectResource,
    Root,
    SubtaskContainer,
    TaskContainer,
    TaskResource,
)
from taskdesk.security.actions import ListActions, actor_may, task_actions
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in


def move_body(task_settings: Any) -> Any:
    return move_schema(task_settings.workflow)


def create_schema(task_settings: Any) -> Any:
    return task_schemas(task_settings.workflow)[0]


def update_schema(task_settings: Any) -> Any:
    return task_schemas(task_settings.workflow)[1]


def _query(request: Request, params: dict[str, str], ignore: tuple[str, ...],
           errors: dict[str, Any]) -> TaskQuery:
    """The filters; their problems are added to ``errors`` (to report with paging's)."""
    try:
        return parse_task_query(params, settings(request).workflow, strict=True, ignore=ignore)
    except ValidationError as error:
        errors.update(error.fields)
        return TaskQuery()


def _wants_csv(request: Request) -> bool:
    """Whether the client asked for text/csv rather than JSON (``Accept``)."""
    if "text/csv" not in request.headers.get("Accept", "").lower():
        return False
    offers = request.accept.acceptable_offers(["application/json", "text/csv"])
    return bool(offers) and offers[0][0] == "text/csv"


def _csv_task_urls(request: Request) -> TaskUrl:
    """A CSV row's ``url``: the task's web page for people opening it from a spreadsheet, or
    its API URL on a deployment without the web UI."""
    urls = Urls(request)
    return csv_task_urls(request, lambda row: urls.task(row.project_slug, row.number))


def _csv(request: Request, project: ProjectResource | None, query: TaskQuery) -> Response:
    name = project.row.slug if project is not None else "tasks"
    return task_csv_response(request, viewer(request), query,
                             project_id=project.row.id if project is not None else None,
                             filename=f"{name}.csv", task_url=_csv_task_urls(request))


def _task_list(request: Request, project: ProjectResource | None) -> dict[str, Any] | Response:
    params = query_params(request)
    errors: dict[str, Any] = {}
    query = _query(request, params, PAGING_KEYS, errors)
    paging_ = paging(request, params, errors)
    if errors:
        raise bad_parameters(errors)
    project_id = project.row.id if project is not None else None
    try:
        if _wants_csv(request):
            return _csv(request, project, query)
        result = list_tasks(request.dbsession, viewer(request), query, project_id=project_id,
                            limit=paging_.limit, cursor=paging_.cursor, offset=paging_.offset)
    except ValidationError as error:
        raise bad_parameters(error.fields) from None
    build = TaskJson(Urls(request), settings(request).workflow)
    if project is not None:
        allowed = task_actions(request, project)
        items = [build.row(row, allowed) for row in result.items]
    else:
        actions = ListActions(request)
        actions.load(row.project_id for row in result.items)
        items = [build.row(row, actions.task(row.project_id)) for row in result.items]
    return page(request, items, next_url(request, params, paging_, result.next_cursor))


def _csv_export(request: Request, project: ProjectResource | None) -> Response:
    errors: dict[str, Any] = {}
    query = _query(request, query_params(request), (), errors)
    if errors:
        raise bad_parameters(errors)
    try:
        return _csv(request, project, query)
    except ValidationError as error:
        raise bad_parameters(error.fields) from None


LIST_NOTE = (
    "Filters combine with AND; `status`, `priority` and `label` take comma-separated "
    "values. Send `Accept: text/csv` for the whole filtered list as CSV."
)


@api_view(context=TaskContainer, method="GET", permission=Permission.VIEW,
          summary="A project's tasks", response="TaskList", query="tasks", csv=True,
          description=LIST_NOTE, conditional=True)
def task_list(context: TaskContainer, request: Request) -> dict[str, Any] | Response:
    return _task_list(request, context.project)


@api_view(context=AllTasks, method="GET", permission=Permission.SIGNED_IN,
          summary="Tasks across every project the caller may see", response="TaskList",
          query="tasks", csv=True, description=LIST_NOTE, conditional=True)
def task_list_all(context: AllTasks, request: Request) -> dict[str, Any] | Response:
    return _task_list(request, None)


@api_view(context=ProjectResource, name="tasks.csv", method="GET", permission=Permission.VIEW,
          summary="A project's filtered tasks as CSV (UTF-8 with BOM)", response=None,
          query="filters", csv=True)
def task_csv(context: ProjectResource, request: Request) -> Response:
    return _csv_export(request, context)


@api_view(context=Root, name="tasks.csv", method="GET", permission=Permission.SIGNED_IN,
          summary="Filtered tasks of every visible project as CSV (UTF-8 with BOM)",
          response=None, query="filters", csv=True)
def task_csv_all(context: Root, request: Request) -> Response:
    return _csv_export(request, None)


def _state(task: TaskResource) -> str:
    return conditional.state("task", task.row.id, task.row.version)


def _body(request: Request, task: TaskResource) -> dict[str, Any]:
    """The task's JSON after a change through its ORM row."""
    build = TaskJson(Urls(request), settings(request).workflow)
    blocked = is_blocked(request.dbsession, viewer(request), task.row)
    return build.entity(task.row, task.project.row, task_actions(request, task.project),
                        blocked)


@api_view(context=TaskContainer, method="POST", permission=Permission.CREATE_TASK,
          summary="Create a task", response="Task", status=201, body=create_schema,
          description="The simplest body is `{\"title\": \"...\"}`; `completed: true` "
          "creates it in the first done status. Setting `assignee` needs `assign`, and "
          "`status` or `completed` need `set_status`.")
def task_create(context: TaskContainer, request: Request) -> dict[str, Any]:
    project = context.project
    identity = signed_in(request)
    task_settings = settings(request)
    row = add_task(request.dbsession, task_settings, project.row, identity.user_id,
                   identity.username, json_body(request), may=actor_may(request, context),
                   strict=True)
    # The detail's serialiser, from what the create knows (a new task has no links yet,
    # so it is not blocked): nothing is read back.
    body = TaskJson(Urls(request), task_settings.workflow).row(
        row, task_actions(request, project))
    body = conditional.tagged(request, body, conditional.state("task", row.id, row.version))
    return created(request, body, body["url"])


@api_view(context=TaskResource, method="GET", permission=Permission.VIEW,
          summary="A task", response="Task", conditional=True)
def task_show(context: TaskResource, request: Request) -> dict[str, Any] | Response:
    shown = context.shown  # what traversal reads for a GET of a task (``read_task``)
    assert shown is not None
    build = TaskJson(Urls(request), settings(request).workflow)
    body = build.row(shown, task_actions(request, context.project))
    return conditional.respond(request, body, conditional.state("task", shown.id, shown.version))


@api_view(context=TaskResource, method="PATCH", permission=Permission.VIEW,
          summary="Change a task", response="Task", body=update_schema, partial=True,
          conditional=True,
          description="Send only the fields to change. Each field needs its permission: "
          "`status`/`completed` need `set_status`, `assignee` needs `assign`, the others "
          "(`parent` too: a task number, or null) "
          "`edit_task`. A stale `If-Match` or `version` answers 412 and changes nothing.")
def task_update(context: TaskResource, request: Request) -> dict[str, Any]:
    task = context.row
    update_task(request.dbsession, settings(request), task, actor(request), json_body(request),
                may=actor_may(request, context),
                expected_version=conditional.if_match_version(request, "task", task.id),
                partial=True, strict=True)
    return conditional.tagged(request, _body(request, context), _state(context))


@api_view(context=TaskResource, name="move", method="POST", permission=Permission.SET_STATUS,
          only_method=True,
          summary="Move a task on the board: order it in its column, or move it to "
          "another status's column", response="TaskMoved", body=move_body, conditional=True,
          description="`after` or `before` (a task number of the target column) places the "
          "task right below or above that task; neither places it on top. A move to "
          "another `status` is a status change (its history entry, `version` and "
          "`If-Match` checks, 412 when stale); a move within the column changes neither. "
          "Lists show board order with `sort=rank`. Past the column's WIP limit the move "
          "is done and `over_wip_limit` says so.")
def task_move(context: TaskResource, request: Request) -> dict[str, Any]:
    task = context.row
    moved = move_task(request.dbsession, settings(request), task, actor(request),
                      json_body(request), may=actor_may(request, context),
                      wip_limits=context.project.row.wip_limits,
                      expected_version=conditional.if_match_version(request, "task", task.id),
                      strict=True)
    body = {"task": _body(request, context), "over_wip_limit": moved.over_limit}
    return conditional.tagged(request, body, _state(context))


@api_view(context=TaskResource, method="DELETE", permission=Permission.DELETE_TASK,
          summary="Delete a task", response=None, status=204, conditional=True)
def task_delete(context: TaskResource, request: Request) -> Response:
    task = context.row
    delete_task(request.dbsession, task, actor(request),
                expected_version=conditional.if_match_version(request, "task", task.id))
    return no_content()


@api_view(context=SubtaskContainer, method="GET", permission=Permission.VIEW,
          summary="A task's sub-tasks, by number", response="TaskList", query="page",
          conditional=True,
          description="The same as the project's list with `parent=<number>&sort=number`. "
          "A task becomes a sub-task by a PATCH of its `parent`.")
def task_subtasks(context: SubtaskContainer, request: Request) -> Response:
    params = query_params(request)
    errors: dict[str, Any] = {key: _("Unknown parameter.") for key in params
                              if key not in PAGING_KEYS}
    paging_ = paging(request, params, errors)
    if errors:
        raise bad_parameters(errors)
    task = context.task
    workflow = settings(request).workflow
    query = TaskQuery(parent=task.row.number, sort="number",
                      priority_order=workflow.priorities)
    try:
        result = list_tasks(request.dbsession, viewer(request), query,
                            project_id=task.project.row.id, limit=paging_.limit,
                            cursor=paging_.cursor, offset=paging_.offset)
    except ValidationError as error:
        raise bad_parameters(error.fields) from None
    build = TaskJson(Urls(request), workflow)
    allowed = task_actions(request, task.project)
    return page(request, [build.row(row, allowed) for row in result.items],
                next_url(request, params, paging_, result.next_cursor))


@api_view(context=TaskResource, name="activity", method="GET", permission=Permission.VIEW,
          summary="A task's history, oldest first", response="ActivityList", query="page",
          conditional=True)
def task_activity(context: TaskResource, request: Request) -> Response:
    params, paging_, after = simple_list(request)
    rows, cursor = id_page(
        activity(request.dbsession, viewer(request), task_id=context.row.id, newest_first=False,
                 after=after, limit=paging_.limit + 1, offset=paging_.offset),
        paging_,
    )
    return page(request, [activity_json(row) for row in rows],
                next_url(request, params, paging_, cursor))
