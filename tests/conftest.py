"""Test harness: the real WSGI app on a real database, SQLite and PostgreSQL.

* ``database_url`` is parametrised over both backends; PostgreSQL runs when
  ``TASKDESK_TEST_POSTGRES_URL`` is set or a server answers on 127.0.0.1:5432, and skips with
  the reason otherwise. Each run gets its own database (a temporary SQLite file, or a fresh
  PostgreSQL database dropped afterwards), migrated with Alembic: this exercises migrations.
* Each test runs inside one outer transaction rolled back at the end. The app's request
  sessions bind to that connection with ``join_transaction_mode="create_savepoint"``, so
  pyramid_tm's commit and abort (commit veto) behave as in production, but nothing outlives
  the test.
* ``testapp`` is a WebTest ``TestApp`` with its own cookie jar; ``login_as`` signs in through
  the real form, so CSRF tokens and session rotation are exercised.

Helpers (plain functions) live in ``tests.support``; conftest files hold only fixtures.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from taskdesk import main
from tests.support.apps import ATTACHMENTS, HOST, app_settings, joined
from tests.support.browser import ARTIFACTS
from tests.support.databases import create_database, migrated_engine, postgres_admin_url
from tests.support.factories import Factory
from tests.support.web import login


@pytest.fixture(autouse=True)
def _browser_loop_set_aside(request: pytest.FixtureRequest) -> Iterator[None]:
    """Playwright's sync API (the browser tests' session fixture) leaves its event loop
    marked as running in the worker's main thread, where ``asyncio.run`` (the GraphQL view,
    the live brokers' tests) then refuses to start. Outside the browser tests that loop
    runs nothing, so it is set aside for the test and put back after it."""
    loop = asyncio.events._get_running_loop()
    if loop is None or request.node.get_closest_marker("browser") is not None:
        yield
        return
    asyncio.events._set_running_loop(None)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(loop)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from create_database(backend, tmp_path_factory)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = migrated_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def wsgi_app(database_url: str, engine: Engine) -> Any:
    return main({}, **app_settings(database_url))


@pytest.fixture
def connection(engine: Engine, wsgi_app: Any) -> Iterator[Connection]:
    """One connection in an outer transaction that the app's sessions join; rolled back."""
    connection = engine.connect()
    outer = connection.begin()
    try:
        with joined(wsgi_app, connection):
            yield connection
    finally:
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def dbsession(connection: Connection) -> Iterator[Session]:
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    yield session
    session.close()


@pytest.fixture
def settings(wsgi_app: Any) -> Any:
    return wsgi_app.registry.taskdesk_settings


@pytest.fixture
def factory(dbsession: Session, settings: Any) -> Factory:
    return Factory(dbsession, settings)


@pytest.fixture
def testapp(wsgi_app: Any, connection: Connection) -> webtest.TestApp:
    return webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": HOST})


@pytest.fixture
def make_testapp(wsgi_app: Any, connection: Connection) -> Callable[[], webtest.TestApp]:
    """More browsers for the same app (each with its own cookies)."""
    return lambda: webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": HOST})


@pytest.fixture
def login_as(testapp: webtest.TestApp) -> Callable[..., webtest.TestApp]:
    def sign_in(username: str, password: str = Factory.PASSWORD) -> webtest.TestApp:
        response = login(testapp, username, password)
        assert response.status_int == 303, response.text[:500]
        return testapp

    return sign_in


def pytest_report_header(config: pytest.Config) -> str:
    url, reason = postgres_admin_url()
    if url is None:
        return f"databases: sqlite only; PostgreSQL tests skip: {reason}"
    return f"databases: sqlite and postgresql (test databases created on {url})"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Empty the browser tests' screenshot folder once per run: in the only process, or in
    xdist's controller before any worker starts (a worker emptying it would delete the
    screenshots another worker has taken)."""
    if not hasattr(session.config, "workerinput"):
        for old in ARTIFACTS.glob("*.png"):
            old.unlink()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove this process's attachment files (each xdist worker has its own folder)."""
    shutil.rmtree(ATTACHMENTS, ignore_errors=True)
