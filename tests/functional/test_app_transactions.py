"""One transaction per request: committed on success, rolled back on an error response.

A request that writes and then answers 4xx/5xx (or raises) must leave nothing behind.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import webtest
from pyramid.path import DottedNameResolver
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import taskdesk.models
from taskdesk import make_configurator
from taskdesk.domain import accounts
from taskdesk.models import ApiToken, Group, LoginFailure
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission
from tests.support.apps import app_settings
from tests.support.factories import Factory


class ProbeError(Exception):
    """Raised by the probe view after it has written."""


def write_then_answer(request: Request) -> Response:
    """Write a row, then answer with the status the test asks for (or raise)."""
    request.dbsession.add(Group(name=request.params["name"]))
    request.dbsession.flush()
    status = request.params["status"]
    if status == "raise":
        raise ProbeError("after writing")
    return Response("written", status=int(status))


@pytest.fixture(scope="module")
def probe_app(spare_database_url: str, spare_engine: Engine) -> Any:
    """The real app, core only, plus one view that writes and then fails as told.

    The view lives here, in the test: nothing test-only is in the source tree.
    """
    config = make_configurator(app_settings(spare_database_url, **{"taskdesk.includes": ""}))
    config.add_view(write_then_answer, context=Root, name="probe", request_method="POST",
                    permission=Permission.PUBLIC, require_csrf=False)
    app = config.make_wsgi_app()
    yield webtest.TestApp(app, extra_environ={"HTTP_HOST": "taskdesk.test"})
    app.registry["dbbinds"].engine.dispose()


def groups_named(engine: Engine, name: str) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(
            text("SELECT count(*) FROM groups WHERE name = :name"), {"name": name}
        ) or 0)


def test_commit_veto_is_configured(probe_app: webtest.TestApp) -> None:
    settings = probe_app.app.registry.settings
    resolve = DottedNameResolver().maybe_resolve
    # Taskdesk's veto is pyramid_tm's, except for requests that keep their changes on
    # purpose (recorded authentication failures); the tests below prove the rollbacks.
    assert resolve(settings["tm.commit_veto"]) is taskdesk.models.commit_veto
    # Explicit transaction managers (nothing begins by accident), one per server thread.
    hook = settings["tm.manager_hook"]
    manager = hook(None)
    assert manager.explicit
    assert hook(None) is manager
    elsewhere: list[Any] = []
    thread = threading.Thread(target=lambda: elsewhere.append(hook(None)))
    thread.start()
    thread.join()
    assert elsewhere[0].explicit
    assert elsewhere[0] is not manager


@pytest.mark.parametrize("status", [200, 201, 303])
def test_success_commits(probe_app: webtest.TestApp, spare_engine: Engine, status: int) -> None:
    name = f"ok-{uuid.uuid4().hex[:10]}"
    probe_app.post("/probe", {"name": name, "status": str(status)}, status=status)
    assert groups_named(spare_engine, name) == 1


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422, 429, 500, 503])
def test_error_response_leaves_nothing_behind(
    probe_app: webtest.TestApp, spare_engine: Engine, status: int
) -> None:
    name = f"vetoed-{uuid.uuid4().hex[:10]}"
    probe_app.post("/probe", {"name": name, "status": str(status)}, status=status)
    assert groups_named(spare_engine, name) == 0


def test_exception_leaves_nothing_behind(
    probe_app: webtest.TestApp, spare_engine: Engine
) -> None:
    name = f"raised-{uuid.uuid4().hex[:10]}"
    try:
        response = probe_app.post("/probe", {"name": name, "status": "raise"},
                                  expect_errors=True)
    except ProbeError:
        pass  # no error view in this configuration: the exception leaves the app
    else:
        assert response.status_int == 500
    assert groups_named(spare_engine, name) == 0


def test_denied_token_request_rolls_back_the_token_touch(
    testapp: webtest.TestApp, factory: Factory, dbsession: Session
) -> None:
    """A real path: the bearer-token identity writes ``last_used_at``; when the request is
    then refused (a read-only token may not POST) the write is rolled back with it."""
    user = factory.user("tokenuser")
    token, secret = accounts.create_token(dbsession, user, {"name": "ci", "scope": "read"})
    dbsession.flush()
    headers = {"Authorization": f"Bearer {secret}"}

    testapp.post("/logout", headers=headers, status=403)
    dbsession.expire_all()
    assert dbsession.get(ApiToken, token.id).last_used_at is None

    testapp.get("/api/v1/me", headers=headers, status=200)
    dbsession.expire_all()
    assert dbsession.get(ApiToken, token.id).last_used_at is not None


def test_throttled_sign_in_answers_429_and_writes_nothing(
    make_testapp: Callable[[], webtest.TestApp], factory: Factory, dbsession: Session,
    settings: Any,
) -> None:
    factory.user("throttled")
    browser = make_testapp()

    def failures() -> int:
        dbsession.expire_all()
        return int(dbsession.scalar(select(func.count()).select_from(LoginFailure)) or 0)

    def sign_in(password: str, status: int) -> None:
        page = browser.get("/login")
        form = next(f for f in page.forms.values() if "username" in f.fields)
        form["username"] = "throttled"
        form["password"] = password
        form.submit(status=status)

    for attempt in range(1, settings.login_account_limit + 1):
        sign_in("wrong password!", 200)
        assert failures() == 2 * attempt  # one row per account and one per address
    sign_in(Factory.PASSWORD, 429)
    assert failures() == 2 * settings.login_account_limit
