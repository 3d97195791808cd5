"""The benchmark's floor (benchmarks/floor.py) answers Taskdesk's three JSON requests byte for
byte as Taskdesk does, on both databases: the load benchmark's ratios are only fair while it
does, so a change to the API's answers that the floor does not follow fails here first."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import transaction
from benchmarks import floor
from benchmarks.load import SECRET, write_ini
from pyramid.paster import get_app
from pyramid.request import Request
from sqlalchemy import text
from zope.sqlalchemy import mark_changed

from taskdesk import generate
from taskdesk.domain.accounts import create_token, find_user
from taskdesk.models import get_session_factory, get_tm_session
from taskdesk.settings import parse_settings
from tests.support.apps import app_settings
from tests.support.databases import create_database, migrated_engine


@pytest.fixture(scope="module")
def bench(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A generated database, Taskdesk's app on it with production.ini's settings, the floor
    on it, and a member's write token."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TASKDESK_SESSION_SECRET", SECRET)
        yield from _bench(backend, tmp_path_factory, monkeypatch)


def _bench(backend: str, tmp_path_factory: pytest.TempPathFactory,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for url in create_database(backend, tmp_path_factory):
        engine = migrated_engine(url)
        generate.generate_data(engine, parse_settings(app_settings(url)), tasks=150,
                               projects=2, users=6, seed=7, progress=False, out=io.StringIO())
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(get_session_factory(engine), manager)
            slug, number, username = dbsession.execute(text(
                "SELECT p.slug, max(t.number), u.username FROM project_members m "
                "JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.user_id "
                "JOIN tasks t ON t.project_id = p.id WHERE m.role = 'member' "
                "GROUP BY p.slug, u.username ORDER BY p.slug, u.username LIMIT 1")).one()
            _, secret = create_token(dbsession, find_user(dbsession, username),
                                     {"name": "floor", "scope": "write"})
            # A label and a blocker on the task the detail shows.
            task_id, blocker_id = dbsession.execute(text(
                "SELECT t.id, b.id FROM tasks t JOIN projects p ON p.id = t.project_id "
                "JOIN tasks b ON b.project_id = p.id AND b.number = 1 "
                "WHERE p.slug = :slug AND t.number = :number"),
                {"slug": slug, "number": number}).one()
            dbsession.execute(text("INSERT INTO task_labels (task_id, name) VALUES "
                                   "(:id, '数据'), (:id, 'backend')"), {"id": task_id})
            dbsession.execute(text("UPDATE tasks SET completed_at = NULL, status = 'open' "
                                   "WHERE id = :id"), {"id": blocker_id})
            dbsession.execute(text("INSERT INTO task_links (source_id, target_id, kind, "
                                   "created_at) VALUES (:b, :t, 'blocks', CURRENT_TIMESTAMP)"),
                              {"b": blocker_id, "t": task_id})
            mark_changed(dbsession)
        engine.dispose()
        ini = write_ini(Path(str(tmp_path_factory.mktemp("floor"))), url, 0, 1)
        monkeypatch.setattr(floor, "database", floor.Database(url))
        yield {"app": get_app(str(ini), "main"), "slug": slug, "number": number,
               "secret": secret}


def _answer(app: Any, method: str, path: str, secret: str, body: str | None = None
            ) -> floor.Answer:
    request = Request.blank(path, method=method, POST=body.encode() if body else None, headers={
        "Authorization": f"Bearer {secret}", "Accept": "application/json",
        "Content-Type": "application/json", "Host": "127.0.0.1:8080"})
    response = request.get_response(app)
    return response.status_code, list(response.headerlist), response.body


@pytest.mark.parametrize(("endpoint", "method", "path", "body"), [
    ("json_list", "GET", "/api/v1/projects/{slug}/tasks?state=open&limit=50", None),
    ("json_list", "GET", "/api/v1/projects/{slug}/tasks?state=open&limit=3", None),
    ("json_detail", "GET", "/api/v1/projects/{slug}/tasks/{number}", None),
    ("json_create", "POST", "/api/v1/projects/{slug}/tasks",
     '{"title": "Benchmark 任务", "labels": ["bench", "Bench", "数据"]}'),
])
def test_the_floor_answers_like_taskdesk(bench: dict[str, Any], endpoint: str, method: str,
                                         path: str, body: str | None) -> None:
    url = path.format(slug=bench["slug"], number=bench["number"])
    ours = _answer(bench["app"], method, url, bench["secret"], body)
    theirs = _answer(floor.app, method, url, bench["secret"], body)
    assert ours[0] in (200, 201), ours[2][:300]
    assert floor.differences(endpoint, ours, theirs) == []
    if endpoint == "json_detail":
        assert b'"blocked":true' in ours[2]
        assert b'"labels":["backend","\xe6\x95\xb0\xe6\x8d\xae"]' in ours[2]
    if endpoint == "json_create":
        # The floor's task is a task like any other: Taskdesk shows it as its own.
        number = int(theirs[1][[n for n, _ in theirs[1]].index("Location")][1].rsplit("/", 1)[1])
        again = _answer(bench["app"], "GET", path.format(slug=bench["slug"]) + f"/{number}",
                        bench["secret"])
        assert again[0] == 200
        assert b'"labels":["bench","\xe6\x95\xb0\xe6\x8d\xae"]' in again[2]


def test_a_difference_is_named(bench: dict[str, Any]) -> None:
    url = f"/api/v1/projects/{bench['slug']}/tasks/{bench['number']}"
    ours = _answer(bench["app"], "GET", url, bench["secret"])
    changed = (ours[0], ours[1], ours[2].replace(b'"blocked":true', b'"blocked":false'))
    assert [d.split(":")[0] for d in floor.differences("json_detail", ours, changed)] == [
        "bodies differ at byte " + str(ours[2].index(b'"blocked":true') + 10)]
    fewer = (ours[0], [h for h in ours[1] if h[0] != "ETag"], ours[2])
    assert floor.differences("json_detail", ours, fewer)[0].startswith("floor lacks header")
