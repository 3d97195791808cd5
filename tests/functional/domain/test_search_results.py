"""Search everywhere in the domain: the query uses the full-text index on both databases,
and pages by keyset in project order."""

from __future__ import annotations

from typing import Any

import pytest

from taskdesk.domain.access import Viewer
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.search import search_expression
from taskdesk.domain.search_results import _search_statement, search_tasks


def _plan(dbsession: Any, statement: Any, values: dict[str, Any]) -> str:
    """The database's plan of ``statement`` with ``values``, as one text."""
    connection = dbsession.connection()
    compiled = statement.compile(dialect=connection.dialect)
    params = compiled.construct_params(values)
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled),
            tuple(params[name] for name in compiled.positiontup))
        return "\n".join(str(row[-1]) for row in rows)
    # Few rows: the planner would rather read the whole table, which proves nothing about
    # the index. Without sequential scans it must show whether the index can serve. (At
    # 100,000 tasks, with sequential scans allowed, it reads the index too: see the
    # comment in ``_search_statement``.)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql("EXPLAIN " + str(compiled), params)
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("admin", [False, True])
def test_the_search_reads_the_full_text_index(dbsession, factory, admin):
    owner = factory.user("owner")
    project = factory.project(owner, slug="plans")
    for n in range(5):
        factory.task(project, title=f"Migration step {n}")
    dialect = dbsession.get_bind().dialect.name
    values = {"search": search_expression(dialect, "migrating"), "limit": 31}
    viewer = Viewer(None, is_site_admin=True) if admin else Viewer(owner.id)
    statement = _search_statement(dialect, viewer, False)
    if dialect == "sqlite":
        plan = _plan(dbsession, statement, values)
        assert "SCAN task_search_fts VIRTUAL TABLE INDEX" in plan, plan
        return
    plan = _plan(dbsession, statement, values)
    assert "Bitmap Index Scan on ix_task_search_document" in plan, plan


def test_pages_follow_the_project_then_the_newest_task(dbsession, factory):
    owner = factory.user("owner")
    for slug in ("beta", "alpha"):
        project = factory.project(owner, slug=slug)
        for n in range(3):
            factory.task(project, title=f"Release {n}")
    viewer = Viewer(owner.id)
    seen, cursor = [], None
    while True:
        page = search_tasks(dbsession, viewer, "release", limit=2, cursor=cursor)
        seen += [(hit.project_slug, hit.number) for hit in page.hits]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [("alpha", 3), ("alpha", 2), ("alpha", 1),
                    ("beta", 3), ("beta", 2), ("beta", 1)]


def test_a_cursor_of_another_list_is_refused(dbsession):
    from taskdesk.domain.cursor import encode_cursor

    for cursor in ("garbage", encode_cursor("id", 3), encode_cursor("search", 1, 2)):
        with pytest.raises(ValidationError):
            search_tasks(dbsession, Viewer(1), "x", limit=5, cursor=cursor)


def test_anonymous_finds_nothing(dbsession, factory):
    factory.task(factory.project(slug="open", visibility="internal"), title="Release")
    assert search_tasks(dbsession, Viewer(None), "release", limit=5).groups == []
