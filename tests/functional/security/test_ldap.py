"""Signing in with an LDAP password: Debian's slapd on a loopback port (tests.support.slapd),
both ways of finding the person (search-then-bind, bind with a DN template), group sync,
deactivation, hostile usernames and a directory that does not answer."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import webtest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.domain import accounts, directory
from taskdesk.models import Group, GroupMember, LoginFailure, User
from taskdesk.security import ldap
from taskdesk.security.login import authenticate
from taskdesk.settings import TaskdeskSettings, parse_settings
from tests.support.factories import Factory
from tests.support.slapd import (
    PASSWORDS,
    SERVICE_DN,
    SERVICE_PASSWORD,
    SUFFIX,
    Slapd,
    slapd_binary,
    slapd_server,
)
from tests.support.web import login

ALERT = re.compile(r'<p role="alert" class="form-summary">([^<]*)</p>')
PASSWORD_VARIABLE = "TASKDESK_TEST_LDAP_BIND_PASSWORD"
GROUPS = f"devs -> developers\ncn=admins,ou=groups,{SUFFIX} -> site-admin"
WRONG = "Wrong username or password."
UNREACHABLE = "The company directory cannot be reached. Please try again later."


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    reason = slapd_binary()
    if reason is not None:
        pytest.skip(reason)
    os.environ[PASSWORD_VARIABLE] = SERVICE_PASSWORD
    try:
        with slapd_server(tmp_path_factory.mktemp("slapd")) as server:
            yield server
    finally:
        os.environ.pop(PASSWORD_VARIABLE, None)


def search_settings(slapd: Slapd, **more: str) -> dict[str, str]:
    return {"taskdesk.ldap.url": slapd.url, "taskdesk.ldap.base_dn": f"ou=people,{SUFFIX}",
            "taskdesk.ldap.bind_dn": SERVICE_DN,
            "taskdesk.ldap.bind_password_env": PASSWORD_VARIABLE,
            "taskdesk.ldap.user_filter": "(objectClass=inetOrgPerson)",
            "taskdesk.ldap.group_base_dn": f"ou=groups,{SUFFIX}",
            "taskdesk.directory.groups": GROUPS, **more}


def template_settings(slapd: Slapd, **more: str) -> dict[str, str]:
    return {"taskdesk.ldap.url": slapd.url,
            "taskdesk.ldap.user_dn_template": f"uid={{username}},ou=people,{SUFFIX}",
            "taskdesk.directory.groups": GROUPS, **more}


DEVELOPMENT = {"sqlalchemy.url": "sqlite://", "taskdesk.environment": "development"}


def parsed(slapd: Slapd, mode: str) -> TaskdeskSettings:
    """The settings of ``mode``'s app, as the app parses them."""
    chosen = search_settings(slapd) if mode == "search" else template_settings(slapd)
    return parse_settings({**DEVELOPMENT, **chosen})


@pytest.fixture(params=["search", "template"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(app_with: Callable[..., webtest.TestApp], slapd: Slapd, mode: str) -> webtest.TestApp:
    return app_with(**(search_settings(slapd) if mode == "search" else template_settings(slapd)))


def alert(page: webtest.TestResponse) -> str:
    found = ALERT.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


def groups_of(dbsession: Session, user: User) -> list[str]:
    return list(dbsession.scalars(select(Group.name).join(GroupMember).where(
        GroupMember.user_id == user.id).order_by(Group.name)))


def test_a_directory_password_signs_in_and_creates_the_account(
    app: webtest.TestApp, dbsession: Session
) -> None:
    answer = login(app, "Alice", PASSWORDS["alice"])
    assert answer.status_int == 303
    assert app.get("/api/v1/me").json["username"] == "alice"
    alice = dbsession.scalars(select(User).where(User.username == "alice")).one()
    assert (alice.display_name, alice.email, alice.is_site_admin) == (
        "Alice Liddell", "alice@example.com", False)
    assert groups_of(dbsession, alice) == ["developers"]


def test_a_mapped_admin_group_grants_site_admin(
    app: webtest.TestApp, dbsession: Session
) -> None:
    assert login(app, "bob", PASSWORDS["bob"]).status_int == 303
    bob = dbsession.scalars(select(User).where(User.username == "bob")).one()
    assert bob.is_site_admin
    assert groups_of(dbsession, bob) == []


def test_a_wrong_directory_password_is_refused_and_counted(
    app: webtest.TestApp, dbsession: Session
) -> None:
    page = login(app, "alice", "not-her-password")
    assert alert(page) == WRONG
    assert app.get("/api/v1/me", expect_errors=True).status_int == 401
    failures = dbsession.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.key == "account:alice"))
    assert failures == 1


def test_an_empty_password_is_never_sent_as_an_anonymous_bind(
    app: webtest.TestApp, slapd: Slapd, mode: str
) -> None:
    page = app.get("/login")
    form = page.forms["login-form"]
    form["username"] = "alice"
    form["password"] = ""
    assert alert(form.submit()) == WRONG
    assert ldap.authenticate(parsed(slapd, mode), "alice", "") == ldap.LdapOutcome()


@pytest.mark.parametrize("username", ["*)(uid=*", "*", "alice)(|(uid=*", "alice,ou=people"])
def test_a_filter_or_dn_in_the_username_matches_nobody(
    username: str, app: webtest.TestApp, slapd: Slapd, mode: str, dbsession: Session
) -> None:
    for password in (PASSWORDS["alice"], SERVICE_PASSWORD):
        assert alert(login(app, username, password)) == WRONG
    settings = parsed(slapd, mode)
    outcome = ldap.authenticate(settings, username, PASSWORDS["alice"])
    assert outcome.entry is None
    if mode == "search":
        assert outcome.gone  # the escaped filter found no entry at all
    assert dbsession.scalar(select(func.count()).select_from(User)) == 0


def test_a_disabled_entry_cannot_sign_in_and_its_account_is_deactivated(
    app_with: Callable[..., webtest.TestApp], slapd: Slapd, dbsession: Session
) -> None:
    app = app_with(**search_settings(slapd))
    dora = _linked_account(dbsession, "dora")
    _, secret = accounts.create_token(dbsession, dora, {"name": "ci", "scope": "read"})
    headers = {"Authorization": f"Bearer {secret}"}
    assert app.get("/api/v1/me", headers=headers).status_int == 200
    assert alert(login(app, "dora", PASSWORDS["dora"])) == WRONG
    dbsession.expire_all()
    assert not dora.is_active
    assert app.get("/api/v1/me", headers=headers, expect_errors=True).status_int == 401


def test_an_entry_gone_from_the_directory_deactivates_its_account(
    app_with: Callable[..., webtest.TestApp], slapd: Slapd, dbsession: Session
) -> None:
    app = app_with(**search_settings(slapd))
    zed = _linked_account(dbsession, "zed")
    assert alert(login(app, "zed", "whatever")) == WRONG
    dbsession.expire_all()
    assert not zed.is_active


def _linked_account(dbsession: Session, name: str) -> User:
    settings = parse_settings(DEVELOPMENT)
    return directory.sign_in(dbsession, settings, directory.DirectoryProfile(
        provider=directory.LDAP, subject=name, username=name)).user


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung directory)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


@pytest.mark.parametrize("where", ["silent", "closed"])
def test_an_unreachable_directory_is_said_so_in_bounded_time(
    where: str, app_with: Callable[..., webtest.TestApp], silent_server: int,
    dbsession: Session
) -> None:
    from tests.support.servers import free_port

    port = silent_server if where == "silent" else free_port()
    app = app_with(**{"taskdesk.ldap.url": f"ldap://127.0.0.1:{port}",
                      "taskdesk.ldap.user_dn_template": f"uid={{username}},ou=people,{SUFFIX}",
                      "taskdesk.ldap.timeout": "1"})
    began = time.monotonic()
    page = login(app, "alice", PASSWORDS["alice"])
    assert time.monotonic() - began < 5
    assert page.status_int == 200
    assert alert(page) == UNREACHABLE
    # Not the account's fault: nothing counts towards its throttling.
    assert dbsession.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_local_passwords_for_admins_only(
    app_with: Callable[..., webtest.TestApp], slapd: Slapd, factory: Factory
) -> None:
    app = app_with(**search_settings(slapd, **{"taskdesk.auth.local_passwords": "admins"}))
    factory.user("root", admin=True)
    factory.user("carol")
    assert alert(login(app, "carol")) == WRONG
    assert login(app, "root").status_int == 303
    other = app_with(**search_settings(slapd, **{"taskdesk.auth.local_passwords": "admins"}))
    assert login(other, "alice", PASSWORDS["alice"]).status_int == 303


def test_local_passwords_off_but_the_cli_can_still_reset_one(
    app_with: Callable[..., webtest.TestApp], slapd: Slapd, factory: Factory,
    dbsession: Session
) -> None:
    app = app_with(**search_settings(slapd, **{"taskdesk.auth.local_passwords": "off"}))
    root = factory.user("root", admin=True)
    assert alert(login(app, "root")) == WRONG
    accounts.set_password(dbsession, root, "a brand new password")  # taskdesk set-password
    assert root.password_hash.startswith("$argon2")
    assert login(app, "alice", PASSWORDS["alice"]).status_int == 303


def test_a_directory_made_account_has_no_usable_local_password(
    app: webtest.TestApp, make_testapp: Callable[[], webtest.TestApp], dbsession: Session
) -> None:
    login(app, "alice", PASSWORDS["alice"])
    alice = dbsession.scalars(select(User).where(User.username == "alice")).one()
    assert alice.password_hash == directory.NO_PASSWORD
    assert alert(login(make_testapp(), "alice", directory.NO_PASSWORD)) == WRONG


def test_service_account_password_comes_from_the_environment(slapd: Slapd) -> None:
    settings = parse_settings({**DEVELOPMENT, **search_settings(slapd)})
    assert settings.ldap_bind_password == SERVICE_PASSWORD
    assert SERVICE_PASSWORD not in repr(settings)



@pytest.mark.parametrize("transport", ["starttls", "ldaps"])
def test_tls_with_the_servers_certificate_verified(
    transport: str, app_with: Callable[..., webtest.TestApp], slapd: Slapd
) -> None:
    secure = ({"taskdesk.ldap.starttls": "true"} if transport == "starttls"
              else {"taskdesk.ldap.url": slapd.ldaps_url})
    trusted = app_with(**template_settings(slapd, **secure,
                                           **{"taskdesk.ldap.ca_file": slapd.ca_file}))
    assert login(trusted, "alice", PASSWORDS["alice"]).status_int == 303
    # Without its authority the self-signed certificate is refused: no password is sent.
    untrusted = app_with(**template_settings(slapd, **secure))
    assert alert(login(untrusted, "alice", PASSWORDS["alice"])) == UNREACHABLE


def test_authenticate_says_what_a_directory_sign_in_did(
    slapd: Slapd, dbsession: Session
) -> None:
    """What the audit log needs: the method, and whether the account was made or changed."""
    settings = parsed(slapd, "search")
    first = authenticate(dbsession, settings, "alice", PASSWORDS["alice"], "127.0.0.1")
    assert first.method == "ldap"
    assert first.directory is not None
    assert first.directory.created
    assert first.directory.groups.added == ["developers"]
    again = authenticate(dbsession, settings, "alice", PASSWORDS["alice"], "127.0.0.1")
    assert again.directory is not None
    assert not again.directory.created
    assert again.directory.groups.added == []
