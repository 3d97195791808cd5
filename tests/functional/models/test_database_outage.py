"""The database unavailable: 503 with ``Retry-After`` (JSON for the API, the layout's page
for people), one log line with the request id, and the next request after it is back works.

Each site here has a database of its own, cut off for real:

* PostgreSQL: ``ALLOW_CONNECTIONS false`` and every backend of the database terminated, so
  the pooled connections are dead and new ones are refused (as while the server restarts);
* SQLite: the file replaced by a directory, by a file that is no database, or its folder
  gone. An open SQLite connection keeps reading the file it opened, whatever happens to the
  path, so the outage shows once the process opens new connections: the pool is emptied
  first, as a restarted process would have it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import transaction
import webtest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from taskdesk import main, make_configurator
from taskdesk.domain import accounts
from taskdesk.models import User, get_engine, get_tm_session
from taskdesk.resources import Root
from taskdesk.security.permissions import Permission
from taskdesk.settings import settings_of
from tests.support.apps import app_settings
from tests.support.databases import (
    connections_refused,
    create_database,
    migrated_engine,
    postgres_admin_url,
)
from tests.support.factories import Factory, password_hash
from tests.support.web import login

HOST = "taskdesk.test"
UNREACHABLE = "The database cannot be reached right now; please try again in a moment."


@dataclass
class Site:
    """An app on a database of its own, with the user ``ada`` and her API token."""

    url: str
    app: Any
    token: str

    @property
    def engine(self) -> Engine:
        return self.app.registry["dbbinds"].engine

    def client(self) -> webtest.TestApp:
        return webtest.TestApp(self.app, extra_environ={"HTTP_HOST": HOST})

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @contextmanager
    def cut_off(self, how: str = "directory") -> Iterator[None]:
        """The database unavailable meanwhile (``how``: the SQLite failure)."""
        if self.engine.dialect.name == "postgresql":
            with connections_refused(self.url):
                yield
        else:
            with _sqlite_file_broken(self.engine, Path(str(make_url(self.url).database)), how):
                yield


@contextmanager
def _sqlite_file_broken(engine: Engine, database: Path, how: str) -> Iterator[None]:
    # Close the connections the pool kept (checkpointing the WAL). The pool itself stays:
    # the engine of read-only requests shares it.
    engine.pool.dispose()
    folder = database.parent
    aside = folder.with_name(folder.name + "-aside")
    shutil.move(folder, aside)
    if how != "folder gone":
        folder.mkdir()
        if how == "directory":
            database.mkdir()
        else:
            database.write_bytes(b"this is no SQLite database\n" * 200)
    try:
        yield
    finally:
        engine.pool.dispose()
        if folder.exists():
            shutil.rmtree(folder)
        shutil.move(aside, folder)


def _create_account(app: Any) -> str:
    """Commit the user ``ada`` and return the secret of her write token."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(app.registry["dbsession_factory"], manager)
        user = User(username="ada", display_name="Ada", email="ada@example.com",
                    password_hash=password_hash(settings_of(app.registry).password_cost))
        dbsession.add(user)
        dbsession.flush()
        _token, secret = accounts.create_token(dbsession, user, {"name": "t", "scope": "write"})
    return str(secret)


@pytest.fixture(scope="module")
def site(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    for url in create_database(backend, tmp_path_factory):
        migrated_engine(url).dispose()
        app = main({}, **app_settings(url))
        yield Site(url, app, _create_account(app))
        app.registry["dbbinds"].engine.dispose()


def _problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


def assert_logged_once(caplog: pytest.LogCaptureFixture, response: webtest.TestResponse) -> None:
    """One warning line naming the request id, no traceback, nothing else above INFO."""
    problems = _problems(caplog)
    assert len(problems) == 1, [record.getMessage() for record in problems]
    line = problems[0]
    assert line.name == "taskdesk.error"
    assert line.exc_info is None
    assert f"request_id={response.headers['X-Request-ID']} answered 503" in line.getMessage()
    assert "\n" not in line.getMessage()
    caplog.clear()


def test_an_api_call_is_503_while_the_database_is_unreachable_and_works_after(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    client = site.client()
    assert client.get("/api/v1/me", headers=site.bearer).json["username"] == "ada"
    caplog.set_level(logging.INFO)
    with site.cut_off():
        caplog.clear()
        refused = client.get("/api/v1/me", headers=site.bearer, status=503)
        assert refused.json == {"error": {"status": 503, "code": "database_unavailable",
                                          "message": UNREACHABLE}}
        assert refused.headers["Retry-After"] == "5"
        assert refused.headers["Cache-Control"] == "no-store"
        assert_logged_once(caplog, refused)
        write = client.post_json("/api/v1/projects", {"slug": "during", "name": "During"},
                                 headers=site.bearer, status=503)
        assert write.json["error"]["code"] == "database_unavailable"
        assert_logged_once(caplog, write)
    assert client.get("/api/v1/me", headers=site.bearer).json["username"] == "ada"
    assert client.get("/api/v1/projects/during", headers=site.bearer,
                      expect_errors=True).status_int == 404  # nothing was half-written
    assert not _problems(caplog)


def test_a_signed_in_page_is_the_layouts_503_page_and_works_after(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    browser = site.client()
    assert login(browser, "ada").status_int == 303
    assert "Ada" in browser.get("/projects").text
    caplog.set_level(logging.INFO)
    with site.cut_off():
        caplog.clear()
        page = browser.get("/projects", status=503)
        assert page.headers["Retry-After"] == "5"
        assert page.content_type == "text/html"
        assert page.html.select_one("header.site-header") is not None  # the site layout
        assert page.html.h1.text == "Temporarily unavailable"
        assert UNREACHABLE in page.text
        assert "Traceback" not in page.text
        assert_logged_once(caplog, page)
        chinese = browser.get("/projects", headers={"Accept-Language": "zh-CN"}, status=503)
        assert "暂时无法使用" in chinese.text
        caplog.clear()
    assert "Ada" in browser.get("/projects").text  # still signed in: the session outlived it


def test_the_sign_in_page_shows_and_signing_in_is_503_then_works_after(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    browser = site.client()
    caplog.set_level(logging.INFO)
    with site.cut_off():
        caplog.clear()
        form = browser.get("/login").forms["login-form"]  # needs no database
        form["username"] = "ada"
        form["password"] = Factory.PASSWORD
        page = form.submit(status=503)
        assert page.headers["Retry-After"] == "5"
        assert UNREACHABLE in page.text
        assert_logged_once(caplog, page)
        # An anonymous visitor's page that looks a project up gets the same page.
        project = browser.get("/projects/some-project", status=503)
        assert UNREACHABLE in project.text
        assert_logged_once(caplog, project)
    assert login(browser, "ada").status_int == 303
    assert "Ada" in browser.get("/").text


@pytest.mark.parametrize("how", ["directory", "not a database", "folder gone"])
def test_every_broken_sqlite_file_is_503(site: Site, backend: str, how: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's database file")
    client = site.client()
    with site.cut_off(how):
        refused = client.get("/api/v1/me", headers=site.bearer, status=503)
        assert refused.json["error"]["code"] == "database_unavailable"
    assert client.get("/api/v1/me", headers=site.bearer).status_int == 200


def test_no_free_pooled_connection_in_time_is_503_busy(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """A pool with one connection, held elsewhere: the request gives up after the pool
    timeout and is told to come back."""
    binds = site.app.registry["dbbinds"]
    small = get_engine(site.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    saved = binds.write, binds.read
    binds.write = binds.read = small
    client = site.client()
    caplog.set_level(logging.INFO)
    try:
        with small.connect():
            caplog.clear()
            refused = client.get("/api/v1/me", headers=site.bearer, status=503)
        assert refused.json["error"]["code"] == "busy"
        assert refused.headers["Retry-After"] == "1"
        assert_logged_once(caplog, refused)
        assert client.get("/api/v1/me", headers=site.bearer).status_int == 200
    finally:
        binds.write, binds.read = saved
        small.dispose()


def test_a_database_error_that_is_no_outage_stays_a_500(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing table is a broken deployment or a bug, not a reason to come back later."""
    with site.engine.begin() as connection:
        connection.execute(text("ALTER TABLE api_tokens RENAME TO api_tokens_away"))
    try:
        response = site.client().get("/api/v1/me", headers=site.bearer, status=500)
        assert response.json["error"]["code"] == "server_error"
        assert "Retry-After" not in response.headers
    finally:
        with site.engine.begin() as connection:
            connection.execute(text("ALTER TABLE api_tokens_away RENAME TO api_tokens"))


def _ask_the_database(request: Any) -> Any:
    request.dbsession.execute(text("SELECT 1"))
    request.response.text = "answered"
    return request.response


def test_without_any_error_page_an_outage_is_still_a_bare_503(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """No feature package, so no exception view: the request-id tween answers itself (and
    the request metrics count the 503 it answers)."""
    config = make_configurator(app_settings(site.url,
                                            **{"taskdesk.includes": "taskdesk.metrics"}))
    config.add_view(_ask_the_database, context=Root, name="ask",
                    permission=Permission.PUBLIC)
    bare = config.make_wsgi_app()
    client = webtest.TestApp(bare, extra_environ={"HTTP_HOST": HOST})
    assert client.get("/ask").text == "answered"
    caplog.set_level(logging.INFO)
    try:
        with site.cut_off():
            bare.registry["dbbinds"].engine.pool.dispose()
            caplog.clear()
            refused = client.get("/ask", status=503)
            assert refused.headers["Retry-After"] == "5"
            assert refused.text == (
                f"Service Unavailable. Request id: {refused.headers['X-Request-ID']}\n")
            assert_logged_once(caplog, refused)
        assert client.get("/ask").text == "answered"
        metrics = client.get("/metrics", extra_environ={"REMOTE_ADDR": "127.0.0.1"}).text
        assert ('taskdesk_http_requests_total{view="Root/ask",method="GET",status="503"} 1'
                in metrics.splitlines())
    finally:
        bare.registry["dbbinds"].engine.dispose()


def _lose_the_connection_before_commit(request: Any) -> Any:
    """Write, then have the server terminate this request's connection: the view returns,
    and pyramid_tm's commit is what fails."""
    dbsession = request.dbsession
    dbsession.execute(text("UPDATE users SET display_name = 'Lost' WHERE username = 'ada'"))
    pid = dbsession.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin_url, _reason = postgres_admin_url()
    admin = create_engine(str(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    request.response.text = "written"
    return request.response


def test_a_connection_lost_at_commit_is_503_and_nothing_is_written(
    site: Site, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    if backend != "postgresql":
        pytest.skip("terminates a PostgreSQL backend")
    config = make_configurator(app_settings(site.url))
    config.add_view(_lose_the_connection_before_commit, context=Root, name="lose",
                    request_method="POST", require_csrf=False, permission=Permission.PUBLIC)
    app = config.make_wsgi_app()
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})
    caplog.set_level(logging.INFO)
    try:
        caplog.clear()
        page = client.post("/lose", status=503)
        assert UNREACHABLE in page.text
        assert page.headers["Retry-After"] == "5"
        assert_logged_once(caplog, page)
        me = site.client().get("/api/v1/me", headers=site.bearer).json
        assert me["display_name"] == "Ada"
    finally:
        app.registry["dbbinds"].engine.dispose()
