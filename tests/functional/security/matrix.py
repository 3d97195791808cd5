"""The permission matrix's machinery: the registered views, the expected status of a request
from the spec (issue 3), and sending one request as one actor.

The expected status is derived here from a model of the rules written independently of the
application (roles, visibility, archiving, ownership, token scopes); the app's own policy is
never asked, so the matrix fails when the app and the spec disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import webtest
from pyramid.interfaces import IExceptionResponse
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.static import static_view
from sqlalchemy.engine import Connection
from zope.interface.interface import InterfaceClass

from taskdesk.api import API_ROUTE
from taskdesk.graphql.views import GRAPHQL_ROUTE
from taskdesk.security.permissions import Permission
from tests.functional.security.world import STATES, Actor, World

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Routes answering in JSON, with the API's statuses (401 for anybody unrecognised).
JSON_ROUTES = frozenset({API_ROUTE, GRAPHQL_ROUTE})
#: Routes whose every request only reads, whatever its method (GraphQL queries by POST):
#: a read-only token passes there like on a GET.
READ_ROUTES = frozenset({GRAPHQL_ROUTE})
P = Permission

#: The roles of the spec, written out here rather than read from the settings.
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": frozenset({P.VIEW}),
    "member": frozenset({P.VIEW, P.COMMENT, P.CREATE_TASK, P.EDIT_TASK, P.SET_STATUS,
                         P.ASSIGN}),
    "manager": frozenset({P.VIEW, P.COMMENT, P.CREATE_TASK, P.EDIT_TASK, P.SET_STATUS,
                          P.ASSIGN, P.DELETE_TASK, P.DELETE_COMMENT, P.MANAGE_MEMBERS,
                          P.MANAGE_PROJECT, P.MANAGE_WEBHOOKS, P.DELETE_ATTACHMENT}),
}
#: The author of every comment in the world, and the uploader of every attachment.
COMMENT_AUTHOR = "member"
#: The owner of the (shared) saved view in every project.
VIEW_OWNER = "member"


# -- targets: where a rule's request goes ----------------------------------------------------

def _project(w: World, state: str) -> str:
    return f"/projects/{w.projects[state].slug}/"


def _task(w: World, state: str) -> str:
    return f"{_project(w, state)}tasks/{w.tasks[state].number}/"


def _own_token(w: World, actor: Actor) -> str:
    # Callers nobody recognises get somebody's token: they must not find it either.
    token = w.own_tokens.get(actor.user or "", w.own_tokens["manager"])
    return f"/me/tokens/{token.id}/"


Target = Callable[[World, str, Actor], str]

#: Paths of the resources a rule can address; ``state`` picks the project.
TARGETS: dict[str, Target] = {
    "root": lambda w, s, a: "/",
    "projects": lambda w, s, a: "/projects/",
    "project": lambda w, s, a: _project(w, s),
    "tasks": lambda w, s, a: f"{_project(w, s)}tasks/",
    "task": lambda w, s, a: _task(w, s),
    "comments": lambda w, s, a: f"{_task(w, s)}comments/",
    "subtasks": lambda w, s, a: f"{_task(w, s)}subtasks/",
    "comment": lambda w, s, a: f"{_task(w, s)}comments/{w.comments[s].id}/",
    "attachments": lambda w, s, a: f"{_task(w, s)}attachments/",
    "attachment": lambda w, s, a: f"{_task(w, s)}attachments/{w.attachments[s].id}/",
    "members": lambda w, s, a: f"{_project(w, s)}members/",
    "member": lambda w, s, a: f"{_project(w, s)}members/user:viewer/",
    "admin": lambda w, s, a: "/admin/",
    "users": lambda w, s, a: "/admin/users/",
    "user": lambda w, s, a: f"/admin/users/{w.users['target'].id}/",
    "groups": lambda w, s, a: "/admin/groups/",
    "group": lambda w, s, a: f"/admin/groups/{w.group.id}/",
    "admin_deliveries": lambda w, s, a: "/admin/deliveries/",
    "audit_log": lambda w, s, a: "/admin/audit",
    "explainer": lambda w, s, a: "/admin/explain",
    "me": lambda w, s, a: "/me/",
    "login": lambda w, s, a: "/login/",
    "two_factor": lambda w, s, a: "/me/two-factor/",
    "tokens": lambda w, s, a: "/me/tokens/",
    "token": lambda w, s, a: _own_token(w, a),
    "all_tasks": lambda w, s, a: "/tasks/",
    "api_docs": lambda w, s, a: "/api/docs",
    "graphql": lambda w, s, a: "/api/graphql",
    "inbox": lambda w, s, a: "/me/notifications/",
    "feed": lambda w, s, a: f"/feeds/{w.feed_secret}/",
    "task_watch": lambda w, s, a: f"{_task(w, s)}watchers/me",
    "task_links": lambda w, s, a: f"{_task(w, s)}links/",
    "task_link": lambda w, s, a: f"{_task(w, s)}links/{w.links[s].id}/",
    "project_watch": lambda w, s, a: f"{_project(w, s)}watchers/me",
    "webhooks": lambda w, s, a: f"{_project(w, s)}webhooks/",
    "webhook": lambda w, s, a: f"{_project(w, s)}webhooks/{w.webhooks[s].id}/",
    "deliveries": lambda w, s, a: (
        f"{_project(w, s)}webhooks/{w.webhooks[s].id}/deliveries/"),
    "views": lambda w, s, a: f"{_project(w, s)}views/",
    "my_views": lambda w, s, a: "/me/views/",
    "view": lambda w, s, a: f"{_project(w, s)}views/{w.views[s].id}/",
    "delivery": lambda w, s, a: (
        f"{_project(w, s)}webhooks/{w.webhooks[s].id}/deliveries/{w.deliveries[s].id}/"),
}
PROJECT_TARGETS = frozenset({"project", "tasks", "task", "comments", "comment", "members",
                             "member", "webhooks", "webhook", "deliveries", "delivery",
                             "task_watch", "project_watch", "task_links", "task_link",
                             "subtasks", "attachments", "attachment", "views", "view"})
#: Targets only their owner can find; anybody else gets 404 from traversal.
OWNED_TARGETS = frozenset({"token"})

#: The resource each context class is addressed by, unless a rule says otherwise.
DEFAULT_TARGETS: dict[str, str] = {
    "Root": "root", "ProjectContainer": "projects", "ProjectResource": "project",
    "TaskContainer": "tasks", "TaskResource": "task", "CommentContainer": "comments",
    "CommentResource": "comment", "MemberContainer": "members", "MemberResource": "member",
    "AdminArea": "admin", "UserContainer": "users", "UserResource": "user",
    "GroupContainer": "groups", "GroupResource": "group", "Me": "me",
    "TokenContainer": "tokens", "TokenResource": "token", "AllTasks": "all_tasks",
    "SignIn": "login", "TwoFactorSettings": "two_factor",
    "Deliveries": "admin_deliveries", "AuditLog": "audit_log", "Explainer": "explainer",
    "WebhookContainer": "webhooks", "WebhookResource": "webhook",
    "DeliveryContainer": "deliveries", "DeliveryResource": "delivery",
    "Inbox": "inbox", "TaskWatch": "task_watch", "ProjectWatch": "project_watch",
    "TaskLinks": "task_links", "TaskLinkResource": "task_link",
    "SubtaskContainer": "subtasks", "FeedResource": "feed",
    "AttachmentContainer": "attachments", "AttachmentResource": "attachment",
    "SavedViewContainer": "views", "SavedViewResource": "view", "MyViews": "my_views",
}


# -- rules -----------------------------------------------------------------------------------

Body = Callable[[World, str], dict[str, Any]]
#: Files of a multipart request: (field, file name, bytes) each.
Files = Callable[[World, str], list[tuple[str, str, bytes]]]
RuleKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class Rule:
    """What one view and method requires, and how to call it successfully."""

    context: str
    name: str
    method: str
    route: str
    permission: Permission
    success: int = 200
    target: str = ""
    body: Body | None = None
    query: str = ""
    #: What the request really needs when the view checks more than its registration says
    #: (e.g. a PATCH secured with ``view`` that checks each field's permission itself).
    requires: Permission | None = None
    #: Files to send (a multipart request, ``body`` as its other fields).
    files: Files | None = None

    @property
    def needed(self) -> Permission:
        return self.requires or self.permission

    @property
    def key(self) -> RuleKey:
        return (self.context, self.name, self.method, self.route)

    @property
    def api(self) -> bool:
        return self.route in JSON_ROUTES

    @property
    def where(self) -> str:
        return self.target or DEFAULT_TARGETS[self.context]

    @property
    def states(self) -> tuple[str, ...]:
        return STATES if self.where in PROJECT_TARGETS else ("",)

    def url(self, world: World, state: str, actor: Actor) -> str:
        path = TARGETS[self.where](world, state, actor)
        if self.name:
            path = f"{path.rstrip('/')}/{self.name}"
        if self.route == API_ROUTE:
            path = f"/api/v1{path}"
        return f"{path}?{self.query}" if self.query else path


def rules(context: type | str, name: str, methods: str, permission: Permission,
          **options: Any) -> list[Rule]:
    """Rules for ``methods`` (space-separated) of one view; ``api=True`` for the JSON route,
    ``route=`` for a view on another route (with ``target=`` its path's key)."""
    context_name = context if isinstance(context, str) else context.__name__
    route = API_ROUTE if options.pop("api", False) else options.pop("route", "web")
    return [Rule(context_name, name, method, route, permission, **options)
            for method in methods.split()]


# -- the registered views --------------------------------------------------------------------

@dataclass(frozen=True)
class RegisteredView:
    context: str
    name: str
    methods: tuple[str, ...] | None
    route: str
    permissions: tuple[str, ...]
    callable: str
    predicates: tuple[str, ...] = field(default=())

    def rule_keys(self) -> list[RuleKey]:
        return [(self.context, self.name, m, self.route) for m in self.methods or ("*",)]


def _is_exempt(view: dict[str, Any]) -> bool:
    """Static files and exception views (error pages, forbidden, not found) need no rule."""
    if isinstance(view["callable"], static_view) or view["exception_only"]:
        return True
    context = view["context"]
    if isinstance(context, type) and issubclass(context, BaseException):
        return True
    return isinstance(context, InterfaceClass) and context.isOrExtends(IExceptionResponse)


def registered_views(wsgi_app: Any) -> list[RegisteredView]:
    """Every view of the app from Pyramid's introspector, except the exempt ones."""
    found = []
    for entry in wsgi_app.registry.introspector.get_category("views"):
        view = entry["introspectable"]
        if _is_exempt(view):
            continue
        context = view["context"]
        permissions = tuple(
            str(related["value"]) for related in entry["related"]
            if related.category_name == "permissions"
        )
        methods = view["request_methods"]
        if isinstance(methods, str):
            methods = (methods,)
        extra = tuple(
            f"{name}={view[name]!r}"
            for name in ("request_param", "header", "accept", "xhr", "match_param")
            if view[name] is not None
        )
        found.append(RegisteredView(
            context=getattr(context, "__name__", "*") if context is not None else "*",
            name=view["name"],
            methods=tuple(methods) if methods else None,
            route=view["route_name"] or "web",
            permissions=permissions,
            callable=f"{view['callable'].__module__}.{view['callable'].__qualname__}",
            predicates=extra,
        ))
    return found


PROBE_METHODS = ("PUT", "PATCH", "DELETE", "POST")


def _model_rule(table: dict[RuleKey, Rule], context: str, name: str, route: str) -> Rule | None:
    """The rule a catch-all (405) view of ``context:name`` answers like: its GET view's, or
    the one method's of an action that has no GET (``api_view(only_method=True)``)."""
    get_rule = table.get((context, name, "GET", route))
    if get_rule is not None:
        return get_rule
    siblings = [rule for key, rule in table.items() if key[:2] == (context, name)
                and key[3] == route]
    return siblings[0] if len(siblings) == 1 else None


def catch_all_rules(views: list[RegisteredView], table: dict[RuleKey, Rule],
                    catch_all: dict[str, int]) -> list[Rule]:
    """Rules probing each catch-all view (no method predicate, callable in ``catch_all``)
    with a method nothing else answers; it needs what the same name's GET view needs."""
    answered = {key for view in views if view.methods for key in view.rule_keys()}
    probes = []
    for view in views:
        if view.methods is not None or view.callable not in catch_all:
            continue
        get_rule = _model_rule(table, view.context, view.name, view.route)
        method = next((m for m in PROBE_METHODS
                       if (view.context, view.name, m, view.route) not in answered), None)
        if get_rule is None or method is None:
            continue
        probes.append(Rule(view.context, view.name, method, view.route, get_rule.permission,
                           success=catch_all[view.callable], target=get_rule.target,
                           query=get_rule.query))
    return probes


def check_registration(views: list[RegisteredView], table: dict[RuleKey, Rule],
                       catch_all: dict[str, int]) -> list[str]:
    """Problems: views without a rule or a permission, rules without a view, mismatches."""
    problems = []
    seen: set[RuleKey] = set()
    for view in views:
        if not view.permissions or NO_PERMISSION_REQUIRED in view.permissions:
            problems.append(f"{view.callable}: registered without a permission")
        if view.predicates:
            problems.append(f"{view.callable}: predicates {view.predicates} are not modelled "
                            "by the matrix; add them to Rule or use a view name")
        if view.methods is None:
            get_rule = _model_rule(table, view.context, view.name, view.route)
            if view.callable not in catch_all:
                problems.append(f"{view.callable}: accepts every request method; "
                                "give it request_method=")
            elif get_rule is None or view.permissions != (str(get_rule.permission),):
                problems.append(f"{view.callable} on {view.context}:{view.name!r}: a "
                                "catch-all needs the permission of a GET view (or the one "
                                "method) with a rule")
            continue
        for key in view.rule_keys():
            if key in seen:
                problems.append(f"{view.callable}: two views answer {key}")
            seen.add(key)
            rule = table.get(key)
            if rule is None:
                problems.append(f"{view.callable}: no matrix rule for {key}")
            elif view.permissions != (str(rule.permission),):
                problems.append(f"{view.callable} {key}: registered with permission "
                                f"{view.permissions}, the rule says {rule.permission}")
    for key in table.keys() - seen:
        problems.append(f"rule {key} has no registered view (removed or renamed?)")
    return problems


# -- the spec's model -------------------------------------------------------------------------

#: What an archived project allows anybody, site admins included: reading, and taking it
#: out of the archive for those who may archive it.
ARCHIVED_ALLOWS = frozenset({P.VIEW, P.ARCHIVE_PROJECT})


def project_permissions(actor: Actor, state: str) -> frozenset[Permission]:
    """What ``actor`` holds in the project in ``state`` (not counting site admin)."""
    held = ROLE_PERMISSIONS.get(actor.role or "", frozenset())
    if P.MANAGE_PROJECT in held:  # who manages a project may archive and unarchive it
        held = held | {P.ARCHIVE_PROJECT}
    if state == "archived":
        held = held & ARCHIVED_ALLOWS
    if state == "internal":
        held = held | {P.VIEW}
    return held


def grants(actor: Actor, rule: Rule, state: str) -> bool:
    """Whether the spec lets ``actor`` do ``rule`` (ignoring token scope)."""
    needed = rule.needed
    if not actor.authenticated:
        return needed == P.PUBLIC
    if needed in (P.PUBLIC, P.SIGNED_IN, P.CREATE_PROJECT):
        return True
    if actor.admin:
        # Everything, except changing an archived project (they may unarchive it).
        return state != "archived" or rule.where not in PROJECT_TARGETS or (
            needed in ARCHIVED_ALLOWS)
    if needed == P.ADMINISTER:
        return False
    held = project_permissions(actor, state)
    is_author = actor.user == COMMENT_AUTHOR
    if needed == P.EDIT_COMMENT:
        return is_author and P.COMMENT in held
    if needed == P.DELETE_COMMENT:
        return (is_author or P.DELETE_COMMENT in held) and P.COMMENT in held
    if needed == P.CHANGE_VIEW:
        # Its owner, or a manager of the project (the view is shared); never when archived.
        return state != "archived" and P.VIEW in held and (
            actor.user == VIEW_OWNER or P.MANAGE_PROJECT in held)
    if needed == P.DELETE_ATTACHMENT:
        return (is_author or P.DELETE_ATTACHMENT in held) and P.COMMENT in held
    return needed in held


def can_see_project(actor: Actor, state: str) -> bool:
    return actor.authenticated and (actor.admin or P.VIEW in project_permissions(actor, state))


def expected(rule: Rule, actor: Actor, state: str) -> tuple[int, str]:
    """The status the spec gives ``actor`` for ``rule`` in a project in ``state``, and why."""
    unsafe = rule.method not in SAFE_METHODS and rule.route not in READ_ROUTES
    # Only its owner finds an owned resource; for anybody else traversal answers 404.
    missing = rule.where in OWNED_TARGETS and not actor.authenticated
    if not missing and grants(actor, rule, state) and not (actor.read_only and unsafe):
        return rule.success, "allowed"
    if not actor.authenticated:
        if rule.api and (actor.via == "token" or not missing):
            return 401, "unauthenticated"  # a broken token never reads as "nothing here"
        if missing:
            return 404, "not found"
        if not unsafe and not rule.api:
            return 303, "sign in first"
    if rule.where in PROJECT_TARGETS and not can_see_project(actor, state):
        return 404, "hidden project"
    return 403, "forbidden"


# -- sending ---------------------------------------------------------------------------------

def send(app: webtest.TestApp, world: World, actor: Actor, rule: Rule, state: str,
         *, csrf: bool = True) -> webtest.TestResponse:
    """One request as ``actor``, without letting cookies leak between requests."""
    headers = dict(world.headers[actor.name])
    if csrf and actor.via == "cookie" and rule.method not in SAFE_METHODS:
        headers["X-CSRF-Token"] = world.csrf[actor.name]
    url = rule.url(world, state, actor)
    body = rule.body(world, state) if rule.body else {}
    app.cookiejar.clear()
    method = rule.method.lower()
    if rule.method in SAFE_METHODS:
        return getattr(app, method)(url, headers=headers, expect_errors=True)
    if rule.files is not None:
        return app.post(url, list(body.items()), upload_files=rule.files(world, state),
                        headers=headers, expect_errors=True)
    if rule.api:
        return getattr(app, f"{method}_json")(
            url, body, headers=headers, expect_errors=True)
    return getattr(app, method)(url, body, headers=headers, expect_errors=True)


@dataclass
class Outcome:
    rule: Rule
    actor: Actor
    state: str
    expected: int
    reason: str
    status: int
    location: str | None

    def describe(self) -> str:
        where = f" in the {self.state} project" if self.state else ""
        return (f"{self.rule.method} {self.rule.context}:{self.rule.name!r} ({self.rule.route})"
                f"{where} as {self.actor.name}: expected {self.expected} ({self.reason}), "
                f"got {self.status}"
                + (f" -> {self.location}" if self.location else ""))


def run(app: webtest.TestApp, connection: Connection, world: World,
        table: list[Rule], actors: tuple[Actor, ...]) -> Iterator[Outcome]:
    """Each request inside a savepoint rolled back afterwards, so every one starts from the
    same data (a deletion by one actor does not turn the next actor's request into 404)."""
    for rule in table:
        for state in rule.states:
            for actor in actors:
                savepoint = connection.begin_nested()
                try:
                    response = send(app, world, actor, rule, state)
                finally:
                    savepoint.rollback()
                yield Outcome(rule, actor, state, *expected(rule, actor, state),
                              response.status_int, response.headers.get("Location"))
