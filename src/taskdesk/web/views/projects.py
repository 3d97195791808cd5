"""Projects: list, create, settings (incl. archive) and the activity of one project."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from taskdesk.domain.errors import DomainError
from taskdesk.domain.feeds import project_summaries
from taskdesk.domain.projects import archive_project, create_project, update_project
from taskdesk.domain.schemas import ProjectsPage
from taskdesk.messages import _
from taskdesk.resources import ProjectContainer, ProjectResource
from taskdesk.security.actions import actor_may
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from taskdesk.settings import settings_of
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

PROJECT_FIELDS = ("slug", "name", "description", "visibility")
SETTINGS_FIELDS = ("name", "description", "visibility")
#: The projects page lists at most this many projects (archived ones last).
PROJECT_LIST_LIMIT = 500


@web_view(context=ProjectContainer, renderer="projects/list.jinja2",
          permission=Permission.SIGNED_IN, request_method="GET")
def project_list(context: ProjectContainer, request: Request) -> dict[str, Any]:
    settings = settings_of(request.registry)
    projects = project_summaries(request.dbsession, signed_in(request).viewer, settings.workflow,
                                 limit=PROJECT_LIST_LIMIT)
    return {
        "nav": "projects",
        "projects": projects,
        "truncated": len(projects) == PROJECT_LIST_LIMIT,
        "can_create": request.has_permission(Permission.CREATE_PROJECT, request.root),
    }


@web_view(context=ProjectContainer, name=ProjectsPage.NEW, renderer="projects/new.jinja2",
          permission=Permission.CREATE_PROJECT, request_method="GET")
def project_new(context: ProjectContainer, request: Request) -> dict[str, Any]:
    return {"nav": "projects", "values": {"visibility": "private"}, "errors": {}}


@web_view(context=ProjectContainer, name=ProjectsPage.NEW, renderer="projects/new.jinja2",
          permission=Permission.CREATE_PROJECT, request_method="POST")
def project_create(context: ProjectContainer, request: Request) -> Any:
    values = form_values(request, PROJECT_FIELDS)
    try:
        project = create_project(request.dbsession, signed_in(request).user, values)
    except DomainError as error:
        refuse(request)
        return {"nav": "projects", "values": values, "errors": form_errors(error)}
    flash(request, _("Project “${name}” created.", mapping={"name": project.name}))
    return HTTPSeeOther(request.resource_url(context, project.slug, ""))


def _settings_page(request: Request, context: ProjectResource, values: dict[str, Any],
                   errors: dict[str, Any]) -> dict[str, Any]:
    return {"nav": "projects", "project": context.row, "values": values, "errors": errors,
            "tab": "settings", "statuses": settings_of(request.registry).workflow.statuses}


def _wip_field(status: str) -> str:
    """The settings form's field of a status's WIP limit."""
    return f"wip_{status}"


@web_view(context=ProjectResource, name="settings", renderer="projects/settings.jinja2",
          permission=Permission.MANAGE_PROJECT, request_method="GET")
def project_settings(context: ProjectResource, request: Request) -> dict[str, Any]:
    row = context.row
    values = {"name": row.name, "description": row.description, "visibility": row.visibility,
              **{_wip_field(status): str(limit) for status, limit in row.wip_limits.items()}}
    return _settings_page(request, context, values, {})


@web_view(context=ProjectResource, name="settings", renderer="projects/settings.jinja2",
          permission=Permission.MANAGE_PROJECT, request_method="POST")
def project_settings_save(context: ProjectResource, request: Request) -> Any:
    workflow = settings_of(request.registry).workflow
    values = form_values(request, (*SETTINGS_FIELDS,
                                   *(_wip_field(name) for name in workflow.status_names)))
    data: dict[str, Any] = {name: values[name] for name in SETTINGS_FIELDS if name in values}
    if any(_wip_field(name) in values for name in workflow.status_names):
        data["wip_limits"] = {name: values.get(_wip_field(name), "")
                              for name in workflow.status_names}
    try:
        changes = update_project(request.dbsession, context.entity(), signed_in(request).user,
                                 data, may=actor_may(request, context), workflow=workflow,
                                 partial=True)
    except DomainError as error:
        refuse(request)
        return _settings_page(request, context, values, form_errors(error))
    if changes:
        flash(request, _("Project settings saved."))
    else:
        flash(request, _("Nothing changed."))
    return redirect(request, context, "settings")


@web_view(context=ProjectResource, name="archive",
          permission=Permission.ARCHIVE_PROJECT, request_method="POST")
def project_archive(context: ProjectResource, request: Request) -> Response:
    if not confirmed(request):
        return confirmation(
            request, nav="projects",
            title=_("Archive ${name}?", mapping={"name": context.row.name}),
            message=_("An archived project stays visible but becomes read-only for everyone, "
                      "site administrators included. Its managers and site administrators "
                      "can unarchive it."),
            button=_("Archive project"), cancel_url=request.resource_url(context, "settings"))
    archive_project(request.dbsession, context.entity(), signed_in(request).user, True)
    flash(request, _("Project archived: it is read-only now. To undo this, press "
                     "“Unarchive”."))
    return redirect(request, context)


@web_view(context=ProjectResource, name="unarchive",
          permission=Permission.ARCHIVE_PROJECT, request_method="POST")
def project_unarchive(context: ProjectResource, request: Request) -> HTTPSeeOther:
    archive_project(request.dbsession, context.entity(), signed_in(request).user, False)
    flash(request, _("Project unarchived: it can be changed again."))
    return redirect(request, context)
