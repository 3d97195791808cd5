"""Security events land in the audit log, in the transaction of the change: through the
web UI and the API as users make them, and from the domain operations they call."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import webtest
from pyramid.httpexceptions import HTTPBadRequest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain import accounts, audit, directory, projects, two_factor, webhooks
from taskdesk.domain.audit import AuditKind
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import AuditEntry, User
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission
from taskdesk.settings import parse_settings
from tests.support.apps import HOST, build_app, joined
from tests.support.factories import Factory
from tests.support.web import confirm, find_form, login, post

NEW_PASSWORD = "a-new-long-password"


def logged(dbsession: Session, since: int = 0) -> list[tuple[str, int | None, str | None,
                                                             dict[str, Any]]]:
    """(kind, actor, target, details) of the entries after id ``since``, oldest first."""
    dbsession.expire_all()
    rows = dbsession.scalars(select(AuditEntry).where(AuditEntry.id > since)
                             .order_by(AuditEntry.id))
    return [(row.kind, row.actor_id, row.target, row.details) for row in rows]


def head(dbsession: Session) -> int:
    return dbsession.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) or 0


# -- signing in and out (web) -----------------------------------------------------------------

def test_sign_in_failures_and_sign_out(testapp: webtest.TestApp, factory: Factory,
                                       dbsession: Session) -> None:
    lina = factory.user("lina", display_name="李娜")
    gone = factory.user("gone", active=False)
    start = head(dbsession)
    assert login(testapp, "lina", "wrong-password").status_int == 200
    assert login(testapp, "nobody", "wrong-password").status_int == 200
    assert login(testapp, "gone").status_int == 200
    assert login(testapp, "LINA").status_int == 303
    post(testapp, "/logout", {})
    assert logged(dbsession, start) == [
        ("auth.sign_in_failed", None, f"user:{lina.id}",
         {"username": "lina", "method": "password", "reason": "wrong_password"}),
        ("auth.sign_in_failed", None, None,
         {"username": "nobody", "method": "password", "reason": "unknown_user"}),
        ("auth.sign_in_failed", None, f"user:{gone.id}",
         {"username": "gone", "method": "password", "reason": "deactivated"}),
        ("auth.sign_in", lina.id, f"user:{lina.id}",
         {"method": "password", "second_factor": None}),
        ("auth.sign_out", lina.id, f"user:{lina.id}", {"via": "session"}),
    ]
    assert audit.verify(dbsession).intact


def test_the_client_address_is_recorded(testapp: webtest.TestApp, factory: Factory,
                                        dbsession: Session) -> None:
    factory.user("lina")
    testapp.extra_environ["REMOTE_ADDR"] = "203.0.113.5"
    start = head(dbsession)
    login(testapp, "lina")
    post(testapp, "/logout", {})
    dbsession.expire_all()
    assert list(dbsession.scalars(select(AuditEntry.address).where(AuditEntry.id > start))) \
        == ["203.0.113.5", "203.0.113.5"]


def test_a_throttled_attempt_is_kept_though_the_answer_is_an_error(
    app_with: Any, factory: Factory, dbsession: Session,
) -> None:
    factory.user("lina")
    browser = app_with(**{"taskdesk.login.account_limit": "1"})
    login(browser, "lina", "wrong-password")
    start = head(dbsession)
    page = browser.get("/login")
    form = next(f for f in page.forms.values() if "username" in f.fields)
    form["username"], form["password"] = "lina", Factory.PASSWORD
    form.submit(status=429)
    assert [(kind, details["reason"]) for kind, _a, _t, details in logged(dbsession, start)] \
        == [("auth.sign_in_failed", "throttled")]


# -- the admin area (web) ---------------------------------------------------------------------

def test_admin_actions_on_users_and_groups(testapp: webtest.TestApp, factory: Factory,
                                           dbsession: Session) -> None:
    admin = factory.user("root", admin=True)
    login(testapp, "root")
    start = head(dbsession)
    post(testapp, "/admin/users/new", {"username": "newbie", "display_name": "Newbie",
                                       "password": NEW_PASSWORD, "is_site_admin": "true"})
    newbie = dbsession.scalars(select(User).where(User.username == "newbie")).one()
    user_url = f"/admin/users/{newbie.id}/"
    post(testapp, user_url + "deactivate", {"confirmed": "yes"})
    post(testapp, user_url + "reactivate", {})
    post(testapp, user_url + "admin", {"is_site_admin": "false"})
    post(testapp, user_url + "password", {"password": NEW_PASSWORD + "2"})
    post(testapp, user_url + "end-sessions", {})
    post(testapp, "/admin/groups/new", {"name": "ops", "description": ""})
    group_id = dbsession.scalar(select(AuditEntry.target).where(
        AuditEntry.kind == "group.created"))
    assert group_id is not None
    group_url = f"/admin/groups/{group_id.removeprefix('group:')}/"
    post(testapp, group_url + "add-member", {"username": "newbie"})
    post(testapp, group_url + "remove-member", {"username": "newbie", "confirmed": "yes"})
    me = f"user:{newbie.id}"
    member = {"group": "ops", "user_id": newbie.id, "username": "newbie"}
    assert logged(dbsession, start) == [
        ("user.created", admin.id, me, {"username": "newbie", "is_site_admin": True}),
        ("user.deactivated", admin.id, me, {"username": "newbie"}),
        ("user.reactivated", admin.id, me, {"username": "newbie"}),
        ("user.admin_changed", admin.id, me, {"username": "newbie", "is_site_admin": False}),
        ("user.password_reset", admin.id, me, {"username": "newbie"}),
        ("user.sessions_ended", admin.id, me, {"username": "newbie"}),
        ("group.created", admin.id, group_id, {"group": "ops"}),
        ("group.member_added", admin.id, group_id, member),
        ("group.member_removed", admin.id, group_id, member),
    ]


def test_own_password_sessions_and_tokens(testapp: webtest.TestApp, factory: Factory,
                                          dbsession: Session) -> None:
    lina = factory.user("lina")
    login(testapp, "lina")
    start = head(dbsession)
    post(testapp, "/me/password", {"current_password": Factory.PASSWORD,
                                   "new_password": NEW_PASSWORD,
                                   "new_password_confirm": NEW_PASSWORD})
    post(testapp, "/me/sessions", {})
    post(testapp, "/me/tokens/", {"name": "ci", "scope": "write", "expires_in_days": "30"})
    token = accounts.list_tokens(dbsession, lina)[0]
    post(testapp, f"/me/tokens/{token.id}/revoke", {})
    me, it = f"user:{lina.id}", f"token:{token.id}"
    assert logged(dbsession, start) == [
        ("user.password_changed", lina.id, me, {"username": "lina"}),
        ("user.sessions_ended", lina.id, me, {"username": "lina"}),
        ("token.created", lina.id, it, {"name": "ci", "scope": "write",
                                        "prefix": token.prefix, "expires_in_days": 30}),
        ("token.revoked", lina.id, it, {"name": "ci", "prefix": token.prefix}),
    ]


# -- projects (web and API) ------------------------------------------------------------------

def test_project_settings_archive_and_roles(testapp: webtest.TestApp, factory: Factory,
                                            dbsession: Session) -> None:
    boss = factory.user("boss")
    lina = factory.user("lina")
    team = factory.group("team")
    factory.project(boss, slug="apollo")
    login(testapp, "boss")
    start = head(dbsession)
    form = find_form(testapp.get("/projects/apollo/settings"), "/settings")
    form["name"] = "Apollo 2"
    form.submit(status=303)
    confirm(find_form(testapp.get("/projects/apollo/settings"), "/archive").submit(),
            status=303)
    post(testapp, "/projects/apollo/unarchive", {})
    _, secret = accounts.create_token(dbsession, boss, {"name": "api", "scope": "write"})
    api = {"Authorization": f"Bearer {secret}"}
    start_roles = head(dbsession)
    members = "/api/v1/projects/apollo/members"
    testapp.put_json(f"{members}/user:lina", {"role": "viewer"}, headers=api, status=201)
    testapp.put_json(f"{members}/user:lina", {"role": "member"}, headers=api, status=200)
    testapp.delete(f"{members}/user:lina", headers=api, status=204)
    testapp.put_json(f"{members}/group:team", {"role": "viewer"}, headers=api, status=201)
    project = "project:apollo"
    assert logged(dbsession, start)[:3] == [
        ("project.settings_changed", boss.id, project,
         {"changes": {"name": ["Apollo", "Apollo 2"]}}),
        ("project.archived", boss.id, project, {}),
        ("project.unarchived", boss.id, project, {}),
    ]
    assert logged(dbsession, start_roles) == [
        ("membership.changed", boss.id, project, {"principal": "user:lina", "from": None,
                                                  "to": "viewer"}),
        ("membership.changed", boss.id, project, {"principal": "user:lina", "from": "viewer",
                                                  "to": "member"}),
        ("membership.changed", boss.id, project, {"principal": "user:lina", "from": "member",
                                                  "to": None}),
        ("membership.changed", boss.id, project, {"principal": "group:team", "from": None,
                                                  "to": "viewer"}),
    ]
    assert lina.id
    assert team.id


def test_a_new_project_records_its_first_manager(factory: Factory, dbsession: Session) -> None:
    boss = factory.user("boss")
    start = head(dbsession)
    projects.create_project(dbsession, boss, {"slug": "zeus", "name": "Zeus"})
    assert logged(dbsession, start) == [
        ("membership.changed", boss.id, "project:zeus",
         {"principal": "user:boss", "from": None, "to": "manager"})]


def test_webhook_changes(factory: Factory, dbsession: Session, settings: Any) -> None:
    settings = replace(settings, webhooks_allow=parse_settings(
        {"taskdesk.environment": "development",
         "taskdesk.webhooks.allow": "127.0.0.1"}).webhooks_allow)
    boss = factory.user("boss")
    project = factory.project(boss, slug="apollo")
    start = head(dbsession)
    hook = webhooks.create_webhook(dbsession, settings, boss, project.id, {
        "payload_url": "http://127.0.0.1:9/ci?token=secret", "events": ["task.created"]})
    webhooks.update_webhook(dbsession, settings, hook, {"description": "CI", "active": False},
                            partial=True, actor_id=boss.id)
    webhooks.regenerate_secret(dbsession, hook, actor_id=boss.id)
    hook_id = hook.id
    webhooks.delete_webhook(dbsession, hook, actor_id=boss.id)
    it, where = f"webhook:{hook_id}", {"project_id": project.id}
    assert logged(dbsession, start) == [
        ("webhook.created", boss.id, it, {**where, "events": ["task.created"],
                                          "active": True}),
        ("webhook.changed", boss.id, it, {**where, "fields": ["active", "description"]}),
        ("webhook.secret_changed", boss.id, it, where),
        ("webhook.deleted", boss.id, it, where),
    ]
    assert "127.0.0.1" not in str(logged(dbsession, start))  # the URL may hold credentials


def test_update_project_without_changes_records_nothing(factory: Factory,
                                                        dbsession: Session) -> None:
    boss = factory.user("boss")
    project = factory.project(boss, slug="apollo")
    start = head(dbsession)
    projects.update_project(dbsession, project, boss, {"name": project.name},
                            may=UNRESTRICTED, partial=True)
    assert logged(dbsession, start) == []


# -- transactions ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def failing_app(database_url: str, engine: Any) -> Any:
    """The app with a test-only view that records an entry and then answers 400."""

    def fail_after_recording(request: Any) -> Any:
        audit.record(request.dbsession, kind=AuditKind.SIGN_OUT, actor_id=None)
        raise HTTPBadRequest()

    def extend(config: Any) -> None:
        config.add_view(fail_after_recording, context=Root, name="test-audit-fail",
                        permission=Permission.PUBLIC, require_csrf=False)

    return build_app(database_url, extend)


def test_a_rolled_back_request_writes_no_entry(failing_app: Any, connection: Any,
                                               dbsession: Session) -> None:
    start = head(dbsession)
    with joined(failing_app, connection):
        browser = webtest.TestApp(failing_app, extra_environ={"HTTP_HOST": HOST})
        browser.post("/test-audit-fail", status=400)
    assert logged(dbsession, start) == []


def test_two_factor_and_directory_sign_ins_are_recorded(dbsession, settings) -> None:
    """Two-factor changes, an admin's reset and what a directory sign-in did to the account."""
    user = User(username="zhao", display_name="赵", password_hash="x")
    dbsession.add(user)
    dbsession.flush()
    two_factor.forget_devices(dbsession, user.id)
    two_factor.reset(dbsession, user.id, actor_id=None)
    profile = directory.DirectoryProfile(provider="ldap", subject="qian", username="qian",
                                         display_name="钱", email="", groups=None)
    created = directory.sign_in(dbsession, settings, profile).user
    dbsession.flush()
    kinds = [(e.kind, e.actor_id, e.target) for e in dbsession.scalars(
        select(AuditEntry).order_by(AuditEntry.id)).all()[-3:]]
    assert kinds == [
        ("two_factor.devices_forgotten", user.id, f"user:{user.id}"),
        ("two_factor.reset", None, f"user:{user.id}"),
        ("directory.account_created", created.id, f"user:{created.id}"),
    ]
