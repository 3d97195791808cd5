"""Projects: list, create, show, change, archive (DELETE)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from taskdesk.api import conditional
from taskdesk.api.operations import api_view
from taskdesk.api.paging import id_page, next_url, page, simple_list
from taskdesk.api.rendering import json_body
from taskdesk.api.representations import Urls, project_json, version_of
from taskdesk.api.support import actor, created, viewer
from taskdesk.domain.feeds import projects_by_id
from taskdesk.domain.projects import archive_project, create_project, update_project
from taskdesk.domain.schemas import PROJECT_CREATE, project_update_schema
from taskdesk.resources import (
    ProjectContainer,
    ProjectResource,
    ProjectSnapshot,
    project_memberships,
    project_resource,
)
from taskdesk.security.actions import ListActions, actor_may, allowed_actions
from taskdesk.security.permissions import Permission
from taskdesk.settings import TaskdeskSettings, settings_of


def update_schema(project_settings: TaskdeskSettings) -> Any:
    return project_update_schema(project_settings.workflow.status_names)


def _state(project: ProjectResource) -> str:
    return conditional.state("project", project.row.id, version_of(project.row.updated_at))


def _body(request: Request, project: ProjectResource) -> dict[str, Any]:
    return project_json(Urls(request), project.row, allowed_actions(request, project))


def _show(request: Request, project: ProjectResource) -> dict[str, Any] | Response:
    return conditional.respond(request, _body(request, project), _state(project))


@api_view(context=ProjectContainer, method="GET", permission=Permission.SIGNED_IN,
          summary="Projects the caller may see", response="ProjectList", query="page",
          conditional=True)
def project_list(context: ProjectContainer, request: Request) -> Response:
    params, paging, after = simple_list(request)
    rows, cursor = id_page(
        projects_by_id(request.dbsession, viewer(request), after=after, limit=paging.limit + 1,
                       offset=paging.offset),
        paging,
    )
    actions = ListActions(request)
    actions.add_rows(rows)
    urls = Urls(request)
    items = [project_json(urls, row, actions.project(row.id)) for row in rows]
    return page(request, items, next_url(request, params, paging, cursor))


@api_view(context=ProjectContainer, method="POST", permission=Permission.CREATE_PROJECT,
          summary="Create a project (its creator becomes its manager)", response="Project",
          status=201, body=PROJECT_CREATE)
def project_create(context: ProjectContainer, request: Request) -> dict[str, Any]:
    row = create_project(request.dbsession, actor(request), json_body(request), strict=True)
    project = project_resource(request, ProjectSnapshot.of(
        row, project_memberships(request.dbsession, row.id)), context)
    body = conditional.tagged(request, _body(request, project), _state(project))
    return created(request, body, body["url"])


@api_view(context=ProjectResource, method="GET", permission=Permission.VIEW,
          summary="A project", response="Project", conditional=True)
def project_show(context: ProjectResource, request: Request) -> dict[str, Any] | Response:
    return _show(request, context)


@api_view(context=ProjectResource, method="PATCH", permission=Permission.VIEW,
          summary="Change a project's name, description, visibility, WIP limits or archived "
          "flag", response="Project", body=update_schema, partial=True, conditional=True,
          description="`name`, `description`, `visibility` and `wip_limits` need "
          "`manage_project`; "
          "`archived` needs `archive_project`. An archived project is read-only for "
          "everyone: the only change it accepts is `{\"archived\": false}`.")
def project_update(context: ProjectResource, request: Request) -> dict[str, Any]:
    data = json_body(request)
    conditional.check_if_match(request, _state(context))
    update_project(request.dbsession, context.entity(), actor(request), data,
                   may=actor_may(request, context),
                   workflow=settings_of(request.registry).workflow, partial=True, strict=True)
    changed = context.changed()
    return conditional.tagged(request, _body(request, changed), _state(changed))


@api_view(context=ProjectResource, method="DELETE", permission=Permission.ARCHIVE_PROJECT,
          summary="Archive a project (read-only from then on; nothing is deleted)",
          response="Project", conditional=True)
def project_archive(context: ProjectResource, request: Request) -> dict[str, Any]:
    conditional.check_if_match(request, _state(context))
    archive_project(request.dbsession, context.entity(), actor(request), True)
    changed = context.changed()
    return conditional.tagged(request, _body(request, changed), _state(changed))
