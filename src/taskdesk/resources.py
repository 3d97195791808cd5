"""The traversal tree: Root / projects / <slug> / tasks / <number> / comments / <id>.

Every resource knows its ``__name__`` and ``__parent__``, so ACLs inherit up the lineage and
``request.resource_url`` builds every link. A container's ``__getitem__`` does one lookup and
raises ``KeyError`` for anything unknown or malformed, which Pyramid answers with 404.

``__acl__`` is a method computed from rows (memberships, visibility, archived flag) and the
role map in the settings; only role assignments live in tables.

Feature packages hang their own children on the tree with the ``add_resource_child``
config directive instead of editing these classes, e.g.
``config.add_resource_child(Root, "reports", ReportsResource)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Deny, Everyone
from pyramid.config import Configurator
from pyramid.request import Request
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from taskdesk.domain.access import Viewer
from taskdesk.domain.accounts import feed_owner
from taskdesk.domain.attachments import find_attachment
from taskdesk.domain.links import LinkRow, find_link
from taskdesk.domain.saved_views import find_view
from taskdesk.domain.schemas import GROUP_PATTERN, SLUG_PATTERN, USERNAME_PATTERN
from taskdesk.domain.task_list import TaskRow, read_task
from taskdesk.domain.tasks import Subtask
from taskdesk.domain.watching import Watcher
from taskdesk.models import (
    ApiToken,
    Attachment,
    Comment,
    Group,
    Project,
    ProjectMember,
    ProjectWatcher,
    SavedView,
    Task,
    TaskWatcher,
    User,
    Webhook,
    WebhookDelivery,
    read_rows,
)
from taskdesk.models.meta import json_array_agg
from taskdesk.security.permissions import ARCHIVED_DENIED, ARCHIVED_PERMISSIONS, Permission
from taskdesk.security.principals import SITE_ADMIN, group_principal, user_principal
from taskdesk.settings import TaskdeskSettings, settings_of

ACE = tuple[str, str, Any]
ChildFactory = Callable[[Any, str], Any]

_SLUG = re.compile(SLUG_PATTERN)
_NUMBER = re.compile(r"[1-9][0-9]{0,9}")
_USERNAME = re.compile(USERNAME_PATTERN)
_GROUP = re.compile(GROUP_PATTERN)
_MAX_ID = 2**31 - 1
#: A feed address's secret (``taskdesk.security.secrets.new_secret``).
_FEED_SECRET = re.compile(r"td_[A-Za-z0-9_-]{43}")


def parse_number(key: str) -> int:
    """A positive id or number from a path segment, or KeyError (404)."""
    if not _NUMBER.fullmatch(key) or int(key) > _MAX_ID:
        raise KeyError(key)
    return int(key)


class Resource:
    """Base of every tree node: location-aware, with optional registered children."""

    __name__: str = ""
    __parent__: Resource | None = None

    def __init__(self, request: Request, name: str = "", parent: Resource | None = None):
        self.request = request
        self.__name__ = name
        self.__parent__ = parent

    @property
    def settings(self) -> TaskdeskSettings:
        return settings_of(self.request.registry)

    @property
    def dbsession(self) -> Any:
        return self.request.dbsession

    def static_children(self) -> dict[str, ChildFactory]:
        return {}

    def child(self, name: str) -> Any:
        """A child from the class's own children or those registered by feature packages."""
        factory = self.static_children().get(name)
        if factory is None:
            for cls in type(self).__mro__:
                factory = _extensions(self.request).get((cls, name))
                if factory is not None:
                    break
        if factory is None:
            raise KeyError(name)
        return factory(self, name)

    def __acl__(self) -> list[ACE]:
        return []


def _extensions(request: Request) -> dict[tuple[type, str], ChildFactory]:
    return request.registry.setdefault("taskdesk.resource_children", {})  # type: ignore[no-any-return]


class Root(Resource):
    def static_children(self) -> dict[str, ChildFactory]:
        return {
            "projects": lambda parent, name: ProjectContainer(self.request, name, parent),
            "admin": lambda parent, name: AdminArea(self.request, name, parent),
            "me": lambda parent, name: Me(self.request, name, parent),
            "feeds": lambda parent, name: FeedContainer(self.request, name, parent),
            "login": lambda parent, name: SignIn(self.request, name, parent),
        }

    def __getitem__(self, name: str) -> Any:
        return self.child(name)

    def __acl__(self) -> list[ACE]:
        acl: list[ACE] = [
            (Allow, SITE_ADMIN, ALL_PERMISSIONS),
            (Allow, Everyone, Permission.PUBLIC),
            (Allow, Authenticated, Permission.SIGNED_IN),
        ]
        if self.settings.project_creators == "everyone":
            acl.append((Allow, Authenticated, Permission.CREATE_PROJECT))
        return acl


class SignIn(Resource):
    """``/login``: the sign-in form, and the steps a sign-in may need after the password
    (``verify``: the second factor; ``enrol``: setting it up where it is required)."""


def root_factory(request: Request) -> Root:
    return Root(request)


# Statements every request runs are built once (building one and its cache key costs more
# than running it).
_MEMBERSHIPS = select(ProjectMember.user_id, ProjectMember.group_id, ProjectMember.role).where(
    ProjectMember.project_id == bindparam("project_id")
)
#: (user_id, group_id, role) of one membership: a user's or a group's role in a project.
Membership = tuple[int | None, int | None, str]


class ProjectSnapshot(NamedTuple):
    """A project's columns and memberships, read once: what views show and what its ACL is
    computed from. Immutable; changes go through :meth:`ProjectResource.entity`, and a
    view that shows the project after changing it asks :meth:`ProjectResource.changed`."""

    id: int
    slug: str
    name: str
    description: str
    visibility: str
    is_archived: bool
    created_at: datetime
    updated_at: datetime
    #: The board's WIP limits by status (``models.Project.wip_limits``).
    wip_limits: dict[str, int]
    memberships: tuple[Membership, ...]
    #: The ids of the people watching the whole project (read with the rest, so the project
    #: page's "Watch project" costs no statement).
    watcher_ids: tuple[int, ...] = ()

    @classmethod
    def of(cls, row: Project, memberships: Iterable[Membership],
           watcher_ids: Iterable[int] = ()) -> ProjectSnapshot:
        """The snapshot of a loaded ORM row (its current values)."""
        return cls(row.id, row.slug, row.name, row.description, row.visibility,
                   row.is_archived, row.created_at, row.updated_at, dict(row.wip_limits or {}),
                   tuple(memberships),
                   tuple(watcher_ids))


#: The columns traversal reads (every field of the snapshot but its memberships and
#: watchers).
_COLUMNS = ProjectSnapshot._fields[:-2]

#: A project's values as views read them: its snapshot, or an ORM row (a task's project,
#: a page of rows); both have these attributes.
ProjectFields = ProjectSnapshot | Project


def project_memberships(dbsession: Any, project_id: int) -> list[Membership]:
    """Every membership of one project (one statement)."""
    rows = read_rows(dbsession, _MEMBERSHIPS, {"project_id": project_id})
    return [(r.user_id, r.group_id, r.role) for r in rows]


@lru_cache
def _project_by_slug(dialect: str) -> Select[Any]:
    """A project's columns and, in the same statement, its memberships (its ACL needs them).

    Columns, not the ORM row: most requests only read the project, and loading an entity
    costs twice as much; views that change it load the row (``ProjectResource.entity``).
    """
    memberships = json_array_agg(
        dialect, ProjectMember.user_id, ProjectMember.group_id, ProjectMember.role
    )
    watchers = json_array_agg(dialect, ProjectWatcher.user_id)
    return select(
        *(getattr(Project, name) for name in _COLUMNS),
        select(memberships).where(ProjectMember.project_id == Project.id).scalar_subquery(),
        select(watchers).where(ProjectWatcher.project_id == Project.id).scalar_subquery(),
    ).where(Project.slug == bindparam("slug"))


@lru_cache
def _task_by_number(dialect: str, with_watchers: bool) -> Select[Any]:
    """A task with its project, parent, people and labels; for the web's pages
    (``with_watchers``) also, in the same statement, who watches it and its sub-tasks (the
    task page shows them). The JSON API reads watchers only where it shows them
    (``domain.watching.task_watchers``): here they would cost every API request on a task
    about 9% of its instructions."""
    statement = (
        select(Task)
        .options(joinedload(Task.project), joinedload(Task.parent), joinedload(Task.assignee),
                 joinedload(Task.reporter), selectinload(Task.label_rows))
        .where(Task.project_id == bindparam("project_id"),
               Task.number == bindparam("number"))
    )
    if not with_watchers:
        return statement
    watchers = (
        select(json_array_agg(dialect, User.id, User.username, User.display_name))
        .select_from(TaskWatcher).join(User, User.id == TaskWatcher.user_id)
        .where(TaskWatcher.task_id == Task.id, User.is_active.is_(True))
        .scalar_subquery()
    )
    child = aliased(Task, name="child")
    subtasks = (
        select(json_array_agg(dialect, child.number, child.title, child.status,
                              child.checklist_done, child.checklist_total))
        .where(child.parent_id == Task.id)
        .scalar_subquery()
    )
    return statement.add_columns(watchers, subtasks)


class ProjectContainer(Resource):
    def __getitem__(self, slug: str) -> ProjectResource:
        if not _SLUG.fullmatch(slug):
            raise KeyError(slug)
        dbsession = self.dbsession
        statement = _project_by_slug(dbsession.get_bind().dialect.name)
        found: Any = read_rows(dbsession, statement, {"slug": slug}).first()
        if found is None:
            raise KeyError(slug)
        memberships = tuple((user, group, role) for user, group, role in found[-2])
        snapshot = ProjectSnapshot._make((*found[:-2], memberships, tuple(found[-1])))
        return project_resource(self.request, snapshot, self)


def project_resource(request: Request, snapshot: ProjectSnapshot,
                     parent: Resource | None = None) -> ProjectResource:
    """The one way to build a project's resource: by traversal (``parent`` is the
    container), for a page of rows, and after a change. Without ``parent`` it hangs under
    the root's ``projects``, where traversal finds it."""
    if parent is None:
        parent = ProjectContainer(request, "projects", request.root)
    return ProjectResource(request, snapshot.slug, parent, snapshot)


class ProjectResource(Resource):
    """A project in the tree: its immutable :class:`ProjectSnapshot` as ``row``, its ACL
    computed once from it, and its ORM row on demand (``entity()``) for writes."""

    def __init__(self, request: Request, name: str, parent: Resource,
                 snapshot: ProjectSnapshot) -> None:
        super().__init__(request, name, parent)
        self.row = snapshot

    def entity(self) -> Project:
        """The project's ORM row, for changing it or its tasks: from the session when a
        statement of this request loaded it already (a task's page), else one SELECT."""
        project: Project = self.dbsession.get_one(Project, self.row.id)
        return project

    def changed(self) -> ProjectResource:
        """This project as it is after a change made through ``entity()`` (values, ACL)."""
        return project_resource(self.request, ProjectSnapshot.of(
            self.entity(), self.row.memberships, self.row.watcher_ids), self.__parent__)

    def static_children(self) -> dict[str, ChildFactory]:
        return {
            "tasks": lambda parent, name: TaskContainer(self.request, name, parent),
            "members": lambda parent, name: MemberContainer(self.request, name, parent),
            "watchers": lambda parent, name: Watchers(self.request, name, parent),
            "webhooks": lambda parent, name: WebhookContainer(self.request, name, parent),
            "views": lambda parent, name: SavedViewContainer(self.request, name, parent),
        }

    def __getitem__(self, name: str) -> Any:
        return self.child(name)

    def __acl__(self) -> list[ACE]:
        # The one ACL cache: the snapshot cannot change, so its ACL is computed once per
        # resource, however many permission checks and "allowed" lists ask for it.
        acl: list[ACE] | None = self.__dict__.get("_acl")
        if acl is None:
            acl = self.__dict__["_acl"] = self._compute_acl()
        return acl

    def _compute_acl(self) -> list[ACE]:
        roles = self.settings.roles
        archived = self.row.is_archived
        acl: list[ACE] = []
        for user_id, group_id, role in self.row.memberships:
            permissions = _granted(roles.get(role, frozenset()), archived)
            if not permissions:
                continue
            principal = user_principal(user_id) if user_id is not None else group_principal(
                group_id or 0
            )
            acl.append((Allow, principal, permissions))
        if self.row.visibility == "internal":
            acl.append((Allow, Authenticated, Permission.VIEW))
        if archived:
            # Read-only for everyone: this comes before the root's grant to site admins.
            acl.append((Deny, Everyone, ARCHIVED_DENIED))
        return acl


@lru_cache(maxsize=256)
def _granted(permissions: frozenset[Permission], archived: bool) -> frozenset[Permission]:
    """What a role's ``permissions`` grant in a project: whoever may manage it may archive
    and unarchive it; when it is archived, only that and reading."""
    if Permission.MANAGE_PROJECT in permissions:
        permissions = permissions | {Permission.ARCHIVE_PROJECT}
    return permissions & ARCHIVED_PERMISSIONS if archived else permissions


class SavedViewContainer(Resource):
    """A project's saved views (``.../views/<id>``): the shared ones and the caller's own; a
    private view of someone else is a 404 like a missing one."""

    __parent__: ProjectResource

    @property
    def project(self) -> ProjectResource:
        return self.__parent__

    def __getitem__(self, key: str) -> SavedViewResource:
        row = find_view(self.dbsession, self.project.row.id, parse_number(key),
                        self.request.authenticated_userid)
        if row is None:
            raise KeyError(key)
        return SavedViewResource(self.request, key, self, row)


class SavedViewResource(Resource):
    """One saved view. Its owner may change it; so may whoever may manage the project when
    it is shared (the project's ACL entries granting ``manage_project``, read here, not a
    check per row). An archived project's views are read-only."""

    __parent__: SavedViewContainer

    def __init__(self, request: Request, name: str, parent: SavedViewContainer,
                 row: SavedView) -> None:
        super().__init__(request, name, parent)
        self.row = row

    @property
    def project(self) -> ProjectResource:
        return self.__parent__.project

    def __acl__(self) -> list[ACE]:
        project = self.project
        if project.row.is_archived:
            return [(Deny, Everyone, Permission.CHANGE_VIEW)]
        acl: list[ACE] = [(Allow, user_principal(self.row.owner_id), Permission.CHANGE_VIEW)]
        if self.row.shared:
            acl.extend((Allow, principal, Permission.CHANGE_VIEW)
                       for action, principal, permissions in project.__acl__()
                       if action == Allow and _grants(permissions, Permission.MANAGE_PROJECT))
        return acl


def _grants(permissions: Any, permission: Permission) -> bool:
    """Whether an ACE's permissions (one name or a collection) include ``permission``."""
    return bool(permissions == permission or (
        not isinstance(permissions, str) and permission in permissions))


class TaskContainer(Resource):
    __parent__: ProjectResource

    @property
    def project(self) -> ProjectResource:
        return self.__parent__

    def __getitem__(self, key: str) -> TaskResource:
        number = parse_number(key)
        request = self.request
        # Web pages traverse without a route; the JSON API through its hybrid route.
        page = getattr(request, "matched_route", None) is None
        if not page and _reads_the_task(request):
            # The JSON of the task itself: its columns as the lists read them, no ORM row.
            identity = request.identity
            viewer = identity.viewer if identity is not None else Viewer(None)
            shown = read_task(self.dbsession, viewer, self.project.row.id, number)
            if shown is None:
                raise KeyError(key)
            return TaskResource(request, key, self, shown=shown)
        found = self.load(number, page).first()
        if found is None:
            raise KeyError(key)
        watchers = subtasks = None
        if page:
            watchers = sorted((Watcher(*item) for item in found[1] or ()),
                              key=lambda w: (w.display_name, w.user_id))
            subtasks = sorted(Subtask(*item) for item in found[2] or ())
        return TaskResource(request, key, self, found[0], watchers, subtasks)

    def load(self, number: int, page: bool = False) -> Any:
        """The result holding the task ``number`` if there is one: its ORM entity with its
        project, parent, people and labels, and for web ``page``s who watches it and its
        sub-tasks. The statement loads the project's ORM row too (``project.entity()`` finds
        it in the session): changes to the task need it."""
        dbsession = self.dbsession
        return dbsession.execute(
            _task_by_number(dbsession.get_bind().dialect.name, page),
            {"project_id": self.project.row.id, "number": number},
        )


#: Where a task is in the API's ``*traverse`` path: projects / <slug> / tasks / <number>.
_TASK_PATH_LENGTH = 4


def _reads_the_task(request: Request) -> bool:
    """Whether an API request reads the task itself (``GET .../tasks/<number>``), which shows
    its columns, rather than changing it or reaching something under it, which need its ORM
    row."""
    return (request.method in ("GET", "HEAD")
            and len(request.matchdict.get("traverse", ())) == _TASK_PATH_LENGTH)


class TaskResource(Resource):
    __parent__: TaskContainer

    def __init__(self, request: Request, name: str, parent: TaskContainer,
                 row: Task | None = None, watchers: list[Watcher] | None = None,
                 subtasks: list[Subtask] | None = None, shown: TaskRow | None = None) -> None:
        super().__init__(request, name, parent)
        self._row = row
        #: Who watches the task, by name, when traversal read it (for web pages); else None.
        self.watchers = watchers
        #: Its sub-tasks by number, when traversal read them (for web pages); else None.
        self.subtasks = subtasks
        #: The task as the lists show it to the caller (``domain.task_list.read_task``), when
        #: traversal read that instead of the ORM row (the API's GET of the task); else None.
        self.shown = shown

    @property
    def row(self) -> Task:
        """The task's ORM row, with its project, parent, people and labels: read by
        traversal, or on first use when traversal read only what the task's JSON shows."""
        row = self._row
        if row is None:
            row = self._row = self.__parent__.load(parse_number(self.__name__)).one()[0]
        return row

    @property
    def project(self) -> ProjectResource:
        return self.__parent__.project

    def static_children(self) -> dict[str, ChildFactory]:
        return {
            "comments": lambda parent, name: CommentContainer(self.request, name, parent),
            "watchers": lambda parent, name: Watchers(self.request, name, parent),
            "links": lambda parent, name: TaskLinks(self.request, name, parent),
            "subtasks": lambda parent, name: SubtaskContainer(self.request, name, parent),
            "attachments": lambda parent, name: AttachmentContainer(self.request, name,
                                                                    parent),
        }

    def __getitem__(self, name: str) -> Any:
        return self.child(name)


class TaskLinks(Resource):
    """A task's links to other tasks (``.../tasks/<number>/links``). Its children are the
    links by id, found only when the caller may see the other task: a hidden link is a 404
    like a missing one, so its existence cannot be probed."""

    __parent__: TaskResource

    @property
    def task(self) -> TaskResource:
        return self.__parent__

    def __getitem__(self, key: str) -> TaskLinkResource:
        identity = self.request.identity
        viewer = identity.viewer if identity is not None else Viewer(None)
        found = find_link(self.dbsession, viewer, self.task.row, parse_number(key))
        if found is None:
            raise KeyError(key)
        return TaskLinkResource(self.request, key, self, found)


class TaskLinkResource(Resource):
    __parent__: TaskLinks

    def __init__(self, request: Request, name: str, parent: TaskLinks, row: LinkRow) -> None:
        super().__init__(request, name, parent)
        self.row = row

    @property
    def task(self) -> TaskResource:
        return self.__parent__.task


class SubtaskContainer(Resource):
    """A task's sub-tasks, as a list (the JSON API's ``.../tasks/<n>/subtasks``); each one
    is reached at its own number under the project's tasks, so this has no children."""

    __parent__: TaskResource

    @property
    def task(self) -> TaskResource:
        return self.__parent__

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)


class CommentContainer(Resource):
    __parent__: TaskResource

    @property
    def task(self) -> TaskResource:
        return self.__parent__

    def __getitem__(self, key: str) -> CommentResource:
        comment_id = parse_number(key)
        row = self.dbsession.scalar(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(Comment.id == comment_id, Comment.task_id == self.task.row.id)
        )
        if row is None:
            raise KeyError(key)
        return CommentResource(self.request, key, self, row)


class CommentResource(Resource):
    __parent__: CommentContainer

    def __init__(self, request: Request, name: str, parent: CommentContainer, row: Comment):
        super().__init__(request, name, parent)
        self.row = row

    @property
    def task(self) -> TaskResource:
        return self.__parent__.task

    def __acl__(self) -> list[ACE]:
        # The author may edit and delete their own comment, while they may still comment
        # (see PREREQUISITES); an archived project is read-only.
        if self.task.project.row.is_archived or self.row.author_id is None:
            return []
        return [
            (Allow, user_principal(self.row.author_id),
             (Permission.EDIT_COMMENT, Permission.DELETE_COMMENT)),
        ]


class AttachmentContainer(Resource):
    """A task's attachments (its comments' included). Listing and downloading need ``view``
    on the task, uploading ``comment``."""

    __parent__: TaskResource

    @property
    def task(self) -> TaskResource:
        return self.__parent__

    def __getitem__(self, key: str) -> AttachmentResource:
        row = find_attachment(self.dbsession, self.task.row.id, parse_number(key))
        if row is None:
            raise KeyError(key)
        return AttachmentResource(self.request, key, self, row)


class AttachmentResource(Resource):
    """One attachment; its views: the JSON, ``download``, ``thumbnail``, deleting."""

    __parent__: AttachmentContainer

    def __init__(self, request: Request, name: str, parent: AttachmentContainer,
                 row: Attachment) -> None:
        super().__init__(request, name, parent)
        self.row = row

    @property
    def task(self) -> TaskResource:
        return self.__parent__.task

    def __acl__(self) -> list[ACE]:
        # The uploader may delete their own file while they may still comment (see
        # PREREQUISITES); managers hold delete_attachment through their role. An archived
        # project is read-only.
        if self.task.project.row.is_archived or self.row.uploader_id is None:
            return []
        return [(Allow, user_principal(self.row.uploader_id), Permission.DELETE_ATTACHMENT)]


class Watchers(Resource):
    """Who watches a task or a project; its one child is ``me``, the caller's own watch
    (``PUT``/``DELETE`` over the API). Watching needs only ``view`` on the watched thing."""

    __parent__: TaskResource | ProjectResource

    def __getitem__(self, key: str) -> TaskWatch | ProjectWatch:
        if key != "me":
            raise KeyError(key)
        parent = self.__parent__
        if isinstance(parent, TaskResource):
            return TaskWatch(self.request, key, self)
        return ProjectWatch(self.request, key, self)


class TaskWatch(Resource):
    """The caller's watch of a task (``.../tasks/<number>/watchers/me``)."""

    __parent__: Watchers

    @property
    def task(self) -> TaskResource:
        task = self.__parent__.__parent__
        assert isinstance(task, TaskResource)
        return task


class ProjectWatch(Resource):
    """The caller's watch of a project (``.../projects/<slug>/watchers/me``)."""

    __parent__: Watchers

    @property
    def project(self) -> ProjectResource:
        project = self.__parent__.__parent__
        assert isinstance(project, ProjectResource)
        return project


class MemberContainer(Resource):
    """Keys are ``user:<username>`` or ``group:<name>``; the membership may not exist yet."""

    __parent__: ProjectResource

    @property
    def project(self) -> ProjectResource:
        return self.__parent__

    def __getitem__(self, key: str) -> MemberResource:
        kind, _, name = key.partition(":")
        principal: User | Group | None = None
        if kind == "user" and _USERNAME.fullmatch(name):
            principal = self.dbsession.scalar(select(User).where(User.username == name))
        elif kind == "group" and _GROUP.fullmatch(name):
            principal = self.dbsession.scalar(select(Group).where(Group.name == name))
        if principal is None:
            raise KeyError(key)
        return MemberResource(self.request, key, self, principal)


class MemberResource(Resource):
    __parent__: MemberContainer

    def __init__(
        self, request: Request, name: str, parent: MemberContainer, principal: User | Group
    ) -> None:
        super().__init__(request, name, parent)
        self.principal = principal

    @property
    def project(self) -> ProjectResource:
        return self.__parent__.project


class AdminArea(Resource):
    """Site administration: its views require ``administer``, which only site admins hold."""

    def static_children(self) -> dict[str, ChildFactory]:
        return {
            "users": lambda parent, name: UserContainer(self.request, name, parent),
            "groups": lambda parent, name: GroupContainer(self.request, name, parent),
            "webhooks": lambda parent, name: WebhookContainer(self.request, name, parent),
            "audit": lambda parent, name: AuditLog(self.request, name, parent),
            "explain": lambda parent, name: Explainer(self.request, name, parent),
        }

    def __getitem__(self, name: str) -> Any:
        return self.child(name)


class AuditLog(Resource):
    """The security audit log (``/admin/audit``), for site admins."""


class Explainer(Resource):
    """The permission explainer (``/admin/explain``), for site admins."""


class WebhookContainer(Resource):
    """A project's webhooks, or under ``/admin`` the hooks for every project. Views need
    ``manage_webhooks``: a project's managers hold it there (and site admins everywhere);
    under ``/admin`` only site admins do."""

    @property
    def project(self) -> ProjectResource | None:
        parent = self.__parent__
        return parent if isinstance(parent, ProjectResource) else None

    @property
    def project_id(self) -> int | None:
        project = self.project
        return None if project is None else project.row.id

    def __getitem__(self, key: str) -> WebhookResource:
        hook = self.dbsession.get(Webhook, parse_number(key))
        if hook is None or hook.project_id != self.project_id:
            raise KeyError(key)
        return WebhookResource(self.request, key, self, hook)


class WebhookResource(Resource):
    __parent__: WebhookContainer

    def __init__(self, request: Request, name: str, parent: WebhookContainer,
                 row: Webhook) -> None:
        super().__init__(request, name, parent)
        self.row = row

    def static_children(self) -> dict[str, ChildFactory]:
        return {"deliveries": lambda parent, name: DeliveryContainer(self.request, name, parent)}

    def __getitem__(self, name: str) -> Any:
        return self.child(name)


class DeliveryContainer(Resource):
    """A webhook's delivery log."""

    __parent__: WebhookResource

    @property
    def webhook(self) -> WebhookResource:
        return self.__parent__

    def __getitem__(self, key: str) -> DeliveryResource:
        row = self.dbsession.get(WebhookDelivery, parse_number(key))
        if row is None or row.webhook_id != self.webhook.row.id:
            raise KeyError(key)
        return DeliveryResource(self.request, key, self, row)


class DeliveryResource(Resource):
    __parent__: DeliveryContainer

    def __init__(self, request: Request, name: str, parent: DeliveryContainer,
                 row: WebhookDelivery) -> None:
        super().__init__(request, name, parent)
        self.row = row

    @property
    def webhook(self) -> WebhookResource:
        return self.__parent__.webhook


class UserContainer(Resource):
    def __getitem__(self, key: str) -> UserResource:
        row = self.dbsession.get(User, parse_number(key))
        if row is None:
            raise KeyError(key)
        return UserResource(self.request, key, self, row)


class UserResource(Resource):
    def __init__(self, request: Request, name: str, parent: Resource, row: User) -> None:
        super().__init__(request, name, parent)
        self.row = row


class GroupContainer(Resource):
    def __getitem__(self, key: str) -> GroupResource:
        row = self.dbsession.get(Group, parse_number(key))
        if row is None:
            raise KeyError(key)
        return GroupResource(self.request, key, self, row)


class GroupResource(Resource):
    def __init__(self, request: Request, name: str, parent: Resource, row: Group) -> None:
        super().__init__(request, name, parent)
        self.row = row


class Me(Resource):
    """The signed-in user's own area: profile, password, sessions, API tokens, the inbox and
    the activity feed (its views are names: ``activity``, ``feed``)."""

    def static_children(self) -> dict[str, ChildFactory]:
        return {
            "tokens": lambda parent, name: TokenContainer(self.request, name, parent),
            "notifications": lambda parent, name: Inbox(self.request, name, parent),
            "two-factor": lambda parent, name: TwoFactorSettings(self.request, name, parent),
            "views": lambda parent, name: MyViews(self.request, name, parent),
        }

    def __getitem__(self, name: str) -> Any:
        return self.child(name)


class TwoFactorSettings(Resource):
    """``/me/two-factor``: setting up, and turning off, the user's own second factor."""


class Inbox(Resource):
    """The signed-in user's notifications (``/me/notifications``): only ever their own, so
    its ACL names them alone (the root's grant to every signed-in user does the same; this
    keeps it true should that grant change)."""

    def __acl__(self) -> list[ACE]:
        user_id = self.request.authenticated_userid
        if user_id is None:
            return []
        return [(Allow, user_principal(user_id), Permission.SIGNED_IN)]


class MyViews(Resource):
    """The signed-in user's private saved views across projects (``/me/views``): a list
    only; each view is reached under its project."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)


class TokenContainer(Resource):
    def __getitem__(self, key: str) -> TokenResource:
        token_id = parse_number(key)
        user_id = self.request.authenticated_userid
        row = self.dbsession.scalar(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
        )
        if row is None:
            raise KeyError(key)
        return TokenResource(self.request, key, self, row)


class TokenResource(Resource):
    def __init__(self, request: Request, name: str, parent: Resource, row: ApiToken) -> None:
        super().__init__(request, name, parent)
        self.row = row


class FeedContainer(Resource):
    """The secret Atom feed addresses (``/feeds/<secret>/``): the secret is the only
    authority, so no session or cookie is needed. A wrong secret, and a deactivated user's,
    is a 404 (one lookup by digest, ``domain.accounts.feed_owner``)."""

    def __getitem__(self, secret: str) -> FeedResource:
        owner = feed_owner(self.dbsession, secret) if _FEED_SECRET.fullmatch(secret) else None
        if owner is None:
            raise KeyError("feed")
        return FeedResource(self.request, secret, self, owner)


class FeedResource(Resource):
    """One user's feed address; its views show what ``owner`` may see now."""

    def __init__(self, request: Request, name: str, parent: Resource, owner: User) -> None:
        super().__init__(request, name, parent)
        self.owner = owner

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.owner.id, self.owner.is_site_admin)


def add_resource_child(
    config: Configurator, parent: type, name: str, factory: ChildFactory
) -> None:
    """Config directive: make ``factory(parent_resource, name)`` the child ``name`` of
    every resource of type ``parent`` (which must not be a keyed container)."""

    def register() -> None:
        config.registry.setdefault("taskdesk.resource_children", {})[(parent, name)] = factory

    config.action(("taskdesk.resource_child", parent, name), register)


def includeme(config: Configurator) -> None:
    config.set_root_factory(root_factory)
    config.add_directive("add_resource_child", add_resource_child)
