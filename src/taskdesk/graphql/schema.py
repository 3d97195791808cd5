"""The GraphQL schema: the root ``Query`` and the schema object with its cost limits.

Every object is reached as the JSON API reaches it: lists through the domain's read
functions, which keep only what the caller may see, in SQL; single objects by traversal of
the same tree, checked against the same ACLs. A project or task the caller may not see is
``null``, exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.types import ExecutionContext, Info

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.feeds import projects_by_id
from taskdesk.domain.links import is_blocked
from taskdesk.domain.task_list import list_tasks, parse_task_query, task_row
from taskdesk.graphql.types import (
    Me,
    Project,
    ProjectPage,
    Task,
    TaskPage,
    context_of,
    page_of,
)
from taskdesk.resources import Me as MeResource
from taskdesk.resources import ProjectResource, TaskResource
from taskdesk.security.actions import allowed_actions, hidden_project
from taskdesk.settings import TaskdeskSettings

#: The GraphQL argument of each of the JSON API's task list parameters (to name them in errors).
TASK_FILTERS = {
    "status": "status", "state": "state", "assignee": "assignee", "reporter": "reporter",
    "priority": "priority", "label": "label", "due_before": "dueBefore",
    "due_after": "dueAfter", "updated_since": "updatedSince", "q": "q", "sort": "sort",
    "blocked": "blocked", "parent": "parent", "subtasks": "subtasks",
}


def _project(info: Info[Any, Any], slug: str) -> ProjectResource | None:
    """The project ``slug`` by traversal, if the caller may see it (else None, as if there
    were none)."""
    request = context_of(info).request
    try:
        project: ProjectResource = request.root["projects"][slug]
    except KeyError:
        return None
    if hidden_project(request, project):
        return None
    context_of(info).actions.add_resource(project)
    return project


def _params(values: dict[str, Any]) -> dict[str, str]:
    """GraphQL arguments as the JSON API's query parameters (lists comma-separated)."""
    params = {}
    for name, value in values.items():
        if value is not None:
            params[name] = ",".join(value) if isinstance(value, list) else str(value)
    return params


def _tasks(info: Info[Any, Any], project: ProjectResource | None, filters: dict[str, Any],
           first: int | None, after: str | None) -> TaskPage:
    context = context_of(info)
    limit = context.first(first)
    workflow = context.settings.workflow
    try:
        query = parse_task_query(_params(filters), workflow, strict=True)
        page = list_tasks(context.request.dbsession, context.viewer, query,
                          project_id=project.row.id if project is not None else None,
                          limit=limit, cursor=after)
    except ValidationError as error:
        renamed = {"after" if name == "cursor" else TASK_FILTERS.get(name, name): message
                   for name, message in error.fields.items()}
        raise context.invalid(renamed) from None
    context.charge(len(page.items))
    actions = context.actions
    actions.load(row.project_id for row in page.items)
    done = frozenset(workflow.names_in("done"))
    return TaskPage(items=[Task.of(row, done, actions.task(row.project_id))
                           for row in page.items],
                    next_cursor=page.next_cursor)


@strawberry.type(description="Reading Taskdesk: what the JSON API shows, in one round trip.")
class Query:
    @strawberry.field(description="The signed-in caller.")
    def me(self, info: Info[Any, Any]) -> Me:
        request = context_of(info).request
        identity = request.identity
        return Me(id=identity.user_id, username=identity.username,
                  display_name=identity.display_name, is_site_admin=identity.is_site_admin,
                  locale=identity.locale, time_zone=identity.time_zone,
                  allowed=allowed_actions(request, MeResource(request, "me", request.root)))

    @strawberry.field(description="The projects the caller may see, in the order they were "
                      "created.")
    def projects(self, info: Info[Any, Any], first: int | None = None,
                 after: str | None = None) -> ProjectPage:
        context = context_of(info)
        limit = context.first(first)
        rows, cursor = page_of(projects_by_id(context.request.dbsession, context.viewer,
                                            after=context.id_cursor(after), limit=limit + 1),
                             limit)
        context.charge(len(rows))
        actions = context.actions
        actions.add_rows(rows)
        return ProjectPage(items=[Project.of(actions.resource(row.id), actions.project(row.id))
                                  for row in rows],
                           next_cursor=cursor)

    @strawberry.field(description="A project by its slug; null when there is none the caller "
                      "may see.")
    def project(self, info: Info[Any, Any], slug: str) -> Project | None:
        found = _project(info, slug)
        if found is None:
            return None
        context_of(info).charge(1)
        return Project.of(found, context_of(info).actions.project(found.row.id))

    @strawberry.field(description="Tasks, filtered and paged as the JSON API's task lists: of "
                      "one project (`project`; null when the caller may not see it), or of "
                      "every project the caller may see. Lists of values match any of them; "
                      "filters combine with AND.")
    def tasks(
        self, info: Info[Any, Any], project: str | None = None,
        status: list[str] | None = None,
        state: Annotated[list[str] | None, strawberry.argument(
            description="`open`: open and active statuses; `closed`: done and "
            "cancelled ones.")] = None,
        assignee: Annotated[str | None, strawberry.argument(
            description="`me`, `none` or a username.")] = None,
        reporter: Annotated[str | None, strawberry.argument(
            description="`me`, `none` or a username.")] = None,
        priority: list[str] | None = None,
        label: Annotated[list[str] | None, strawberry.argument(
            description="Any of these labels.")] = None,
        due_before: Annotated[str | None, strawberry.argument(
            description="Due before this day (YYYY-MM-DD).")] = None,
        due_after: Annotated[str | None, strawberry.argument(
            description="Due after this day (YYYY-MM-DD).")] = None,
        updated_since: Annotated[str | None, strawberry.argument(
            description="Changed at or after this moment (ISO 8601).")] = None,
        q: Annotated[str | None, strawberry.argument(
            description="Free text over title, description and comments.")] = None,
        sort: Annotated[str | None, strawberry.argument(
            description="`number`, `updated`, `created`, `due` or `priority`; "
            "`-` before it for descending.")] = None,
        blocked: Annotated[bool | None, strawberry.argument(
            description="`true`: only tasks blocked by a task that is not done yet (and "
            "that the caller may see); `false`: only the others.")] = None,
        parent: Annotated[int | None, strawberry.argument(
            description="Only the sub-tasks of this task (its number).")] = None,
        subtasks: Annotated[str | None, strawberry.argument(
            description="`hide`: top-level tasks only; `only`: sub-tasks only.")] = None,
        first: int | None = None, after: str | None = None,
    ) -> TaskPage | None:
        scope = None
        if project is not None:
            scope = _project(info, project)
            if scope is None:
                return None
        filters = {"status": status, "state": state, "assignee": assignee,
                   "reporter": reporter, "priority": priority, "label": label,
                   "due_before": due_before, "due_after": due_after,
                   "updated_since": updated_since, "q": q, "sort": sort,
                   "blocked": None if blocked is None else str(blocked).lower(),
                   "parent": parent, "subtasks": subtasks}
        return _tasks(info, scope, filters, first, after)

    @strawberry.field(description="A task by its project's slug and its number; null when "
                      "there is none the caller may see.")
    def task(self, info: Info[Any, Any], project: str, number: int) -> Task | None:
        scope = _project(info, project)
        if scope is None:
            return None
        try:
            found: TaskResource = scope["tasks"][str(number)]
        except KeyError:
            return None
        context = context_of(info)
        context.charge(1)
        done = frozenset(context.settings.workflow.names_in("done"))
        blocked = is_blocked(context.request.dbsession, context.viewer, found.row)
        return Task.of(task_row(found.row, scope.row, blocked=blocked), done,
                       context.actions.task(scope.row.id))


class Schema(strawberry.Schema):
    """Strawberry's schema, without its error log: refusals (limits, invalid arguments)
    are the caller's business, and any other error is raised again by the view, which
    answers and logs it as every other view does."""

    def process_errors(self, errors: Iterable[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        return None


def extensions(settings: TaskdeskSettings) -> list[Any]:
    """The cost limits from the settings (introspection off when the INI says so), as
    factories: Strawberry builds each extension afresh for every request."""
    limits: list[Any] = [
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(QueryDepthLimiter, max_depth=settings.graphql_max_depth),
        partial(MaxAliasesLimiter, max_alias_count=settings.graphql_max_aliases),
    ]
    if not settings.graphql_introspection:
        limits.append(DisableIntrospection)
    return limits


def build_schema(settings: TaskdeskSettings | None = None) -> Schema:
    """The schema, with the limits of ``settings`` (none: the SDL export's plain schema)."""
    return Schema(query=Query, extensions=extensions(settings) if settings else [])
