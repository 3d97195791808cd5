"""The actions a caller may take on a resource: the ``"allowed"`` lists of the API and web UI.

Each kind of resource has the permissions that matter for it; ``allowed_actions`` asks the
same ACLs the views are secured with which of them the caller holds. The answer does not
depend on the request's method, so a ``GET`` tells a client what a later ``PATCH`` may do;
a read-only token holds only the read-only permissions.

Lists must not ask per row (a permission check per row does not scale): the tasks of one
project share that project's ACL, so :class:`ListActions` computes the answer once per
project, loading the projects and their memberships of a whole page in two queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pyramid.interfaces import ISecurityPolicy
from pyramid.location import lineage
from pyramid.request import Request
from sqlalchemy import select

from taskdesk.domain.rights import May
from taskdesk.models import Comment, Project, ProjectMember, Task
from taskdesk.resources import (
    AttachmentContainer,
    AttachmentResource,
    CommentContainer,
    CommentResource,
    Me,
    MemberContainer,
    MemberResource,
    Membership,
    ProjectResource,
    ProjectSnapshot,
    TaskContainer,
    TaskLinkResource,
    TaskResource,
    TokenResource,
    WebhookResource,
    project_resource,
)
from taskdesk.security.permissions import READ_ONLY_PERMISSIONS, Permission
from taskdesk.security.policy import identity_of

P = Permission

#: The permissions reported for each kind of resource, in a stable order.
ACTIONS: dict[type, tuple[Permission, ...]] = {
    Me: (P.CREATE_PROJECT,),
    ProjectResource: (P.VIEW, P.CREATE_TASK, P.MANAGE_PROJECT, P.MANAGE_MEMBERS,
                      P.ARCHIVE_PROJECT),
    TaskResource: (P.VIEW, P.COMMENT, P.EDIT_TASK, P.SET_STATUS, P.ASSIGN, P.DELETE_TASK),
    CommentResource: (P.EDIT_COMMENT, P.DELETE_COMMENT),
    # Removing a link needs edit_task on the task it is removed from.
    TaskLinkResource: (P.EDIT_TASK,),
    MemberResource: (P.VIEW, P.MANAGE_MEMBERS),
    TokenResource: (P.SIGNED_IN,),
    WebhookResource: (P.MANAGE_WEBHOOKS,),
    AttachmentResource: (P.DELETE_ATTACHMENT,),
}

def _policy(request: Request) -> Any:
    return request.registry.getUtility(ISecurityPolicy)


def _read_only(request: Request) -> bool:
    identity = identity_of(request)
    return identity is not None and bool(identity.read_only)


def _allowed(request: Request, context: Any, permissions: Iterable[Permission]) -> list[str]:
    read_only = _read_only(request)
    wanted = [p for p in permissions if not read_only or p in READ_ONLY_PERMISSIONS]
    if not wanted:
        return []
    return [str(p) for p in _policy(request).acl_granted(request, context, wanted)]


def allowed_actions(request: Request, context: Any) -> list[str]:
    """The permissions of ``context``'s kind that the caller holds on it."""
    return _allowed(request, context, ACTIONS.get(type(context), ()))


def actions_in(request: Request, container: Any, kind: type) -> list[str]:
    """``allowed_actions`` of every resource of ``kind`` inside ``container``.

    Valid for kinds whose resources carry no ACL entries of their own (tasks, members): the
    answer for their container then holds for each of them, so a list asks once.
    """
    return _allowed(request, container, ACTIONS[kind])


def attachment_actions(request: Request, container: AttachmentContainer
                       ) -> Callable[[int | None], list[str]]:
    """``allowed`` of each attachment in ``container``, by its uploader's id, without a
    permission check per row: what the role grants (managers delete any), plus the
    uploader's own right (their ACL entry, which holds while they may comment)."""
    granted = actions_in(request, container, AttachmentResource)
    if granted:
        return lambda uploader_id: granted
    me = request.authenticated_userid
    own = (me is not None and not _read_only(request)
           and bool(request.has_permission(P.COMMENT, container)))
    delete = [str(P.DELETE_ATTACHMENT)]
    return lambda uploader_id: delete if own and uploader_id == me else []


def task_actions(request: Request, project: ProjectResource) -> list[str]:
    """``allowed_actions`` of every task in ``project``."""
    return actions_in(request, TaskContainer(request, "tasks", project), TaskResource)


class CommentActions:
    """``allowed_actions`` of the comments in one comment container (a task's).

    They depend only on whether the caller wrote the comment: the ACLs are asked once for
    each case, with a stand-in comment by the caller or by no one."""

    def __init__(self, request: Request, container: CommentContainer) -> None:
        self.request = request
        self.container = container
        self._by_author: dict[int | None, list[str]] = {}

    def __call__(self, author_id: int | None) -> list[str]:
        key = author_id if author_id == self.request.authenticated_userid else None
        if key not in self._by_author:
            stand_in = CommentResource(self.request, "0", self.container,
                                       Comment(author_id=key))
            self._by_author[key] = allowed_actions(self.request, stand_in)
        return self._by_author[key]


def actor_may(request: Request, context: Any) -> May:
    """The caller's permission predicate on ``context``, for the domain's field rules (the
    context's ACLs are read once, however often the domain asks)."""
    grants: May = _policy(request).grants(request, context)
    return grants


def hidden_project(request: Request, context: Any) -> bool:
    """Whether ``context`` lies in a project the caller may not even see (answer 404)."""
    for resource in lineage(context):
        if isinstance(resource, ProjectResource):
            return not _policy(request).acl_permits(request, resource, P.VIEW)
    return False


class ListActions:
    """``allowed`` lists for the items of one page, computed once per project."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self._projects: dict[int, ProjectResource] = {}
        self._project_actions: dict[int, list[str]] = {}
        self._task_actions: dict[int, list[str]] = {}
        self._member_actions: dict[int, list[str]] = {}
        self._comment_actions: dict[int, CommentActions] = {}

    def resource(self, project_id: int) -> ProjectResource:
        """The resource of a project loaded by ``load``/``add_rows``/``add_resource``."""
        return self._projects[project_id]

    def add_resource(self, project: ProjectResource) -> None:
        """Use a project resource already built (by traversal)."""
        self._projects.setdefault(project.row.id, project)

    def load(self, project_ids: Iterable[int]) -> None:
        """Load the projects of ``project_ids`` not known yet (and their memberships)."""
        missing = sorted(set(project_ids) - self._projects.keys())
        if missing:
            self.add_rows(
                self.request.dbsession.scalars(select(Project).where(Project.id.in_(missing)))
            )

    def add_rows(self, rows: Iterable[Project]) -> None:
        """Use loaded project rows; their memberships are loaded in one query."""
        request = self.request
        projects = {row.id: row for row in rows}
        memberships: dict[int, list[Membership]] = {project_id: [] for project_id in projects}
        if projects:
            for row in request.dbsession.execute(
                select(ProjectMember.project_id, ProjectMember.user_id, ProjectMember.group_id,
                       ProjectMember.role).where(ProjectMember.project_id.in_(list(projects)))
            ):
                memberships[row.project_id].append((row.user_id, row.group_id, row.role))
        for project_id, project in projects.items():
            self._projects[project_id] = project_resource(
                request, ProjectSnapshot.of(project, memberships[project_id]))

    def project(self, project_id: int) -> list[str]:
        if project_id not in self._project_actions:
            self._project_actions[project_id] = allowed_actions(
                self.request, self._projects[project_id]
            )
        return self._project_actions[project_id]

    def task(self, project_id: int) -> list[str]:
        if project_id not in self._task_actions:
            self._task_actions[project_id] = task_actions(
                self.request, self._projects[project_id]
            )
        return self._task_actions[project_id]

    def member(self, project_id: int) -> list[str]:
        """``allowed_actions`` of every member of the project."""
        if project_id not in self._member_actions:
            container = MemberContainer(self.request, "members", self._projects[project_id])
            self._member_actions[project_id] = actions_in(self.request, container,
                                                          MemberResource)
        return self._member_actions[project_id]

    def comment(self, project_id: int, author_id: int | None) -> list[str]:
        """``allowed_actions`` of a comment by ``author_id`` on a task of the project (a
        comment's ACL names only its author, so any task of the project answers alike)."""
        actions = self._comment_actions.get(project_id)
        if actions is None:
            project = self._projects[project_id]
            tasks = TaskContainer(self.request, "tasks", project)
            task = TaskResource(self.request, "0", tasks, Task(project_id=project_id))
            actions = self._comment_actions[project_id] = CommentActions(
                self.request, CommentContainer(self.request, "comments", task))
        return actions(author_id)
