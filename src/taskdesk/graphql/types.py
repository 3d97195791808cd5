"""The GraphQL object types: what the JSON API's resources are, with ``allowed`` on each.

Values come from the domain's read rows (plain columns, as the JSON lists use); nested
lists resolve through the request's batch loaders (:mod:`taskdesk.graphql.context`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from taskdesk.domain.cursor import encode_id_cursor
from taskdesk.domain.feeds import ActivityRow, CommentRow, MemberRow
from taskdesk.domain.task_list import TaskRow
from taskdesk.graphql.context import Context
from taskdesk.resources import ProjectResource

ALLOWED = "The permissions the caller holds on it (as `allowed` in the JSON API)."


def context_of(info: Info[Any, Any]) -> Context:
    context: Context = info.context
    return context


def page_of(rows: list[Any], limit: int) -> tuple[list[Any], str | None]:
    """A page of rows read with ``limit + 1`` and the cursor after it (None: last page)."""
    if len(rows) <= limit:
        return rows, None
    kept = rows[:limit]
    return kept, encode_id_cursor(kept[-1].id)


@strawberry.type(description="A person, as tasks and comments name them.")
class User:
    username: str
    display_name: str


def _person(username: str | None, name: str | None) -> User | None:
    return User(username=username, display_name=name or "") if username is not None else None


@strawberry.type(description="The signed-in caller.")
class Me:
    id: int
    username: str
    display_name: str
    is_site_admin: bool
    locale: str | None
    time_zone: str | None = strawberry.field(
        description="The IANA zone web pages show this user times in; null for the site's.")
    allowed: list[str] = strawberry.field(description=ALLOWED)

    @strawberry.field(description="The caller's e-mail address.")
    def email(self, info: Info[Any, Any]) -> str:
        user = context_of(info).request.identity.user
        return str(user.email)


@strawberry.type(description="A member of a project: a user or a group, with its role.")
class Member:
    principal: str = strawberry.field(description="`user:<username>` or `group:<name>`.")
    kind: str
    name: str
    display_name: str
    role: str
    allowed: list[str] = strawberry.field(description=ALLOWED)

    @classmethod
    def of(cls, row: MemberRow, allowed: list[str]) -> Member:
        name = row.username or row.name
        return cls(principal=f"{row.kind}:{name}", kind=row.kind, name=name,
                   display_name=row.name, role=row.role, allowed=allowed)


@strawberry.type(description="A page of members; `nextCursor` goes in `after` for the next.")
class MemberPage:
    items: list[Member]
    next_cursor: str | None


@strawberry.type(description="A project the caller may see.")
class Project:
    id: int
    slug: str
    name: str
    description: str
    visibility: str = strawberry.field(description="`private` or `internal`.")
    archived: bool
    created_at: datetime
    updated_at: datetime
    allowed: list[str] = strawberry.field(description=ALLOWED)

    @classmethod
    def of(cls, project: ProjectResource, allowed: list[str]) -> Project:
        row = project.row
        return cls(id=row.id, slug=row.slug, name=row.name, description=row.description,
                   visibility=row.visibility, archived=row.is_archived,
                   created_at=row.created_at, updated_at=row.updated_at, allowed=allowed)

    @strawberry.field(description="Its members and their roles, in the order they joined.")
    async def members(self, info: Info[Any, Any], first: int | None = None,
                      after: str | None = None) -> MemberPage:
        context = context_of(info)
        limit = context.first(first)
        rows = await context.members.load((self.id, context.id_cursor(after), limit + 1, False))
        items, cursor = page_of(rows, limit)
        context.charge(len(items))
        allowed = context.actions.member(self.id)
        return MemberPage(items=[Member.of(row, allowed) for row in items], next_cursor=cursor)


@strawberry.type(description="A comment on a task.")
class Comment:
    id: int
    body: str
    author: User | None = strawberry.field(description="Null once the author is deleted.")
    created_at: datetime
    updated_at: datetime
    version: int
    allowed: list[str] = strawberry.field(description=ALLOWED)

    @classmethod
    def of(cls, row: CommentRow, allowed: list[str]) -> Comment:
        return cls(id=row.id, body=row.body, author=_person(row.author, row.author_name),
                   created_at=row.created_at, updated_at=row.updated_at, version=row.version,
                   allowed=allowed)


@strawberry.type(description="A page of comments; `nextCursor` goes in `after` for the next.")
class CommentPage:
    items: list[Comment]
    next_cursor: str | None


@strawberry.type(description="One change in a task's history.")
class Activity:
    id: int
    action: str
    actor: User | None
    changes: JSON = strawberry.field(description="`{field: [old, new]}`")
    created_at: datetime

    @classmethod
    def of(cls, row: ActivityRow) -> Activity:
        return cls(id=row.id, action=row.action,
                   actor=_person(row.actor_username, row.actor_name),
                   changes=cast(JSON, row.changes or {}), created_at=row.created_at)


@strawberry.type(description="A page of history; `nextCursor` goes in `after` for the next.")
class ActivityPage:
    items: list[Activity]
    next_cursor: str | None


@strawberry.type(description="A task's checklist: its ticked and all items.")
class Checklist:
    done: int
    total: int


@strawberry.type(description="A task.")
class Task:
    id: int
    number: int
    title: str
    description: str
    status: str
    completed: bool = strawberry.field(description="Whether the status is a done status.")
    priority: str
    assignee: User | None
    due_date: date | None
    labels: list[str]
    parent: int | None = strawberry.field(
        description="Number of the task (same project) this one is a sub-task of.")
    checklist: Checklist = strawberry.field(
        description="Markdown task-list items (`- [ ]`, `- [x]`) of the description.")
    blocked: bool = strawberry.field(
        description="Blocked by a task that is not done yet (only tasks the caller may see "
        "count).")
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    version: int
    allowed: list[str] = strawberry.field(description=ALLOWED)
    project_id: strawberry.Private[int]
    reporter_username: strawberry.Private[str | None]

    @classmethod
    def of(cls, row: TaskRow, done: frozenset[str], allowed: list[str]) -> Task:
        return cls(
            id=row.id, number=row.number, title=row.title, description=row.description,
            status=row.status, completed=row.status in done, priority=row.priority,
            assignee=_person(row.assignee, row.assignee_name), due_date=row.due_date,
            labels=list(row.labels), parent=row.parent,
            checklist=Checklist(done=row.checklist_done, total=row.checklist_total),
            blocked=row.blocked, created_at=row.created_at, updated_at=row.updated_at,
            completed_at=row.completed_at, version=row.version, allowed=allowed,
            project_id=row.project_id, reporter_username=row.reporter,
        )

    @strawberry.field(description="The project the task is in.")
    def project(self, info: Info[Any, Any]) -> Project:
        # Loaded with the task already (for its ``allowed``): no statement, and a plain
        # resolver costs less than an awaited one.
        actions = context_of(info).actions
        return Project.of(actions.resource(self.project_id), actions.project(self.project_id))

    @strawberry.field(description="Who reported it; null once that account is deleted.")
    async def reporter(self, info: Info[Any, Any]) -> User | None:
        if self.reporter_username is None:
            return None
        name = await context_of(info).display_names.load(self.reporter_username)
        return _person(self.reporter_username, name)

    @strawberry.field(description="Its comments, oldest first; `newestFirst: true` for the "
                      "latest ones first (`comments(first: 3, newestFirst: true)`: the last "
                      "three).")
    async def comments(self, info: Info[Any, Any], first: int | None = None,
                       after: str | None = None, newest_first: bool = False) -> CommentPage:
        context = context_of(info)
        limit = context.first(first)
        rows = await context.comments.load(
            (self.id, context.id_cursor(after), limit + 1, newest_first))
        items, cursor = page_of(rows, limit)
        context.charge(len(items))
        actions = context.actions
        return CommentPage(
            items=[Comment.of(row, actions.comment(self.project_id, row.author_id))
                   for row in items],
            next_cursor=cursor)

    @strawberry.field(description="Its history, oldest first.")
    async def activity(self, info: Info[Any, Any], first: int | None = None,
                       after: str | None = None) -> ActivityPage:
        context = context_of(info)
        limit = context.first(first)
        rows = await context.activity.load((self.id, context.id_cursor(after), limit + 1, False))
        items, cursor = page_of(rows, limit)
        context.charge(len(items))
        return ActivityPage(items=[Activity.of(row) for row in items], next_cursor=cursor)


@strawberry.type(description="A page of tasks; `nextCursor` goes in `after` for the next.")
class TaskPage:
    items: list[Task]
    next_cursor: str | None


@strawberry.type(description="A page of projects; `nextCursor` goes in `after` for the next.")
class ProjectPage:
    items: list[Project]
    next_cursor: str | None
