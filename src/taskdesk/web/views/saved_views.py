"""Saved views (save the list's or board's filters, open, rename, delete) and the task
list's bulk change with its summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain.access import may_be_assigned
from taskdesk.domain.bulk import MAX_BULK_TASKS, apply_bulk_change, read_bulk_change
from taskdesk.domain.errors import DomainError, ValidationError
from taskdesk.domain.people import resolve_person
from taskdesk.domain.saved_views import (
    ViewRow,
    create_view,
    delete_view,
    update_view,
    views_in,
)
from taskdesk.domain.schemas import TASK_QUERY
from taskdesk.domain.task_list import list_tasks, parse_task_query
from taskdesk.messages import _
from taskdesk.resources import ProjectResource, SavedViewContainer, SavedViewResource, TaskContainer
from taskdesk.security.actions import actor_may
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
from taskdesk.web.declare import web_view
from taskdesk.web.forms import confirmation, confirmed, flash, form_errors, redirect, refuse

#: The web list's "all tasks" (``state=all``) as a stored filter: both categories.
ALL_STATES = "open,closed"
#: What the board leaves out of a view's filters (it has a column per status).
BOARD_IGNORES = ("status", "state", "sort")
#: The prefix of the list's filters carried in the bulk form (whose own fields are
#: ``status``, ``priority``...).
FILTER_PREFIX = "filter_"


def view_links(request: Request, project: ProjectResource, views: list[ViewRow],
               page: str) -> list[dict[str, Any]]:
    """The tabs of the saved views on the list (``page`` ``""``) or the board (``board``):
    each view's name, its URL with its filters, and whether it is the one shown."""
    shown = request.GET.get("view", "")
    me = request.authenticated_userid
    manager = request.has_permission(Permission.MANAGE_PROJECT, project)
    tabs = []
    for row in views:
        params = web_params(row.filters)
        if page == "board":
            params = {k: v for k, v in params.items() if k not in BOARD_IGNORES}
        params["view"] = str(row.id)
        tabs.append({"id": row.id, "name": row.name, "shared": row.shared,
                     "url": request.resource_url(project, *((page,) if page else ()),
                                                 query=params),
                     "current": shown == str(row.id),
                     "editable": not project.row.is_archived and (
                         row.owner_id == me or (row.shared and bool(manager))),
                     "edit_url": request.resource_url(project, "views", str(row.id), "edit")})
    return tabs


def views_page(request: Request, project: ProjectResource, page: str) -> dict[str, Any]:
    """What the list and the board show of saved views: the tabs (one statement) and the
    save form's choices."""
    views = views_in(request.dbsession, project.row.id, request.authenticated_userid)
    return {"views": view_links(request, project, views, page),
            "can_share": request.has_permission(Permission.EDIT_TASK, project),
            "view_page": page}


def web_params(filters: Mapping[str, str]) -> dict[str, str]:
    """A view's stored filters as the web list's URL parameters (``state=all`` again)."""
    params = dict(filters)
    if params.get("state") == ALL_STATES:
        params["state"] = "all"
    return params


def _posted_filters(request: Request) -> dict[str, str]:
    """The list filters the save form carries, as stored (the web list's default state,
    open tasks, written out, so the view means the same in the API)."""
    filters = {key: value.strip() for key, value in request.POST.items()
               if key in TASK_QUERY.keys and value.strip()}
    if request.POST.get("page") != "board":
        state = filters.get("state") or ("all" if filters.get("status") else "open")
        filters["state"] = ALL_STATES if state == "all" else state
    return filters


def _form(request: Request, project: ProjectResource, values: Mapping[str, Any],
          errors: Mapping[str, Any], view: SavedViewResource | None = None) -> dict[str, Any]:
    return {"nav": "projects", "project": project.row, "values": values, "errors": errors,
            "view": view.row if view is not None else None,
            "can_share": request.has_permission(Permission.EDIT_TASK, project)}


@web_view(context=SavedViewContainer, permission=Permission.VIEW, request_method="GET")
def view_container(context: SavedViewContainer, request: Request) -> HTTPSeeOther:
    """The views are tabs on the task list."""
    return redirect(request, context.project)


@web_view(context=SavedViewContainer, permission=Permission.VIEW, request_method="POST",
          renderer="views/form.jinja2")
def view_create(context: SavedViewContainer, request: Request) -> Any:
    """Save the filters the list or board shows (hidden fields) under a name."""
    project = context.project
    filters = _posted_filters(request)
    values = {"name": request.POST.get("name", ""),
              "shared": request.POST.get("shared", ""), "filters": filters}
    try:
        row = create_view(request.dbsession, settings_of(request.registry).workflow,
                          project.row.id, signed_in(request).user, values,
                          may=actor_may(request, project))
    except DomainError as error:
        refuse(request)
        return _form(request, project, {**values, "page": request.POST.get("page", "")},
                     form_errors(error))
    flash(request, _("View “${name}” saved.", mapping={"name": row.name}))
    page = "board" if request.POST.get("page") == "board" else ""
    params = web_params(row.params)
    if page:
        params = {k: v for k, v in params.items() if k not in BOARD_IGNORES}
    return HTTPSeeOther(request.resource_url(project, *((page,) if page else ()),
                                             query={**params, "view": str(row.id)}))


@web_view(context=SavedViewResource, permission=Permission.VIEW, request_method="GET")
def view_open(context: SavedViewResource, request: Request) -> HTTPSeeOther:
    """A view's own URL opens the task list with its filters."""
    return HTTPSeeOther(request.resource_url(context.project, query={
        **web_params(context.row.params), "view": str(context.row.id)}))


@web_view(context=SavedViewResource, name="edit", permission=Permission.CHANGE_VIEW,
          request_method="GET", renderer="views/form.jinja2")
def view_edit(context: SavedViewResource, request: Request) -> dict[str, Any]:
    row = context.row
    return _form(request, context.project, {"name": row.name, "shared": row.shared,
                                            "filters": row.params}, {}, context)


@web_view(context=SavedViewResource, name="edit", permission=Permission.CHANGE_VIEW,
          request_method="POST", renderer="views/form.jinja2")
def view_update(context: SavedViewResource, request: Request) -> Any:
    values = {"name": request.POST.get("name", ""), "shared": request.POST.get("shared", "")}
    try:
        update_view(request.dbsession, settings_of(request.registry).workflow, context.row,
                    values, may=actor_may(request, context.project))
    except DomainError as error:
        refuse(request)
        return _form(request, context.project, {**values, "filters": context.row.params},
                     form_errors(error), context)
    flash(request, _("View “${name}” saved.", mapping={"name": context.row.name}))
    return view_open(context, request)


def _delete_confirmation(context: SavedViewResource, request: Request) -> Response:
    return confirmation(
        request, nav="projects", subject=context.row.name,
        title=_("Delete this view?"),
        message=_("Only the saved filters are deleted; no task changes."),
        button=_("Delete view"), cancel_url=request.resource_url(context, "edit"), fields=[])


@web_view(context=SavedViewResource, name="delete", permission=Permission.CHANGE_VIEW,
          request_method="GET")
def view_delete_confirm(context: SavedViewResource, request: Request) -> Response:
    return _delete_confirmation(context, request)


@web_view(context=SavedViewResource, name="delete", permission=Permission.CHANGE_VIEW,
          request_method="POST")
def view_delete(context: SavedViewResource, request: Request) -> Response:
    if not confirmed(request):
        return _delete_confirmation(context, request)
    delete_view(request.dbsession, context.row)
    flash(request, _("View “${name}” deleted.", mapping={"name": context.row.name}))
    return redirect(request, context.project)


# -- bulk change ------------------------------------------------------------------------------
def _list_params(request: Request) -> dict[str, str]:
    """The list's filters the bulk form carried (to go back to the same list)."""
    return {key.removeprefix(FILTER_PREFIX): value for key, value in request.POST.items()
            if key.startswith(FILTER_PREFIX) and value}


def _all_matching(request: Request, project: ProjectResource) -> list[str]:
    """Every task the carried filters match, as ``number:version`` (read now; the ones the
    page showed keep the version it showed), or ValidationError past the maximum."""
    workflow = settings_of(request.registry).workflow
    params = _list_params(request)
    state = params.get("state") or ("all" if params.get("status") else "open")
    params["state"] = "" if state == "all" else state
    query = parse_task_query(params, workflow)
    page = list_tasks(request.dbsession, signed_in(request).viewer, query,
                      project_id=project.row.id, limit=MAX_BULK_TASKS)
    if page.next_cursor is not None:
        raise ValidationError({"tasks": _(
            "More than ${n} tasks match: narrow the filters (at most ${n} at once).",
            mapping={"n": MAX_BULK_TASKS})})
    shown = {item.partition(":")[0]: item for item in request.POST.getall("task")}
    return [shown.get(str(row.number), f"{row.number}:{row.version}") for row in page.items]


def _bulk_data(request: Request, project: ProjectResource) -> dict[str, Any]:
    """The posted change as the domain reads it: blank fields change nothing."""
    post = request.POST
    data: dict[str, Any] = {"tasks": _all_matching(request, project)
                            if post.get("all_matching") else post.getall("task")}
    for name in ("status", "priority", "add_labels", "remove_labels", "due_date"):
        if post.get(name, "").strip():
            data[name] = post[name]
    if post.get("clear_due_date"):
        data["due_date"] = None
    typed = post.get("assignee", "").strip()
    if typed.lower() == "none":
        data["assignee"] = ""
    elif typed.lower() == "me":
        data["assignee"] = signed_in(request).username
    elif typed:
        data["assignee"] = resolve_person(request.dbsession, typed, field="assignee",
                                          prefer=may_be_assigned(project.row.id)).username
    if post.get("delete"):
        data["delete"] = "on"
    return data


@web_view(context=TaskContainer, name="bulk", permission=Permission.VIEW,
          request_method="GET")
def task_bulk_page(context: TaskContainer, request: Request) -> HTTPSeeOther:
    """The summary's URL read again (a reload, the page's live updates): the list."""
    return redirect(request, context.project)


@web_view(context=TaskContainer, name="bulk", permission=Permission.VIEW,
          request_method="POST", renderer="tasks/bulk.jinja2")
def task_bulk(context: TaskContainer, request: Request) -> Any:
    """Apply the list's bulk change and show what changed and what was refused."""
    project = context.project
    settings = settings_of(request.registry)
    back = request.resource_url(project, query=_list_params(request))
    try:
        data = _bulk_data(request, project)
        change = read_bulk_change(settings.workflow, data)
    except ValidationError as error:
        refuse(request)
        return {"nav": "projects", "project": project.row, "results": [], "errors": error.fields,
                "back": back}
    if change.delete and not confirmed(request):
        return confirmation(
            request, nav="projects", title=_("Delete ${count} tasks?", mapping={
                "count": len(change.tasks)}),
            message=_("The tasks, their sub-tasks, comments and history are deleted for "
                      "good. This cannot be undone."),
            button=_("Delete tasks"), cancel_url=back,
            fields=[*((FILTER_PREFIX + k, v) for k, v in _list_params(request).items()),
                    *(("task", f"{t.number}:{t.version}") for t in change.tasks),
                    ("delete", "on")])
    results = apply_bulk_change(request.dbsession, settings, project.entity(),
                                signed_in(request).user, change, may=actor_may(request, context))
    return {"nav": "projects", "project": project.row, "results": results, "errors": {},
            "back": back,
            "changed": [r for r in results if r.outcome in ("changed", "deleted")],
            "unchanged": [r for r in results if r.outcome == "unchanged"],
            "refused": [r for r in results if r.outcome == "refused"]}
