"""One set of fixture data for the permission matrix and the CSRF tests: users in every
role, projects in every state, and an actor (a way of making requests) per kind of caller.

Signed-in actors get their session the way ``remember`` makes one (an AuthSession row and
a signed session cookie holding its secret), without paying for an Argon2 check per actor;
the sign-in form itself is covered by ``test_authentication``.
"""

from __future__ import annotations

import io
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from taskdesk.domain import accounts, comments
from taskdesk.domain.attachments import Upload, add_attachments
from taskdesk.models import (
    ApiToken,
    Attachment,
    AuthSession,
    Comment,
    Group,
    Project,
    SavedView,
    Task,
    TaskLink,
    User,
    Webhook,
    WebhookDelivery,
)
from taskdesk.security.secrets import digest, new_secret
from taskdesk.storage import store_for
from tests.support.factories import Factory
from tests.support.files import png
from tests.support.sessions import SESSION_SERIALIZER

#: Project states every project-scoped rule is checked in.
STATES = ("private", "internal", "archived")


@dataclass(frozen=True)
class Actor:
    """A kind of caller. ``role`` is their role in every project of the world."""

    name: str
    #: The user behind the requests (None for anonymous).
    user: str | None
    role: str | None = None
    admin: bool = False
    #: Whether the app should recognise them at all (False: deactivated, revoked token).
    authenticated: bool = True
    via: str = "cookie"
    read_only: bool = False


ACTORS: tuple[Actor, ...] = (
    Actor("anonymous", None, authenticated=False),
    Actor("outsider", "outsider"),
    Actor("viewer", "viewer", role="viewer"),
    Actor("member", "member", role="member"),
    Actor("manager", "manager", role="manager"),
    Actor("group_member", "grouped", role="member"),
    Actor("site_admin", "admin", admin=True),
    Actor("deactivated", "deactivated", role="manager", authenticated=False),
    Actor("revoked_token", "manager", role="manager", authenticated=False, via="token"),
    Actor("read_only_token", "manager", role="manager", via="token", read_only=True),
    Actor("write_token", "member", role="member", via="token"),
)


@dataclass
class World:
    users: dict[str, User]
    group: Group
    projects: dict[str, Project]
    tasks: dict[str, Task]
    comments: dict[str, Comment]
    #: Each user's own API token (for the /me/tokens/<id> views).
    own_tokens: dict[str, ApiToken]
    #: Request headers per actor: a Cookie, or an Authorization header.
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The CSRF token in each cookie actor's session.
    csrf: dict[str, str] = field(default_factory=dict)
    #: A webhook in each project, and one delivery in its log.
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    deliveries: dict[str, WebhookDelivery] = field(default_factory=dict)
    #: Another task in each project, and a "relates to" link from the task to it.
    others: dict[str, Task] = field(default_factory=dict)
    links: dict[str, TaskLink] = field(default_factory=dict)
    #: An image the member attached to the task in each project.
    attachments: dict[str, Attachment] = field(default_factory=dict)
    #: The manager's secret Atom feed address (``/feeds/<secret>/``).
    feed_secret: str = ""
    #: A view the member saved and shared in each project.
    views: dict[str, SavedView] = field(default_factory=dict)

    def user_of(self, actor: Actor) -> User | None:
        return self.users[actor.user] if actor.user else None


def session_cookie_for(dbsession: Session, user: User | None) -> tuple[str, str]:
    """(cookie value, CSRF token) of a browser session, signed in as ``user`` if given."""
    csrf = secrets.token_hex(20)
    data: dict[str, Any] = {"_csrft_": csrf}
    if user is not None:
        secret = new_secret()
        dbsession.add(AuthSession(user_id=user.id, token_hash=digest(secret)))
        data["auth"] = secret
    now = time.time()
    cookie = SESSION_SERIALIZER.dumps((now, now, data)).decode()
    return cookie, csrf


def build_world(factory: Factory, dbsession: Session) -> World:
    """Users, the group "team", a project per state with a task and a member's comment in
    each, and the request headers of every actor in ``ACTORS``."""
    names = ("outsider", "viewer", "member", "manager", "grouped", "admin", "deactivated",
             "candidate", "target")
    users = {name: factory.user(name, admin=name == "admin") for name in names}
    group = factory.group("team", members=(users["grouped"],))
    roles: dict[User | Group, str] = {
        users["viewer"]: "viewer",
        users["member"]: "member",
        users["deactivated"]: "manager",
        group: "member",
    }
    projects = {
        "private": factory.project(users["manager"], slug="private-project", members=roles),
        "internal": factory.project(users["manager"], slug="internal-project",
                                    visibility="internal", members=roles),
        "archived": factory.project(users["manager"], slug="archived-project",
                                    members=roles, archived=True),
    }
    tasks = {}
    task_comments = {}
    attached = {}
    for state, project in projects.items():
        was_archived = project.is_archived
        project.is_archived = False
        tasks[state] = factory.task(project, users["manager"], title=f"Task in {state}")
        task_comments[state] = comments.add_comment(
            dbsession, tasks[state], users["member"], {"body": "A comment by the member"}
        )
        attached[state] = add_attachments(
            dbsession, store_for(factory.settings), factory.settings, tasks[state],
            users["member"], [Upload("shot.png", io.BytesIO(png()))])[0]
        project.is_archived = was_archived
    own_tokens = {
        name: accounts.create_token(dbsession, users[name], {"name": "own", "scope": "write"})[0]
        for name in ("outsider", "viewer", "member", "manager", "grouped", "admin")
    }
    world = World(users, group, projects, tasks, task_comments, own_tokens,
                  attachments=attached)
    for state, project in projects.items():
        hook = Webhook(project_id=project.id, url="https://1.1.1.1/hook", secret="s" * 64,
                       events=[], created_by_id=users["manager"].id)
        dbsession.add(hook)
        dbsession.flush()
        delivery = WebhookDelivery(webhook_id=hook.id, event_id=1, event_kind="task.created",
                                   status="failed")
        dbsession.add(delivery)
        world.webhooks[state], world.deliveries[state] = hook, delivery
        was_archived = project.is_archived
        project.is_archived = False
        other = factory.task(project, users["manager"], title=f"Other task in {state}")
        project.is_archived = was_archived
        link = TaskLink(source_id=tasks[state].id, target_id=other.id, kind="relates")
        dbsession.add(link)
        dbsession.flush()
        world.others[state], world.links[state] = other, link
        view = SavedView(project_id=project.id, owner_id=users["member"].id, name="Urgent",
                         shared=True, params={"priority": "urgent"})
        dbsession.add(view)
        dbsession.flush()
        world.views[state] = view

    for actor in ACTORS:
        if actor.via == "cookie":
            cookie, csrf = session_cookie_for(dbsession, world.user_of(actor))
            world.headers[actor.name] = {"Cookie": f"taskdesk={cookie}"}
            world.csrf[actor.name] = csrf
    _, read_secret = accounts.create_token(
        dbsession, users["manager"], {"name": "read", "scope": "read"})
    revoked, revoked_secret = accounts.create_token(
        dbsession, users["manager"], {"name": "revoked", "scope": "write"})
    accounts.revoke_token(dbsession, revoked)
    _, write_secret = accounts.create_token(
        dbsession, users["member"], {"name": "write", "scope": "write"})
    world.headers["read_only_token"] = {"Authorization": f"Bearer {read_secret}"}
    world.headers["revoked_token"] = {"Authorization": f"Bearer {revoked_secret}"}
    world.headers["write_token"] = {"Authorization": f"Bearer {write_secret}"}
    world.feed_secret = accounts.renew_feed_token(dbsession, users["manager"])[1]
    # Deactivated after their session was made: the cookie must stop working.
    accounts.set_active(dbsession, users["deactivated"], False)
    dbsession.flush()
    return world
