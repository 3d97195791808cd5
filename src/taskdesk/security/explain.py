"""The permission explainer: why a user may, or may not, do something somewhere.

Nothing here decides anything itself. The verdict is the security policy's own
(``TaskdeskSecurityPolicy.principals_permit``) for the principals the policy would give the
user (``policy.identity_for``), on the resource traversal finds for the path; Pyramid's
``ACLHelper`` result names the entry that decided and where in the lineage it stood. This
module only puts that entry into words: which membership (direct, or through which group)
it came from, with which role and where that role is defined, and what else applies
(archived project, visibility, site admin, a deactivated account, prerequisites).

"What if": :func:`explain` with a :class:`Change` makes the change inside a SAVEPOINT,
traverses and decides again, and rolls the savepoint back, so nothing persists. The change
is made with plain row inserts and deletes rather than the domain's operations, which
would write activity, events and audit entries (and, on PostgreSQL, take the audit log's
lock for the rest of the transaction).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from pyramid.request import Request
from pyramid.traversal import find_resource, resource_path
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from translationstring import TranslationString

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.schema import OneOf, QuerySchema, Words
from taskdesk.messages import _
from taskdesk.models import Group, GroupMember, ProjectMember, User
from taskdesk.resources import (
    AttachmentResource,
    CommentResource,
    ProjectResource,
    Resource,
    Root,
    TaskResource,
)
from taskdesk.security.permissions import DEFAULT_ROLES, PREREQUISITES, Permission
from taskdesk.security.policy import ANONYMOUS, TaskdeskSecurityPolicy, identity_for
from taskdesk.security.principals import SITE_ADMIN
from taskdesk.settings import settings_of

#: ``slug#42``, ``slug/42`` or ``slug`` (a project), besides traversal paths.
_SHORT = re.compile(r"(?P<slug>[a-z0-9][a-z0-9-]*)(?:[#/](?P<number>[1-9][0-9]*))?")


class NotFound(LookupError):
    """The path names nothing (or is malformed)."""


#: The question, as query parameters (the admin page's form and the API) or options (CLI).
EXPLAIN_QUERY = QuerySchema("ExplainQuery", (
    Words("user", "The username of the person asked about.", max_length=64),
    Words("path", "The resource: `/projects/acme/tasks/42`, `acme#42` or `acme`.",
          max_length=300),
    OneOf("permission", "The permission asked about.", choices=tuple(Permission)),
    Words("if_role", "What if: give the user this role in the project (`none`: take their "
          "own role away). At most one of `if_role`, `if_join`, `if_leave`.", max_length=40),
    Words("if_join", "What if: add the user to this group.", max_length=64),
    Words("if_leave", "What if: remove the user from this group.", max_length=64),
))


@dataclass(frozen=True)
class Question:
    user: User
    path: str
    permission: Permission
    change: Change | None
    #: What ``path`` names (traversed once, to check it).
    resource: Any


def read_question(request: Request, params: Any, *, strict: bool = False) -> Question:
    """The question ``params`` ask (``EXPLAIN_QUERY``), with the user, the resource, the role
    or the group looked up; a :class:`ValidationError` names every field that is wrong."""
    errors: dict[str, Any] = {}
    try:
        values = EXPLAIN_QUERY.read(params, None, strict=strict)
    except ValidationError as error:
        # Every problem in one answer: the parameters that parsed are checked further.
        errors.update(error.fields)
        values = EXPLAIN_QUERY.read({key: value for key, value in params.items()
                                     if key not in errors}, None)
    dbsession: Session = request.dbsession
    for key in ("user", "path", "permission"):
        if key not in values and key not in errors:
            errors[key] = _("Required.")
    user = resource = None
    if "user" in values:
        user = dbsession.scalar(select(User).where(User.username == values["user"].lower()))
        if user is None:
            errors["user"] = _("No user has this username.")
    if "path" in values:
        try:
            resource = resolve(request, values["path"])
        except NotFound:
            errors["path"] = _("Nothing is found at this path.")
        else:
            if "if_role" in values and _project(resource) is None:
                errors["if_role"] = _("Roles are given in projects: name a project or a task.")
    change = None
    asked = [key for key in ("if_role", "if_join", "if_leave") if key in values]
    if len(asked) > 1:
        errors[asked[1]] = _("Ask about one change at a time.")
    elif asked == ["if_role"]:
        role = values["if_role"]
        if role != "none" and role not in settings_of(request.registry).roles:
            errors["if_role"] = _("No role has this name.")
        change = Change("project", role=None if role == "none" else role)
    elif asked:
        group = dbsession.scalar(select(Group).where(Group.name == values[asked[0]]))
        if group is None:
            errors[asked[0]] = _("No group has this name.")
        change = Change("group", group=group, add=asked[0] == "if_join")
    if errors:
        raise ValidationError(errors)
    assert user is not None
    return Question(user, values["path"], Permission(values["permission"]), change, resource)


@dataclass(frozen=True)
class Change:
    """A hypothetical change: give (``role``) or take (``role`` None) ``user``'s own role in
    the resource's project, or add (``add``) them to or remove them from ``group``."""

    kind: Literal["project", "group"]
    role: str | None = None
    group: Group | None = None
    add: bool = True


@dataclass
class Explanation:
    """The answer: the verdict, the deciding ACL entry in words, and what else applies."""

    user: User
    path: str
    permission: Permission
    allowed: bool
    #: The sentence naming the entry that decided.
    decision: TranslationString
    #: The ACE as data (for the API): action, principal, permissions, where it stood.
    ace: dict[str, Any] | None
    #: The user's roles in the project and where each comes from.
    grants: list[TranslationString] = field(default_factory=list)
    #: Other rules that apply (archived, visibility, site admin, prerequisites...).
    notes: list[TranslationString] = field(default_factory=list)


def resolve(request: Request, path: str) -> Any:
    """The resource ``path`` names: a traversal path (``/projects/acme/tasks/42``, an
    ``/api/v1`` prefix or a full URL allowed), ``acme#42``, ``acme/42`` or ``acme``."""
    text = path.strip()
    text = re.sub(r"^[a-z]+://[^/]+", "", text)
    text = text.split("?", 1)[0].split("#", 1)[0] if text.startswith("/") else text
    if text.startswith("/api/v1/"):
        text = text.removeprefix("/api/v1")
    if not text.startswith("/"):
        short = _SHORT.fullmatch(text)
        if short is None:
            raise NotFound(path)
        text = f"/projects/{short['slug']}"
        if short["number"]:
            text += f"/tasks/{short['number']}"
    try:
        return find_resource(Root(request), text)
    except (KeyError, ValueError):
        raise NotFound(path) from None


def _project(resource: Any) -> ProjectResource | None:
    while resource is not None:
        if isinstance(resource, ProjectResource):
            return resource
        resource = resource.__parent__
    return None


@contextmanager
def _hypothetically(dbsession: Session, user: User, project: ProjectResource | None,
                    change: Change | None) -> Iterator[None]:
    """Apply ``change`` in a savepoint for the block, then roll it back."""
    if change is None:
        yield
        return
    savepoint = dbsession.begin_nested()
    try:
        if change.kind == "group" and change.group is not None:
            statement = delete(GroupMember).where(GroupMember.group_id == change.group.id,
                                                  GroupMember.user_id == user.id)
            dbsession.execute(statement)
            if change.add:
                dbsession.add(GroupMember(group_id=change.group.id, user_id=user.id))
        elif change.kind == "project" and project is not None:
            dbsession.execute(delete(ProjectMember).where(
                ProjectMember.project_id == project.row.id, ProjectMember.user_id == user.id))
            if change.role is not None:
                dbsession.add(ProjectMember(project_id=project.row.id, user_id=user.id,
                                            role=change.role))
        dbsession.flush()
        yield
    finally:
        savepoint.rollback()


def explain(request: Request, user: User, path: str, permission: Permission,
            change: Change | None = None, *, resource: Any = None) -> Explanation:
    """Why ``user`` may or may not have ``permission`` on ``path`` (after ``change``);
    ``resource``: what ``path`` names, when the caller has traversed to it already."""
    dbsession: Session = request.dbsession
    policy = request.registry.getUtility(ISecurityPolicy)
    assert isinstance(policy, TaskdeskSecurityPolicy)
    before = resource if resource is not None else resolve(request, path)
    with _hypothetically(dbsession, user, _project(before), change):
        # Traversed again inside the savepoint: the project's ACL is read afresh.
        context = resolve(request, path) if change is not None else before
        identity = identity_for(dbsession, user, "explain")
        principals = identity.principals if identity is not None else ANONYMOUS
        verdict = policy.principals_permit(context, principals, permission)
        first = policy.acl.permits(context, principals, permission)
        group_ids = identity.group_ids if identity is not None else ()
        group_names = {group_id: name for group_id, name in dbsession.execute(
            select(Group.id, Group.name).where(Group.id.in_(group_ids)))} if group_ids else {}
        explanation = Explanation(
            user=user, path=resource_path(context), permission=permission,
            allowed=bool(verdict), decision=_("No entry names them: denied by default."),
            ace=None)
        words = _Words(request, user, group_names)
        project = _project(context)
        if project is not None:
            explanation.grants = words.grants(project, principals)
        explanation.decision, explanation.ace = words.decision(verdict)
        explanation.notes = words.notes(context, project, identity is None, permission,
                                        bool(first), bool(verdict))
    return explanation


class _Words:
    """Puts ACL entries and rules into sentences for one user."""

    def __init__(self, request: Request, user: User, group_names: dict[int, str]) -> None:
        self.request = request
        self.user = user
        self.group_names = group_names
        self.roles = settings_of(request.registry).roles

    def role(self, role: str) -> TranslationString:
        granted = " ".join(sorted(self.roles.get(role, ()))) or "-"
        if DEFAULT_ROLES.get(role) is not None and frozenset(DEFAULT_ROLES[role]) == \
                self.roles.get(role):
            return _("the built-in role “${role}” (${permissions})",
                     mapping={"role": role, "permissions": granted})
        return _("the role “${role}” as taskdesk.roles.${role} defines it (${permissions})",
                 mapping={"role": role, "permissions": granted})

    def principal(self, principal: str) -> TranslationString:
        kind, _colon, ident = principal.partition(":")
        if principal == SITE_ADMIN:
            return _("site admins")
        if principal == Everyone:
            return _("everyone")
        if principal == Authenticated:
            return _("every signed-in user")
        if kind == "group":
            name = self.group_names.get(int(ident), ident)
            return _("the group “${group}”, of which ${name} is a member",
                     mapping={"group": name, "name": self.user.display_name})
        return _("${name} themselves", mapping={"name": self.user.display_name})

    def grants(self, project: ProjectResource,
               principals: frozenset[str]) -> list[TranslationString]:
        found: list[TranslationString] = []
        for user_id, group_id, role in project.row.memberships:
            if user_id == self.user.id and f"user:{user_id}" in principals:
                found.append(_("Direct member of ${project} with ${role}.", mapping={
                    "project": project.row.slug, "role": self.request.localizer.translate(
                        self.role(role))}))
            elif group_id is not None and f"group:{group_id}" in principals:
                found.append(_("Through the group “${group}”: ${role} in ${project}.", mapping={
                    "group": self.group_names.get(group_id, str(group_id)),
                    "project": project.row.slug,
                    "role": self.request.localizer.translate(self.role(role))}))
        if not found:
            found.append(_("No role in ${project}, neither directly nor through a group.",
                           mapping={"project": project.row.slug}))
        return found

    def decision(self, verdict: Any) -> tuple[TranslationString, dict[str, Any] | None]:
        ace = verdict.ace
        if not isinstance(ace, tuple):
            return _("No entry of any ACL on the way to the root names them or their groups "
                     "for this: denied by default."), None
        action, principal, permissions = ace
        where = _where(verdict.context)
        listed = ("ALL" if permissions is ALL_PERMISSIONS else
                  sorted(permissions) if not isinstance(permissions, str) else [permissions])
        data = {"action": "allow" if action == Allow else "deny", "principal": principal,
                "permissions": listed, "where": resource_path(verdict.context)}
        mapping = {"who": self.request.localizer.translate(self.principal(principal)),
                   "where": self.request.localizer.translate(where),
                   "permission": verdict.permission}
        if action == Allow:
            return _("Allowed by the ${where} ACL: it grants “${permission}” to ${who}.",
                     mapping=mapping), data
        return _("Denied by the ${where} ACL: it refuses “${permission}” to ${who}.",
                 mapping=mapping), data

    def notes(self, context: Any, project: ProjectResource | None, deactivated: bool,
              permission: Permission, first: bool, allowed: bool) -> list[TranslationString]:
        notes: list[TranslationString] = []
        name = self.user.display_name
        if deactivated:
            notes.append(_("${name}'s account is deactivated: they cannot sign in, so they "
                           "have only what anonymous visitors have.", mapping={"name": name}))
        elif self.user.is_site_admin:
            notes.append(_("${name} is a site admin: the root ACL grants them everything, "
                           "unless an entry nearer the resource refuses it first.",
                           mapping={"name": name}))
        if project is not None:
            if project.row.is_archived:
                notes.append(_("The project is archived: everyone, site admins included, may "
                               "only read it (and those who may archive it may unarchive it)."))
            if project.row.visibility == "internal":
                notes.append(_("The project is internal: every signed-in user may view it."))
            else:
                notes.append(_("The project is private: only its members may view it."))
        prerequisite = PREREQUISITES.get(permission)
        if prerequisite is not None and first:
            notes.append(_("“${permission}” holds only while “${prerequisite}” holds too; "
                           "the decision above is about “${prerequisite}”.",
                           mapping={"permission": permission, "prerequisite": prerequisite}))
        if isinstance(context, CommentResource | AttachmentResource) and not allowed:
            notes.append(_("Authors may edit and delete their own comments, and uploaders "
                           "delete their own files, while they may still comment."))
        return notes


def _where(context: Resource) -> TranslationString:
    if isinstance(context, Root):
        return _("site's root")
    if isinstance(context, ProjectResource):
        return _("project ${slug}", mapping={"slug": context.row.slug})
    if isinstance(context, TaskResource):
        return _("task #${number}", mapping={"number": context.row.number})
    if isinstance(context, CommentResource):
        return _("comment's")
    if isinstance(context, AttachmentResource):
        return _("attachment's")
    return TranslationString(resource_path(context))
