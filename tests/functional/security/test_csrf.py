"""CSRF: every state-changing view, called with a session cookie but without a valid CSRF
token, is refused and changes nothing. The views come from the permission matrix's rules, so
a new view is covered as soon as it has a rule; the caller is a site admin, whom every rule
allows, so only the missing token can be the reason for a refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from taskdesk.models import Base
from tests.functional.security.matrix import SAFE_METHODS, Rule, send
from tests.functional.security.test_permission_matrix import RULES
from tests.functional.security.world import ACTORS, World, build_world
from tests.support.apps import HOST
from tests.support.factories import Factory
from tests.support.sessions import csrf_of, new_browser

ADMIN = next(actor for actor in ACTORS if actor.name == "site_admin")
WRITE_TOKEN = next(actor for actor in ACTORS if actor.name == "write_token")
#: Views that take no CSRF token by design: the one-click link of notification mails, which
#: mail programs POST by themselves (RFC 8058); its signed token authorises it.
CSRF_EXEMPT = {("Root", "unsubscribe")}
UNSAFE_RULES = [rule for rule in RULES
                if rule.method not in SAFE_METHODS and (rule.context, rule.name) not in CSRF_EXEMPT]


def snapshot(connection: Connection) -> dict[str, list[str]]:
    """Every row of every table, comparable before and after a request."""
    return {
        table.name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
        for table in Base.metadata.sorted_tables
    }


def refused_without_change(
    app: webtest.TestApp, connection: Connection, world: World, rule: Rule,
    headers: dict[str, str], body_extra: dict[str, str],
) -> str | None:
    """Send ``rule`` as the admin with ``headers`` instead of a valid token; a problem or None."""
    savepoint = connection.begin_nested()
    try:
        before = snapshot(connection)
        saved = world.headers[ADMIN.name]
        world.headers[ADMIN.name] = {**saved, **headers}
        body = rule.body
        if body_extra:
            rule = Rule(**{**rule.__dict__,
                           "body": lambda w, s: {**(body(w, s) if body else {}), **body_extra}})
        try:
            response = send(app, world, ADMIN, rule, "private", csrf=False)
        finally:
            world.headers[ADMIN.name] = saved
        after = snapshot(connection)
    finally:
        savepoint.rollback()
    where = f"{rule.method} {rule.url(world, 'private', ADMIN)}"
    if response.status_int != (403 if rule.api else 400):
        return f"{where}: {response.status} without a valid CSRF token"
    changed = [name for name in before if before[name] != after[name]]
    if changed:
        return f"{where}: refused but changed {changed}"
    return None


@pytest.mark.parametrize("variant", ["missing", "wrong header", "wrong form field"])
def test_state_changes_by_cookie_need_the_csrf_token(
    variant: str, wsgi_app: Any, connection: Connection, dbsession: Session, factory: Factory
) -> None:
    world = build_world(factory, dbsession)
    app = new_browser(wsgi_app)
    headers = {"X-CSRF-Token": "0" * 40} if variant == "wrong header" else {}
    problems = []
    for rule in UNSAFE_RULES:
        if variant == "wrong form field" and rule.api:
            continue  # JSON bodies carry no form fields; the header variants cover the API
        extra = {"csrf_token": "0" * 40} if variant == "wrong form field" else {}
        problem = refused_without_change(app, connection, world, rule, headers, extra)
        if problem:
            problems.append(problem)
    assert UNSAFE_RULES
    assert not problems, "\n".join(problems)


def test_bearer_token_requests_need_no_csrf_token(
    wsgi_app: Any, connection: Connection, dbsession: Session, factory: Factory
) -> None:
    """The write token (the member's) changes things without any CSRF token."""
    world = build_world(factory, dbsession)
    app = new_browser(wsgi_app)
    rule = next(r for r in UNSAFE_RULES if r.api and r.context == "TaskContainer")
    response = send(app, world, WRITE_TOKEN, rule, "private", csrf=False)
    assert response.status_int == 201


def test_over_https_a_foreign_origin_is_refused_even_with_the_token(
    factory: Factory, app_with: Callable[..., webtest.TestApp]
) -> None:
    factory.user("alice")
    app = app_with(**{"taskdesk.https": "true"})
    app.extra_environ["wsgi.url_scheme"] = "https"
    token = csrf_of(app)
    fields = {"username": "alice", "password": Factory.PASSWORD, "csrf_token": token}
    for headers in ({"Origin": "https://evil.example"},
                    {"Referer": "https://evil.example/login"},
                    {"Origin": f"http://{HOST}"}):
        refused = app.post("/login", fields, headers=headers, expect_errors=True)
        assert refused.status_int == 400, headers
    accepted = app.post("/login", fields, headers={"Origin": f"https://{HOST}"})
    assert accepted.status_int == 303
