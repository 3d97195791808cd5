"""Tasks: the project's task list, board and charts; create, show, edit, move, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from babel.lists import format_list
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from pyramid_retry import mark_error_retryable
from translationstring import TranslationString

from taskdesk.domain.access import may_be_assigned
from taskdesk.domain.activity import FieldChange, task_changes_after
from taskdesk.domain.board import move_task, over_limit, past_limit
from taskdesk.domain.bulk import MAX_BULK_TASKS
from taskdesk.domain.checklists import with_items_done
from taskdesk.domain.errors import ConflictError, DomainError, ValidationError
from taskdesk.domain.feeds import activity, task_comments
from taskdesk.domain.links import open_blockers, task_links
from taskdesk.domain.merge import Merge
from taskdesk.domain.people import assigned_in, resolve_person
from taskdesk.domain.rights import May
from taskdesk.domain.schemas import TASK_FIELDS, TASK_QUERY
from taskdesk.domain.statistics import count_by_status, count_tasks, weekly_created_completed
from taskdesk.domain.task_list import TaskQuery, list_tasks, parse_task_query
from taskdesk.domain.tasks import (
    add_task,
    delete_task,
    merge_task_edit,
    parent_candidates,
    subtasks_of,
    task_values,
    update_task,
)
from taskdesk.domain.watching import task_watchers
from taskdesk.downloads import task_csv_response, task_page_urls
from taskdesk.messages import _
from taskdesk.models import Task
from taskdesk.resources import ProjectResource, SubtaskContainer, TaskContainer, TaskResource
from taskdesk.security.actions import actor_may
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import Status, Workflow, settings_of
from taskdesk.web.attaching import attachments_page
from taskdesk.web.charts import bar_chart, grouped_bar_chart
from taskdesk.web.declare import web_view
from taskdesk.web.forms import (
    confirmation,
    confirmed,
    flash,
    form_errors,
    form_values,
    redirect,
    refuse,
)
from taskdesk.web.helpers import Helpers
from taskdesk.web.views.auth import safe_next
from taskdesk.web.views.saved_views import FILTER_PREFIX, views_page

PAGE_SIZE = 50
#: Cards a board column shows at first: fewer in closed columns (done, cancelled), which
#: only grow. "Show more" adds as many again (``cards_<status>`` in the URL), up to
#: ``BOARD_COLUMN_MAX``; past that a column links to the filtered task list.
BOARD_COLUMN_SIZE = 30
BOARD_CLOSED_COLUMN_SIZE = 20
BOARD_COLUMN_MAX = 200
#: Column totals above this show as "1,000+": counting stays bounded on huge projects.
BOARD_COUNT_CAP = 1000
#: The task list's total above this shows as "1,000+ tasks", for the same reason: at
#: 1,000,000 tasks (SQLite, a project of 341,000) an exact count took 20 ms for the open
#: tasks and 310 ms with a priority filter; capped, 0.1 ms and 11 ms.
LIST_COUNT_CAP = 1000
#: How many earlier cursors a list URL keeps, so "Previous" works without a backward query.
TRAIL_LIMIT = 20
#: The view name of the CSV download on a project's tasks (same filters as the list).
EXPORT_NAME = "export.csv"
HISTORY_LIMIT = 200


# -- the task list ----------------------------------------------------------------------------
def _query(request: Request, workflow: Workflow, *, ignore: tuple[str, ...] = (),
           overrides: Mapping[str, str] | None = None) -> tuple[TaskQuery, dict[str, Any]]:
    """The list's filters from the URL (with ``overrides``), or an empty query and the
    errors to show."""
    params = {key: value for key, value in request.GET.items() if key not in ignore}
    params.update(overrides or {})
    try:
        _resolve_assignee_filter(request, params)
        return parse_task_query(params, workflow), {}
    except ValidationError as error:
        refuse(request)
        return parse_task_query({}, workflow), dict(error.fields)


def _resolve_assignee_filter(request: Request, params: dict[str, Any]) -> None:
    """The assignee filter as a username: people type a username or a display name (the
    keywords ``me`` and ``none`` stay as they are)."""
    typed = params.get("assignee")
    if isinstance(typed, str) and typed.strip() and typed.strip().lower() not in ("me", "none"):
        person = resolve_person(request.dbsession, typed, field="assignee", active_only=False,
                                prefer=assigned_in(request.context.row.id))
        params["assignee"] = person.username


def _filter_values(request: Request) -> dict[str, str]:
    """What the filter form's fields hold, as typed (the list and the board show some)."""
    return {key: request.GET.get(key, "") for key in TASK_QUERY.form_keys}


def _list_state(request: Request) -> str:
    """The task list's state filter: as chosen (``open``, ``closed`` or ``all``); without a
    choice open tasks, or all when a status is picked."""
    return request.GET.get("state") or ("all" if request.GET.get("status") else "open")


@web_view(context=ProjectResource, renderer="projects/tasks.jinja2",
          permission=Permission.VIEW, request_method="GET")
def task_list(context: ProjectResource, request: Request) -> dict[str, Any]:
    workflow = settings_of(request.registry).workflow
    state = _list_state(request)
    query, errors = _query(request, workflow, ignore=("cursor", "trail"),
                           overrides={"state": "" if state == "all" else state})
    cursor = request.GET.get("cursor") or None
    trail = [c for c in request.GET.get("trail", "").split(".") if c][-TRAIL_LIMIT:]
    page = None
    total = 0
    if not errors:
        try:
            page = list_tasks(request.dbsession, signed_in(request).viewer, query,
                              project_id=context.row.id, limit=PAGE_SIZE, cursor=cursor)
        except ValidationError as error:
            refuse(request)
            errors = dict(error.fields)
        else:
            total = count_tasks(request.dbsession, signed_in(request).viewer, query,
                                project_id=context.row.id, cap=LIST_COUNT_CAP)
    params = query.as_params()
    # Page links keep the state as chosen (not the statuses it stands for), so the filters
    # read the same on every page and "all" stays "all".
    link_params = {**params, "state": state}
    if not request.GET.get("status"):
        link_params.pop("status", None)
    next_url = prev_url = None
    if page is not None and page.next_cursor:
        next_trail = [*trail, cursor or ""][-TRAIL_LIMIT:]
        next_url = request.resource_url(context, query={
            **link_params, "cursor": page.next_cursor, "trail": ".".join(next_trail)})
    if cursor:
        previous = trail[-1] if trail else ""
        prev_params = dict(link_params)
        if previous:
            prev_params["cursor"] = previous
            if trail[:-1]:
                prev_params["trail"] = ".".join(trail[:-1])
        prev_url = request.resource_url(context, query=prev_params)
    return {
        "nav": "projects",
        "tab": "tasks",
        "project": context.row,
        "workflow": workflow,
        "tasks": page.items if page else [],
        "total": min(total, LIST_COUNT_CAP),
        "total_capped": total > LIST_COUNT_CAP,
        "filters": {**_filter_values(request), "state": state},
        "errors": errors,
        "next_url": next_url,
        "prev_url": prev_url,
        # The download holds what the list shows ("all" is no filter, not a value).
        "csv_url": request.resource_url(context, "tasks", EXPORT_NAME, query={
            k: v for k, v in link_params.items() if (k, v) != ("state", "all")}),
        "filtered": any(value for key, value in request.GET.items()
                        if key not in ("cursor", "trail")),
        "can_create": request.has_permission(Permission.CREATE_TASK, context),
        # Bulk changes: offered to whoever may make one of them (each task is checked).
        "can_bulk": any(request.has_permission(p, context) for p in (
            Permission.EDIT_TASK, Permission.SET_STATUS, Permission.ASSIGN,
            Permission.DELETE_TASK)),
        "can_delete": request.has_permission(Permission.DELETE_TASK, context),
        "max_bulk": MAX_BULK_TASKS,
        "filter_prefix": FILTER_PREFIX,
        "list_filters": {k: v for k, v in request.GET.items() if k in TASK_QUERY.keys},
        **views_page(request, context, ""),
    }


@web_view(context=TaskContainer, name=EXPORT_NAME, permission=Permission.VIEW,
          request_method="GET")
def task_export(context: TaskContainer, request: Request) -> Response:
    """The list's filtered tasks as CSV; bad filters go back to the list, which explains
    them."""
    project = context.project
    workflow = settings_of(request.registry).workflow
    query, errors = _query(request, workflow)
    if errors:
        return HTTPSeeOther(request.resource_url(project, query=request.GET))
    return task_csv_response(request, signed_in(request).viewer, query,
                             project_id=project.row.id, filename=f"{project.row.slug}.csv",
                             task_url=task_page_urls(request))


# -- the board --------------------------------------------------------------------------------
#: The board's swimlanes (``lanes`` in the URL, like its filters); without: none.
LANE_CHOICES = ("assignee", "priority")


@web_view(context=ProjectResource, name="board", renderer="projects/board.jinja2",
          permission=Permission.VIEW, request_method="GET")
def task_board(context: ProjectResource, request: Request) -> dict[str, Any]:
    """One column per status, in board order: one bounded query per column, so the count
    stays constant; swimlanes regroup the same cards (no statement more).

    The column totals count every task of a status; the cards follow the board's filters.
    """
    workflow = settings_of(request.registry).workflow
    query, errors = _query(request, workflow, ignore=("status", "state", "sort"))
    lanes_by = request.GET.get("lanes", "")
    if lanes_by not in LANE_CHOICES:
        lanes_by = ""
    wip_limits = context.row.wip_limits
    totals = count_by_status(request.dbsession, context.row.id, workflow.status_names,
                             cap=BOARD_COUNT_CAP)
    params = query.as_params()
    columns = []
    for status in workflow.statuses:
        size = _column_size(request, status)
        items: list[Any] = []
        page = None
        if not errors and totals.get(status.name):
            column_query = parse_task_query(
                {**params, "status": status.name, "sort": "rank"}, workflow)
            page = list_tasks(request.dbsession, signed_in(request).viewer, column_query,
                              project_id=context.row.id, limit=size)
            items = page.items
        total = totals.get(status.name, 0)
        show_more = None
        if page is not None and page.next_cursor and size < BOARD_COLUMN_MAX:
            key = f"cards_{status.name}"
            show_more = request.resource_url(context, "board", query={
                **{k: v for k, v in request.GET.items() if k != key},
                key: str(min(size + _initial_size(status), BOARD_COLUMN_MAX))})
        columns.append({"status": status, "tasks": items, "total": min(total, BOARD_COUNT_CAP),
                        "more": total > BOARD_COUNT_CAP, "show_more": show_more,
                        "truncated": page is not None and page.next_cursor is not None,
                        "limit": wip_limits.get(status.name),
                        "over": over_limit(total, status.name, wip_limits)})
    helpers = Helpers(request)
    return {
        "nav": "projects",
        "tab": "board",
        "project": context.row,
        "workflow": workflow,
        "columns": columns,
        # Translated once, not once per card.
        "status_labels": {s.name: helpers.status(s.name) for s in workflow.statuses},
        "errors": errors,
        "lanes_by": lanes_by,
        "lanes": _lanes(columns, lanes_by, workflow, helpers) if lanes_by else [],
        "filters": _filter_values(request),
        "filtered": bool(params),
        "list_params": params,
        "can_move": request.has_permission(Permission.SET_STATUS, context),
        "list_filters": {k: v for k, v in request.GET.items() if k in TASK_QUERY.keys},
        **views_page(request, context, "board"),
    }


def _lanes(columns: list[dict[str, Any]], by: str, workflow: Workflow,
           helpers: Helpers) -> list[dict[str, Any]]:
    """The board's cards in swimlanes by assignee (by name, nobody last) or by priority
    (highest first): each lane a row of the columns, holding the cards the columns show;
    a lane without cards is left out."""
    lanes: dict[Any, dict[str, Any]] = {}
    for index, column in enumerate(columns):
        for task in column["tasks"]:
            if by == "priority":
                key: Any = task.priority
                title = helpers.priority(task.priority)
            else:
                key = task.assignee
                title = task.assignee_name or helpers.translate(_("Unassigned"))
            lane = lanes.setdefault(key, {"key": key or "", "title": title, "count": 0,
                                          "cells": [[] for _column in columns]})
            lane["cells"][index].append(task)
            lane["count"] += 1
    if by == "priority":
        order = {name: place for place, name in enumerate(reversed(workflow.priorities))}
        ordered = sorted(lanes.values(), key=lambda lane: order.get(lane["key"], len(order)))
    else:
        ordered = sorted(lanes.values(), key=lambda lane: (
            not lane["key"], lane["title"].casefold(), lane["key"]))
    return ordered


def _initial_size(status: Status) -> int:
    return BOARD_CLOSED_COLUMN_SIZE if status.is_closed else BOARD_COLUMN_SIZE


def _column_size(request: Request, status: Status) -> int:
    """How many cards the column of ``status`` shows: its initial size, or what "Show more"
    asked for (``cards_<status>``), within bounds."""
    asked = request.GET.get(f"cards_{status.name}", "")
    initial = _initial_size(status)
    if asked.isdigit() and len(asked) <= 4:
        return max(initial, min(int(asked), BOARD_COLUMN_MAX))
    return initial


# -- charts -----------------------------------------------------------------------------------
@web_view(context=ProjectResource, name="charts", renderer="projects/charts.jinja2",
          permission=Permission.VIEW, request_method="GET")
def task_charts(context: ProjectResource, request: Request) -> dict[str, Any]:
    workflow = settings_of(request.registry).workflow
    h = Helpers(request)
    totals = count_by_status(request.dbsession, context.row.id, workflow.status_names)
    weeks = weekly_created_completed(request.dbsession, context.row.id,
                                     today=request.today, zone=request.zone)
    status_chart = bar_chart(
        [(h.status(s.name), totals.get(s.name, 0)) for s in workflow.statuses],
        title=h.translate(_("Tasks per status")), number=h.number,
    )
    week_chart = grouped_bar_chart(
        [(h.month_day(start), created, completed) for start, created, completed in weeks],
        title=h.translate(_("Created and completed per week")),
        series=(h.translate(_("Tasks created")), h.translate(_("Tasks completed"))),
        number=h.number,
    )
    return {
        "nav": "projects",
        "tab": "charts",
        "project": context.row,
        "status_chart": status_chart,
        "week_chart": week_chart,
        "weeks": weeks,
        "totals": [(s.name, totals.get(s.name, 0)) for s in workflow.statuses],
    }


# -- create -----------------------------------------------------------------------------------
def _form_page(request: Request, project: Any, values: dict[str, Any], errors: dict[str, Any],
               **extra: Any) -> dict[str, Any]:
    settings = settings_of(request.registry)
    task = extra.get("task")
    return {"nav": "projects", "project": project, "workflow": settings.workflow,
            "values": values, "errors": errors,
            # A task with sub-tasks cannot become one: no parent to offer.
            "parent_choices": [] if task is not None and _has_subtasks(request)
            else parent_candidates(request.dbsession, project.id,
                                   task.id if task is not None else None),
            **extra}


def _has_subtasks(request: Request) -> bool:
    """Whether the task being edited (the context, read by traversal) has sub-tasks."""
    context = request.context
    subtasks = context.subtasks if isinstance(context, TaskResource) else None
    return bool(subtasks)


@web_view(context=TaskContainer, permission=Permission.VIEW, request_method="GET")
def task_container(context: TaskContainer, request: Request) -> HTTPSeeOther:
    return redirect(request, context.project)


@web_view(context=TaskContainer, name="new", renderer="tasks/form.jinja2",
          permission=Permission.CREATE_TASK, request_method="GET")
def task_new(context: TaskContainer, request: Request) -> dict[str, Any]:
    workflow = settings_of(request.registry).workflow
    values = {"status": workflow.initial_status, "priority": workflow.default_priority}
    return _form_page(request, context.project.row, values, {}, task=None)


def _resolve_assignee(request: Request, project: ProjectResource,
                      values: dict[str, str]) -> dict[str, Any]:
    """``values`` with the assignee people typed (a username or an exact display name) as a
    username, which ``values`` then shows too if the form comes back."""
    typed = values.get("assignee")
    if not typed or not typed.strip():
        return values
    person = resolve_person(request.dbsession, typed, field="assignee",
                            prefer=may_be_assigned(project.row.id))
    values["assignee"] = person.username
    return {**values, "assignee": person.username}


@web_view(context=TaskContainer, name="new", renderer="tasks/form.jinja2",
          permission=Permission.CREATE_TASK, request_method="POST")
def task_create(context: TaskContainer, request: Request) -> Any:
    values = form_values(request, TASK_FIELDS)
    try:
        data = _resolve_assignee(request, context.project, values)
        # The form shows the fields the user may not set read-only (or not at all): the
        # domain leaves them out rather than refusing the form.
        identity = signed_in(request)
        task = add_task(request.dbsession, settings_of(request.registry), context.project.row,
                        identity.user_id, identity.username, data,
                        may=actor_may(request, context), drop_forbidden=True)
    except DomainError as error:
        refuse(request)
        return _form_page(request, context.project.row, values, form_errors(error), task=None)
    flash(request, _("Task #${number} created.", mapping={"number": task.number}))
    return HTTPSeeOther(request.resource_url(context, str(task.number)))


# -- show -------------------------------------------------------------------------------------
@web_view(context=TaskResource, renderer="tasks/detail.jinja2", permission=Permission.VIEW,
          request_method="GET")
def task_show(context: TaskResource, request: Request) -> dict[str, Any]:
    task = context.row
    workflow = settings_of(request.registry).workflow
    identity = signed_in(request)
    links = task_links(request.dbsession, identity.viewer, task)
    return {
        "nav": "projects",
        "project": context.project.row,
        "task": task,
        "links": links,
        "blockers": open_blockers(links),
        "task_resource": context,
        "workflow": workflow,
        "comments": task_comments(request.dbsession, task.id),
        "history": activity(request.dbsession, identity.viewer, task_id=task.id,
                            limit=HISTORY_LIMIT),
        "watchers": (context.watchers if context.watchers is not None
                     else task_watchers(request.dbsession, task.id)),
        "subtasks": context.subtasks or [],
        "done_statuses": frozenset(workflow.names_in("done")),
        "can": {
            name: request.has_permission(permission, context)
            for name, permission in (
                ("edit", Permission.EDIT_TASK), ("status", Permission.SET_STATUS),
                ("assign", Permission.ASSIGN), ("delete", Permission.DELETE_TASK),
                ("comment", Permission.COMMENT), ("delete_any_comment", Permission.DELETE_COMMENT),
                ("create", Permission.CREATE_TASK),
            )
        },
        "me_id": identity.user_id,
        "comment_errors": {},
        "comment_body": "",
        "attachment_errors": {},
        **attachments_page(request, context),
    }


# -- edit -------------------------------------------------------------------------------------
def _current_values(task: Task) -> dict[str, str]:
    """The task's editable fields as the form shows them."""
    values = task_values(task)
    return {
        **values,
        "due_date": values["due_date"].isoformat() if values["due_date"] else "",
        "labels": ", ".join(values["labels"]),
        "parent": str(values["parent"]) if values["parent"] else "",
    }


def _edit_page(request: Request, context: TaskResource, values: dict[str, Any],
               base: Mapping[str, str], errors: dict[str, Any],
               conflicts: list[dict[str, Any]] | None = None,
               merge: Merge | None = None) -> dict[str, Any]:
    """The edit form; ``base`` (what the editor started from) travels in hidden fields so a
    stale save can be merged, and ``conflicts`` are the fields the editor must decide (the
    ``merge``'s other fields are already in the form)."""
    helpers = Helpers(request)
    merged = {side: format_list([helpers.field(name) for name in names], locale=helpers.locale)
              for side, names in (("theirs", merge.theirs if merge else ()),
                                  ("mine", merge.mine if merge else ()))}
    return _form_page(
        request, context.project.row, values, errors, task=context.row, base=base,
        conflicts=conflicts or [], merged=merged,
        can_assign=request.has_permission(Permission.ASSIGN, context),
        can_set_status=request.has_permission(Permission.SET_STATUS, context),
    )


@web_view(context=TaskResource, name="edit", renderer="tasks/form.jinja2",
          permission=Permission.EDIT_TASK, request_method="GET")
def task_edit(context: TaskResource, request: Request) -> dict[str, Any]:
    current = _current_values(context.row)
    return _edit_page(request, context, {**current, "version": str(context.row.version)},
                      current, {})


@web_view(context=TaskResource, name="edit", renderer="tasks/form.jinja2",
          permission=Permission.EDIT_TASK, request_method="POST")
def task_update(context: TaskResource, request: Request) -> Any:
    task = context.row
    values = form_values(request, (*TASK_FIELDS, "version"))
    base = {name: request.POST[f"base_{name}"] for name in TASK_FIELDS
            if f"base_{name}" in request.POST}
    may = actor_may(request, context)
    try:
        data = _resolve_assignee(request, context.project, values)
        # The form shows the fields the user may not change read-only (or not at all): the
        # domain leaves them out rather than refusing the form.
        changes = update_task(request.dbsession, settings_of(request.registry), task,
                              signed_in(request).user, data, may=may, drop_forbidden=True,
                              partial=True)
    except ConflictError as error:
        retry_if_raced(error)
        # Not raced: the form's version is older (it was valid, or no conflict could arise).
        return _merge_stale_edit(request, context, base, data, int(values["version"]), may)
    except DomainError as error:
        refuse(request)
        return _edit_page(request, context, values, base, form_errors(error))
    if changes:
        flash(request, _("Task #${number} saved.", mapping={"number": task.number}))
    else:
        flash(request, _("Nothing changed."))
    return redirect(request, context)


def retry_if_raced(error: ConflictError) -> None:
    """A save that lost a race (the row changed between reading and writing it) runs again
    as a whole (pyramid_retry), and then merges with the change that won."""
    if error.raced:
        mark_error_retryable(error)
        raise error


def _merge_stale_edit(request: Request, context: TaskResource, base: dict[str, str],
                      mine: dict[str, str], version: int, may: May) -> Any:
    """Save a form based on an older ``version``: merge it with the newer changes when no
    field was changed by both, else show those fields side by side to choose from."""
    task = context.row
    settings = settings_of(request.registry)
    merge = merge_task_edit(settings.workflow, task, base, mine, may=may)
    changed_by = task_changes_after(request.dbsession, task, version)
    current = _current_values(task)
    merged = {**current, **{name: mine[name] for name in merge.mine},
              "version": str(task.version)}
    if merge.conflicts:
        refuse(request, 409)
        helpers = Helpers(request)
        conflicts = [{"field": name, "label": helpers.field(name), "base": base.get(name),
                      "theirs": current[name], "mine": mine[name],
                      "changed_by": changed_by.get(name)}
                     for name in merge.conflicts]
        return _edit_page(request, context, merged, current, {}, conflicts, merge)
    if merge.mine:
        try:
            update_task(request.dbsession, settings, task, signed_in(request).user,
                        {**{name: mine[name] for name in merge.mine},
                         "version": task.version}, may=may, partial=True)
        except ConflictError as error:  # a lost race: the version was read just now
            mark_error_retryable(error)
            raise
        except DomainError as error:
            refuse(request)
            return _edit_page(request, context, merged, current, form_errors(error))
    flash(request, _merge_message(request, task.number, merge, changed_by))
    return redirect(request, context)


def _merge_message(request: Request, number: int, merge: Merge,
                   changed_by: Mapping[str, FieldChange]) -> TranslationString:
    """What a merged save did: whether the editor's changes were saved, and which newer
    changes (by whom) were kept."""
    helpers = Helpers(request)
    people = sorted({change.actor_name for name in merge.theirs
                     if (change := changed_by.get(name)) and change.actor_name})
    mapping = {
        "number": number,
        "people": format_list(people, locale=helpers.locale) if people else helpers.translate(
            _("someone else")),
        "fields": format_list([helpers.field(name) for name in merge.theirs],
                              locale=helpers.locale),
    }
    if merge.mine and merge.theirs:
        return _("Task #${number} saved and merged: ${people} changed it meanwhile, and their "
                 "changes to ${fields} were kept.", mapping=mapping)
    if merge.mine:
        return _("Task #${number} saved and merged with the changes made meanwhile.",
                 mapping=mapping)
    if merge.theirs:
        return _("Task #${number} already holds your changes; ${people} changed it "
                 "meanwhile, and their changes to ${fields} were kept.", mapping=mapping)
    return _("Task #${number} already holds your changes.", mapping=mapping)


# -- quick actions ----------------------------------------------------------------------------
def _back(request: Request, context: TaskResource) -> HTTPSeeOther:
    """Back to where the action was started (the board or the task), on this site only."""
    target = request.POST.get("next")
    if target:
        return HTTPSeeOther(safe_next(request, target))
    return redirect(request, context)


def _quick_update(request: Request, context: TaskResource, data: dict[str, Any]) -> bool:
    """Apply a one-field change based on the version the form was rendered with."""
    task = context.row
    try:
        changes = update_task(request.dbsession, settings_of(request.registry), task,
                              signed_in(request).user, {**data, "version": request.POST.get(
                                  "version") or None}, may=actor_may(request, context),
                              partial=True)
    except ConflictError:
        flash(request, _("Task #${number} was changed by someone else meanwhile; nothing was "
                         "saved. Here is its current state.", mapping={"number": task.number}),
              "error")
        return False
    except DomainError as error:
        for message in form_errors(error).values():
            flash(request, message, "error")
        return False
    return bool(changes)


@web_view(context=TaskResource, name="status", permission=Permission.SET_STATUS,
          request_method="POST")
def task_set_status(context: TaskResource, request: Request) -> HTTPSeeOther:
    status = request.POST.get("status", "")
    if _quick_update(request, context, {"status": status}):
        flash(request, _("#${number} moved to ${status}.", mapping={
            "number": context.row.number, "status": Helpers(request).status(status)}))
        _warn_past_limit(request, context, past_limit(
            request.dbsession, context.row.project_id, status, context.project.row.wip_limits))
    return _back(request, context)


def _warn_past_limit(request: Request, context: TaskResource, limit: int | None) -> None:
    """Warn (not refuse: ``domain.board``) when a move put its column past its WIP limit."""
    if limit is not None:
        flash(request, _("${status} now holds more than its WIP limit of ${limit} tasks.",
                         mapping={"status": Helpers(request).status(context.row.status),
                                  "limit": limit}), "warning")


@web_view(context=TaskResource, name="move", permission=Permission.SET_STATUS,
          request_method="POST")
def task_move(context: TaskResource, request: Request) -> HTTPSeeOther:
    """A card moved on the board: by drag and drop or the keyboard (board.js), or by its
    "Move up"/"Move down" buttons without JavaScript; back to the board."""
    task = context.row
    data = {key: request.POST[key] for key in ("status", "after", "before", "version")
            if request.POST.get(key)}
    try:
        moved = move_task(request.dbsession, settings_of(request.registry), task,
                          signed_in(request).user, data, may=actor_may(request, context),
                          wip_limits=context.project.row.wip_limits)
    except ConflictError as error:
        retry_if_raced(error)
        flash(request, _("Task #${number} was changed by someone else meanwhile; nothing was "
                         "saved. Here is its current state.", mapping={"number": task.number}),
              "error")
        return _back(request, context)
    except DomainError as error:
        for message in form_errors(error).values():
            flash(request, message, "error")
        return _back(request, context)
    helpers = Helpers(request)
    if moved.changes:
        flash(request, _("#${number} moved to ${status}.", mapping={
            "number": task.number, "status": helpers.status(task.status)}))
    else:
        flash(request, _("#${number} moved.", mapping={"number": task.number}))
    _warn_past_limit(request, context, moved.over_limit)
    return _back(request, context)


@web_view(context=TaskResource, name="assign-me", permission=Permission.ASSIGN,
          request_method="POST")
def task_assign_me(context: TaskResource, request: Request) -> HTTPSeeOther:
    if _quick_update(request, context, {"assignee": signed_in(request).username}):
        flash(request, _("Task #${number} is assigned to you.", mapping={
            "number": context.row.number}))
    return _back(request, context)


@web_view(context=TaskResource, name="assign", permission=Permission.ASSIGN,
          request_method="POST")
def task_assign(context: TaskResource, request: Request) -> HTTPSeeOther:
    """The task page's "Assign to": a username or a display name; empty for nobody."""
    typed = request.POST.get("assignee", "")
    try:
        data = _resolve_assignee(request, context.project, {"assignee": typed})
    except ValidationError as error:
        for message in error.fields.values():
            flash(request, message, "error")
        return _back(request, context)
    if _quick_update(request, context, data):
        task = context.row
        if task.assignee is None:
            flash(request, _("Task #${number} is assigned to nobody.", mapping={
                "number": task.number}))
        else:
            flash(request, _("Task #${number} is assigned to ${name}.", mapping={
                "number": task.number, "name": task.assignee.display_name}))
    return _back(request, context)


# -- delete -----------------------------------------------------------------------------------
def _delete_confirmation(context: TaskResource, request: Request) -> Response:
    task = context.row
    subtasks = subtasks_of(request.dbsession, task.id)
    message = _("The task, its comments and its history are deleted for good. This cannot "
                "be undone.")
    if subtasks:
        message = _("The task, its ${count} sub-tasks (${numbers}), their comments and "
                    "their history are deleted for good. This cannot be undone.", mapping={
                        "count": len(subtasks),
                        "numbers": ", ".join(f"#{child.number}" for child in subtasks)})
    return confirmation(
        request, nav="projects", subject=task.title,
        title=_("Delete task #${number}?", mapping={"number": task.number}),
        message=message,
        button=_("Delete task"), cancel_url=request.resource_url(context),
        fields=[("version", str(request.POST.get("version") or task.version))],
    )


@web_view(context=TaskResource, name="delete", permission=Permission.DELETE_TASK,
          request_method="GET")
def task_delete_confirm(context: TaskResource, request: Request) -> Response:
    return _delete_confirmation(context, request)


@web_view(context=TaskResource, name="delete", permission=Permission.DELETE_TASK,
          request_method="POST")
def task_delete(context: TaskResource, request: Request) -> Response:
    if not confirmed(request):
        return _delete_confirmation(context, request)
    task = context.row
    version = request.POST.get("version", "")
    try:
        delete_task(request.dbsession, task, signed_in(request).user,
                    expected_version=int(version) if version.isdigit() else None)
    except ConflictError:
        flash(request, _("Task #${number} was changed by someone else meanwhile; it was not "
                         "deleted. Check it and try again.", mapping={"number": task.number}),
              "error")
        return redirect(request, context)
    flash(request, _("Task #${number} deleted.", mapping={"number": task.number}))
    return redirect(request, context.project)


# -- sub-tasks and checklists -----------------------------------------------------------------
@web_view(context=SubtaskContainer, permission=Permission.VIEW, request_method="GET")
def task_subtasks(context: SubtaskContainer, request: Request) -> HTTPSeeOther:
    """The sub-tasks are listed on their parent's page."""
    return HTTPSeeOther(request.resource_url(context.task, anchor="subtasks"))


@web_view(context=SubtaskContainer, permission=Permission.CREATE_TASK, request_method="POST")
def task_add_subtask(context: SubtaskContainer, request: Request) -> HTTPSeeOther:
    """The task page's "Add sub-task": a title, then back to the parent's page."""
    parent = context.task
    try:
        identity = signed_in(request)
        task = add_task(request.dbsession, settings_of(request.registry), parent.project.row,
                        identity.user_id, identity.username,
                        {"title": request.POST.get("title", ""),
                         "parent": str(parent.row.number)},
                        may=actor_may(request, context), drop_forbidden=True)
    except DomainError as error:
        for message in form_errors(error).values():
            flash(request, message, "error")
    else:
        flash(request, _("Sub-task #${number} added.", mapping={"number": task.number}))
    return HTTPSeeOther(request.resource_url(parent, anchor="subtasks"))


@web_view(context=TaskResource, name="checklist", permission=Permission.EDIT_TASK,
          request_method="POST")
def task_tick(context: TaskResource, request: Request) -> HTTPSeeOther:
    """Tick or untick checklist items: the form sends the items ticked (``item``, each
    box's number) and the version the page showed; the description is rewritten and saved
    like any edit, and a stale version is refused like any stale quick change."""
    ticked = {int(value) for value in request.POST.getall("item")
              if value.isascii() and value.isdigit() and len(value) <= 6}
    description = with_items_done(context.row.description, ticked)
    if _quick_update(request, context, {"description": description}):
        flash(request, _("Checklist of #${number} saved.", mapping={
            "number": context.row.number}))
    return HTTPSeeOther(request.resource_url(context, anchor="description"))
