"""Test harness: the real WSGI app on a real database, SQLite and PostgreSQL.

* ``database_url`` is parametrised over both backends; PostgreSQL runs when
  ``TASKDESK_TEST_POSTGRES_URL`` is set or a server answers on 127.0.0.1:5432, and skips with
  the reason otherwise. Each run gets its own database (a temporary SQLite file, or a fresh
  PostgreSQL database dropped afterwards), migrated with Alembic: this exercises migrations.
* Each test runs inside one outer transaction rolled back at the end. The app's request
  sessions bind to that connection with ``join_transaction_mode="create_savepoint"``, so
  pyramid_tm's commit and abort (commit veto) behave as in production, but nothing outlives
  the test.
* ``testapp`` is a WebTest ``TestApp`` with its own cookie jar; ``login`` signs in through
  the real form, so CSRF tokens and session rotation are exercised.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import webtest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session

from taskdesk import main
from taskdesk.migrations import upgrade
from taskdesk.models import get_engine
from tests.support.factories import Factory

ROOT = Path(__file__).resolve().parent.parent
INI = str(ROOT / "development.ini")
SESSION_SECRET = "test-secret-" + "x" * 40
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> tuple[str | None, str]:
    """The URL of a reachable PostgreSQL server to create test databases on, or why not."""
    url = os.environ.get("TASKDESK_TEST_POSTGRES_URL", "")
    if url:
        return url, ""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return DEFAULT_POSTGRES, ""
    except OSError as error:
        return None, (
            f"PostgreSQL not reachable on 127.0.0.1:5432 ({error}); "
            "set TASKDESK_TEST_POSTGRES_URL to run the PostgreSQL tests"
        )


def create_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``backend``; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'taskdesk.sqlite'}"
        return
    admin_url, reason = postgres_admin_url()
    if admin_url is None:
        pytest.skip(reason)
    name = f"taskdesk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL at {admin_url} refused to create a database: {error}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def connections_refused(url: str) -> Iterator[None]:
    """PostgreSQL database ``url`` unavailable meanwhile, as while its server restarts:
    new connections refused (``ALLOW_CONNECTIONS false``) and every open one terminated."""
    admin_url, reason = postgres_admin_url()
    assert admin_url is not None, reason
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def migrated_engine(url: str) -> Engine:
    engine = get_engine(url)
    upgrade(engine, INI)
    return engine


def app_settings(url: str, **overrides: str) -> dict[str, str]:
    settings = {
        "sqlalchemy.url": url,
        "pyramid.default_locale_name": "en",
        "taskdesk.environment": "production",
        "taskdesk.session.secret": SESSION_SECRET,
        "taskdesk.includes": "taskdesk.web taskdesk.api",
        "taskdesk.roles.reporter": "view comment set_status",
        "retry.attempts": "3",
    }
    settings.update(overrides)
    return settings


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


@contextmanager
def joined(app: Any, connection: Connection) -> Iterator[None]:
    """Make ``app``'s request sessions join the test's outer transaction on ``connection``
    (with savepoints, so a request's commit or abort stays inside it)."""
    binds = app.registry["dbbinds"]
    saved = binds.write, binds.read, binds.session_options
    binds.write = binds.read = connection
    binds.session_options = {"join_transaction_mode": "create_savepoint"}
    try:
        yield
    finally:
        binds.write, binds.read, binds.session_options = saved


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
    return webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": "taskdesk.test"})


@pytest.fixture
def make_testapp(wsgi_app: Any, connection: Connection) -> Callable[[], webtest.TestApp]:
    """More browsers for the same app (each with its own cookies)."""
    return lambda: webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": "taskdesk.test"})


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(app: webtest.TestApp) -> str:
    """The CSRF token of ``app``'s session, read from a form the way a browser sees it."""
    page = app.get("/login")
    match = CSRF_INPUT.search(page.text)
    assert match, "no CSRF token on the sign-in page"
    return match.group(1)


def confirm(page: webtest.TestResponse, **kw: Any) -> webtest.TestResponse:
    """Press the confirming button of the page a destructive form answers with when it
    comes without ``confirmed=yes`` (a browser without JavaScript), as a user would."""
    assert page.status_int == 200, page.status
    found = [f for f in page.forms.values() if "confirmed" in f.fields]
    assert len(found) == 1, f"no confirmation asked on {page.request.url}"
    assert found[0]["confirmed"].value == "yes"
    return found[0].submit(**kw)


def login(app: webtest.TestApp, username: str, password: str = Factory.PASSWORD) -> Any:
    page = app.get("/login")
    form = next(f for f in page.forms.values() if "username" in f.fields)
    form["username"] = username
    form["password"] = password
    return form.submit()


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
