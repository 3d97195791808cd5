"""The permission explainer: its verdict is the security policy's, and its words name the
entry that decided, where it came from and what else applies; "what if" changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from pyramid.request import Request, apply_request_extensions
from pyramid.traversal import resource_path
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.domain import comments
from taskdesk.models import Group, GroupMember, ProjectMember
from taskdesk.resources import Resource
from taskdesk.security.explain import Change, Explanation, NotFound, explain, resolve
from taskdesk.security.permissions import Permission
from taskdesk.security.policy import signed_in
from tests.support.apps import HOST, build_app, joined
from tests.support.factories import Factory
from tests.support.web import login

USERS = ("lina", "bob", "carol", "boss", "dave", "root")
PATHS = ("/", "/projects/acme", "/projects/acme/tasks/1", "COMMENT", "/projects/old",
         "/projects/old/tasks/1", "/projects/pub", "/projects/pub/tasks/1")


@pytest.fixture
def world(factory: Factory, dbsession: Session) -> dict[str, Any]:
    """acme (private): 李娜 viewer, bob member, the group team (carol) member, boss manager;
    old (archived): bob member; pub (internal); dave in no project; root a site admin."""
    users = {name: factory.user(name, admin=name == "root",
                                display_name="李娜" if name == "lina" else None)
             for name in USERS}
    team = factory.group("team", members=(users["carol"],))
    factory.group("others")
    acme = factory.project(users["boss"], slug="acme", members={
        users["lina"]: "viewer", users["bob"]: "member", team: "member"})
    old = factory.project(users["boss"], slug="old", members={users["bob"]: "member"})
    pub = factory.project(users["boss"], slug="pub", visibility="internal")
    task = factory.task(acme)
    factory.task(old)
    factory.task(pub)
    old.is_archived = True
    comment = comments.add_comment(dbsession, task, users["bob"], {"body": "Mine"})
    dbsession.flush()
    return {"users": users, "comment": comment}


@pytest.fixture
def request_(wsgi_app: Any, dbsession: Session) -> Request:
    """A request of the app (as a script has one), on the test's session."""
    request = Request.blank("/", environ={"HTTP_HOST": HOST})
    request.registry = wsgi_app.registry
    apply_request_extensions(request)
    request.dbsession = dbsession
    return request


@pytest.fixture
def ask(request_: Request, world: dict[str, Any]) -> Callable[..., Explanation]:
    """``ask(user, path, permission, change)``: the explainer's answer."""
    request = request_

    def question(user: str, path: str, permission: Permission,
                 change: Change | None = None) -> Explanation:
        return explain(request, world["users"][user], path, permission, change)

    return question


def texts(answer: Explanation) -> str:
    return " | ".join(str(line.interpolate()) for line in
                      (answer.decision, *answer.grants, *answer.notes))


def test_a_direct_member(ask: Callable[..., Explanation]) -> None:
    answer = ask("bob", "acme#1", Permission.EDIT_TASK)
    assert answer.allowed
    assert answer.path == "/projects/acme/tasks/1"
    assert answer.ace == {"action": "allow", "principal": f"user:{answer.user.id}",
                          "permissions": sorted(answer.ace["permissions"]),  # type: ignore
                          "where": "/projects/acme"}
    assert "Allowed by the project acme ACL: it grants “edit_task” to Bob themselves." \
        in texts(answer)
    assert "Direct member of acme with the built-in role “member”" in texts(answer)


def test_a_member_through_a_group(ask: Callable[..., Explanation]) -> None:
    answer = ask("carol", "/projects/acme/tasks/1", Permission.EDIT_TASK)
    assert answer.allowed
    assert answer.ace is not None
    assert answer.ace["principal"].startswith("group:")
    assert "to the group “team”, of which Carol is a member" in texts(answer)
    assert "Through the group “team”: the built-in role “member”" in texts(answer)


def test_a_viewer_may_not_edit(ask: Callable[..., Explanation]) -> None:
    answer = ask("lina", "acme#1", Permission.EDIT_TASK)
    assert not answer.allowed
    assert answer.ace is None
    assert "denied by default" in texts(answer)
    assert "Direct member of acme with the built-in role “viewer” (view)" in texts(answer)
    assert ask("lina", "acme", Permission.VIEW).allowed


def test_an_archived_project_refuses_changes_to_everyone(
        ask: Callable[..., Explanation]) -> None:
    for user in ("bob", "root"):
        answer = ask(user, "old#1", Permission.EDIT_TASK)
        assert not answer.allowed
        assert answer.ace is not None
        assert (answer.ace["action"], answer.ace["principal"]) == ("deny", "system.Everyone")
        assert "The project is archived" in texts(answer)
    assert ask("bob", "old#1", Permission.VIEW).allowed


def test_an_outsider(ask: Callable[..., Explanation]) -> None:
    answer = ask("dave", "acme", Permission.VIEW)
    assert not answer.allowed
    assert "No role in acme, neither directly nor through a group." in texts(answer)
    internal = ask("dave", "pub#1", Permission.VIEW)
    assert internal.allowed
    assert "grants “view” to every signed-in user" in texts(internal)
    assert not ask("dave", "pub#1", Permission.COMMENT).allowed


def test_a_site_admin(ask: Callable[..., Explanation]) -> None:
    answer = ask("root", "acme#1", Permission.DELETE_TASK)
    assert answer.allowed
    assert answer.ace is not None
    assert answer.ace["where"] == "/"
    assert "Allowed by the site's root ACL: it grants “delete_task” to site admins." \
        in texts(answer)
    assert "Root is a site admin" in texts(answer)


def test_comment_authors_and_prerequisites(ask: Callable[..., Explanation],
                                           world: dict[str, Any]) -> None:
    comment = f"/projects/acme/tasks/1/comments/{world['comment'].id}"
    answer = ask("bob", comment, Permission.EDIT_COMMENT)
    assert answer.allowed
    assert "“edit_comment” holds only while “comment” holds too" in texts(answer)
    assert not ask("lina", comment, Permission.EDIT_COMMENT).allowed


def test_paths_that_name_nothing(ask: Callable[..., Explanation]) -> None:
    for path in ("nope", "acme#99", "/projects/acme/nothing", "Bad Slug!", "acme#0"):
        with pytest.raises(NotFound):
            ask("bob", path, Permission.VIEW)


def count(dbsession: Session, model: Any) -> int:
    return dbsession.scalar(select(func.count()).select_from(model)) or 0


def test_what_if_changes_nothing(ask: Callable[..., Explanation], dbsession: Session,
                                 world: dict[str, Any]) -> None:
    members, group_members = count(dbsession, ProjectMember), count(dbsession, GroupMember)
    team = dbsession.scalars(select(Group).where(Group.name == "team")).one()
    cases = [
        ("lina", Change("project", role="member"), True),
        ("bob", Change("project", role=None), False),
        ("dave", Change("group", group=team, add=True), True),
        ("carol", Change("group", group=team, add=False), False),
    ]
    for user, change, allowed in cases:
        before = ask(user, "acme#1", Permission.EDIT_TASK)
        after = ask(user, "acme#1", Permission.EDIT_TASK, change)
        assert (before.allowed, after.allowed) == (not allowed, allowed), user
        assert ask(user, "acme#1", Permission.EDIT_TASK).allowed == before.allowed
    assert (count(dbsession, ProjectMember), count(dbsession, GroupMember)) == (
        members, group_members)
    lina = world["users"]["lina"]
    assert dbsession.scalar(select(ProjectMember.role).where(
        ProjectMember.user_id == lina.id)) == "viewer"


def test_a_deactivated_user_has_what_anonymous_has(
        ask: Callable[..., Explanation], world: dict[str, Any]) -> None:
    world["users"]["bob"].is_active = False
    answer = ask("bob", "acme#1", Permission.VIEW)
    assert not answer.allowed
    assert "account is deactivated" in texts(answer)
    assert ask("bob", "/", Permission.PUBLIC).allowed


# -- the verdict is request.has_permission's ---------------------------------------------------

def _may(context: Resource, request: Request) -> dict[str, Any]:
    """Test-only view: the caller's permissions here, as the policy and as the explainer
    sees them."""
    user = signed_in(request).user
    path = resource_path(context)
    return {permission.value: [bool(request.has_permission(permission, context)),
                               explain(request, user, path, permission).allowed]
            for permission in Permission}


@pytest.fixture(scope="module")
def may_app(database_url: str, engine: Any) -> Any:
    def extend(config: Any) -> None:
        config.add_view(_may, context=Resource, name="test-may", renderer="json",
                        permission=Permission.SIGNED_IN)

    return build_app(database_url, extend)


def test_the_verdict_is_the_security_policys(
    may_app: Any, connection: Any, world: dict[str, Any],
) -> None:
    comment = f"/projects/acme/tasks/1/comments/{world['comment'].id}"
    checked = 0
    with joined(may_app, connection):
        for user in USERS:
            browser = webtest.TestApp(may_app, extra_environ={"HTTP_HOST": HOST})
            assert login(browser, user).status_int == 303
            for path in PATHS:
                path = comment if path == "COMMENT" else path
                answers = browser.get(f"{path.rstrip('/')}/test-may").json
                differ = {p: pair for p, pair in answers.items() if pair[0] != pair[1]}
                assert not differ, (user, path, differ)
                checked += len(answers)
    assert checked == len(USERS) * len(PATHS) * len(Permission)


def test_resolve_accepts_urls_and_api_paths(request_: Request,
                                            world: dict[str, Any]) -> None:
    for path in ("http://taskdesk.test/projects/acme/tasks/1?x=1",
                 "/api/v1/projects/acme/tasks/1", "acme/1", "acme#1"):
        assert resource_path(resolve(request_, path)) == "/projects/acme/tasks/1"
