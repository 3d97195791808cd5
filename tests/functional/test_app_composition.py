"""Pluggable composition: the core always, feature packages only when the INI lists them.

Each composition serves its real pages over real data (a project with tasks), so a feature
package that reaches into another (a link built from the other's route) fails here.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from configparser import ConfigParser
from dataclasses import dataclass

import pytest
import webtest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from taskdesk.domain import accounts
from taskdesk.domain.comments import add_comment
from tests.support.databases import ROOT
from tests.support.factories import Factory
from tests.support.web import login

WEB = "taskdesk.web"
API = "taskdesk.api"


@dataclass(frozen=True)
class Seeded:
    username: str
    slug: str
    token: str


def seed(app: webtest.TestApp, engine: Engine) -> Seeded:
    """A manager with a project holding two tasks and a comment, committed (the spare app
    runs outside the test's transaction); names are unique per call."""
    suffix = uuid.uuid4().hex[:8]
    with Session(bind=engine, expire_on_commit=False) as session:
        factory = Factory(session, app.app.registry.taskdesk_settings)
        manager = factory.user(f"lead{suffix}", display_name="王芳")
        project = factory.project(manager, slug=f"pilot-{suffix}", name="Pilot 项目")
        task = factory.task(project, manager, title="第一个任务", labels=["pilot"])
        factory.task(project, manager, title="Second task")
        accounts.create_token(session, manager, {"name": "composition", "scope": "read"})
        _token, secret = accounts.create_token(session, manager, {"name": "ci"})
        add_comment(session, task, manager, {"body": "看起来不错"})
        session.commit()
        return Seeded(manager.username, project.slug, secret)


def _csv_rows(response: webtest.TestResponse) -> list[list[str]]:
    assert response.content_type == "text/csv"
    return list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))


def check_web_pages(app: webtest.TestApp, seeded: Seeded, *, with_api: bool) -> None:
    assert login(app, seeded.username).status_int == 303
    project = f"/projects/{seeded.slug}"
    pages = {
        "/": "Dashboard",
        "/projects": "Pilot 项目",
        f"{project}/": "第一个任务",
        f"{project}/board": "Second task",
        f"{project}/charts": "Pilot 项目",
        f"{project}/tasks/1": "看起来不错",
        f"{project}/members": "王芳",
        "/me": "王芳",
        "/me/tokens": "composition",
    }
    for url, expected in pages.items():
        page = app.get(url, status=200)
        assert expected in page.text, url
        assert bool(page.html.find("a", string="API reference")) is with_api, url
    listing = app.get(f"{project}/")
    export = app.get(listing.html.find("a", string="Export CSV")["href"], status=200)
    rows = _csv_rows(export)
    assert [row[2] for row in rows[1:]] == ["Second task", "第一个任务"]
    assert rows[2][rows[0].index("url")] == f"http://taskdesk.test{project}/tasks/1"


def check_api(app: webtest.TestApp, seeded: Seeded, *, with_web: bool) -> None:
    auth = {"Authorization": f"Bearer {seeded.token}"}
    project = f"/api/v1/projects/{seeded.slug}"
    assert app.get("/api/v1/me", headers=auth).json["username"] == seeded.username
    assert seeded.slug in [p["slug"] for p in app.get("/api/v1/projects", headers=auth)
                           .json["items"]]
    tasks = app.get(f"{project}/tasks", headers=auth).json["items"]
    assert [t["title"] for t in tasks] == ["Second task", "第一个任务"]
    assert app.get(f"{project}/tasks/1", headers=auth).json["labels"] == ["pilot"]
    missing = app.get(f"{project}/tasks/9", headers={**auth, "Accept-Language": "zh-CN"},
                      status=404)
    assert missing.json["error"]["message"] == "这里什么都没有。"
    comments = app.get(f"{project}/tasks/1/comments", headers=auth).json["items"]
    assert [c["body"] for c in comments] == ["看起来不错"]
    assert app.get(f"{project}/members", headers=auth).json["items"][0]["role"] == "manager"
    assert app.get(f"{project}/tasks/1/activity", headers=auth).json["items"]
    assert app.get("/api/v1/tasks", headers=auth).json["items"]
    assert app.get("/api/v1/openapi.json").json["openapi"] == "3.1.0"
    assert app.get("/api/docs").content_type == "text/html"
    rows = _csv_rows(app.get(f"{project}/tasks.csv", headers=auth))
    site = "http://taskdesk.test"
    # The url column: the task's web page, or its API URL when there is no web UI.
    expected = f"{site}/projects/{seeded.slug}/tasks/1" if with_web else f"{site}{project}/tasks/1"
    assert rows[2][rows[0].index("url")] == expected


@pytest.fixture
def composed(spare_app: Callable[..., webtest.TestApp],
             spare_engine: Engine) -> Callable[[str], tuple[webtest.TestApp, Seeded]]:
    def build(includes: str) -> tuple[webtest.TestApp, Seeded]:
        app = spare_app(**{"taskdesk.includes": includes})
        return app, seed(app, spare_engine)

    return build


def test_api_alone_serves_its_resources(composed) -> None:
    app, seeded = composed(API)
    health = app.get("/healthz")
    assert health.json == {"status": "ok"}
    assert app.get("/readyz").json["status"] == "ok"
    for url in ("/login", "/projects", f"/projects/{seeded.slug}/", "/me"):
        app.get(url, status=404)
    me = app.get("/api/v1/me", status=401)
    assert me.content_type == "application/json"
    assert me.json["error"]["status"] == me.status_int
    check_api(app, seeded, with_web=False)


def test_web_alone_serves_its_pages(composed) -> None:
    app, seeded = composed(WEB)
    assert app.get("/healthz").json == {"status": "ok"}
    login_page = app.get("/login")
    assert 'name="username"' in login_page.text
    check_web_pages(app, seeded, with_api=False)
    for url in ("/api/v1/me", f"/api/v1/projects/{seeded.slug}/tasks", "/api/docs"):
        app.get(url, status=404)


def test_core_alone_starts_and_serves(spare_app: Callable[..., webtest.TestApp]) -> None:
    app = spare_app(**{"taskdesk.includes": ""})
    assert app.get("/healthz").json == {"status": "ok"}
    app.get("/login", status=404)
    app.get("/api/v1/me", status=404)


def test_both_features_together(composed) -> None:
    app, seeded = composed(f"{WEB} {API}")
    check_web_pages(app, seeded, with_api=True)
    docs = app.get("/me/tokens").html.find("a", string="API reference")["href"]
    assert docs == "http://taskdesk.test/api/docs"
    assert app.get(docs).content_type == "text/html"
    check_api(app, seeded, with_web=True)


def _app_settings(ini: str) -> dict[str, str]:
    parser = ConfigParser(interpolation=None)
    parser.read(ROOT / ini, encoding="utf-8")
    return dict(parser["app:main"])


def test_debug_toolbar_in_development_ini_only() -> None:
    assert "pyramid_debugtoolbar" in _app_settings("development.ini")["pyramid.includes"]
    production = _app_settings("production.ini")
    assert "debugtoolbar" not in production.get("pyramid.includes", "")
    assert not [key for key in production if key.startswith("debugtoolbar.")]


def test_graphql_alone_serves_its_schema(composed) -> None:
    """GraphQL needs neither the JSON API nor the web UI."""
    app, seeded = composed("taskdesk.graphql")
    app.get("/api/v1/me", status=404)
    app.get("/login", status=404)
    auth = {"Authorization": f"Bearer {seeded.token}"}
    query = """query($slug: String!) { me { username }
        task(project: $slug, number: 1) { title labels comments { items { body } } } }"""
    answer = app.post_json("/api/graphql", {"query": query, "variables": {"slug": seeded.slug}},
                           headers=auth).json
    task = {"title": "第一个任务", "labels": ["pilot"],
            "comments": {"items": [{"body": "看起来不错"}]}}
    assert answer == {"data": {"me": {"username": seeded.username}, "task": task}}
    assert app.post_json("/api/graphql", {"query": "{ me { username } }"},
                         status=401).json["error"]["code"] == "unauthorized"
