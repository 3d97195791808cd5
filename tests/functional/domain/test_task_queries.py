"""The shared task-list query: filters, visibility, keyset paging, search."""

from __future__ import annotations

from datetime import UTC, date

import pytest
from sqlalchemy import select

from taskdesk.domain.access import Viewer
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.statistics import (
    count_by_status,
    open_task_counts,
    weekly_created_completed,
)
from taskdesk.domain.task_list import list_tasks, parse_task_query
from taskdesk.models import Project
from taskdesk.timezones import local_today


def page_through(dbsession, viewer, query, **kw):
    seen, cursor = [], None
    while True:
        page = list_tasks(dbsession, viewer, query, limit=3, cursor=cursor, **kw)
        seen += [(row.project_slug, row.number) for row in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.fixture
def world(factory):
    alice, bob = factory.user("alice"), factory.user("bob")
    own = factory.project(alice, slug="own")
    internal = factory.project(bob, slug="shared", visibility="internal")
    hidden = factory.project(bob, slug="hidden")
    for i in range(5):
        factory.task(own, title=f"own {i}", priority=("low", "urgent")[i % 2],
                     due_date=date(2026, 1, 1 + i) if i % 2 else None,
                     assignee="alice" if i < 2 else None, labels=["ui"] if i == 0 else [])
    factory.task(internal, title="shared task")
    factory.task(hidden, title="hidden task")
    return alice, bob


def test_visibility_is_filtered_in_sql(dbsession, settings, world):
    alice, _bob = world
    query = parse_task_query({}, settings.workflow)
    slugs = {s for s, _ in page_through(dbsession, Viewer(alice.id), query)}
    assert slugs == {"own", "shared"}
    everything = page_through(dbsession, Viewer(alice.id, is_site_admin=True), query)
    assert {s for s, _ in everything} == {"own", "shared", "hidden"}
    assert page_through(dbsession, Viewer(None), query) == []


@pytest.mark.parametrize("sort", ["number", "-number", "updated", "-updated", "created",
                                  "due", "-due", "priority", "-priority"])
def test_keyset_paging_returns_every_row_once_in_order(dbsession, settings, world, sort):
    alice, _ = world
    query = parse_task_query({"sort": sort}, settings.workflow)
    seen = page_through(dbsession, Viewer(alice.id), query)
    assert sorted(seen) == sorted(set(seen))
    assert len(seen) == 6
    whole = list_tasks(dbsession, Viewer(alice.id), query, limit=100).items
    assert seen == [(row.project_slug, row.number) for row in whole]
    if sort.lstrip("-") == "due":
        dues = [row.due_date for row in whole]
        assert dues[-3:] == [None, None, None]  # no due date: last either way


def test_filters(dbsession, settings, world):
    alice, _ = world

    def numbers(params, **kw):
        query = parse_task_query(params, settings.workflow)
        return sorted(row.number for row in
                      list_tasks(dbsession, Viewer(alice.id), query, limit=50, **kw).items)

    assert numbers({"assignee": "me"}) == [1, 2]
    assert len(numbers({"assignee": "none"})) == 4
    assert numbers({"priority": "urgent"}) == [2, 4]
    assert numbers({"label": "ui"}) == [1]
    assert numbers({"due_before": "2026-01-03"}) == [2]
    assert numbers({"state": "closed"}) == []
    assert len(numbers({"state": "open"})) == 6


def test_unknown_parameters_and_bad_values_name_the_key(settings):
    with pytest.raises(ValidationError) as error:
        parse_task_query({"colour": "red"}, settings.workflow, strict=True)
    assert set(error.value.fields) == {"colour"}
    for params in ({"status": "nope"}, {"sort": "title"}, {"due_before": "tomorrow"},
                   {"updated_since": "x"}):
        with pytest.raises(ValidationError) as error:
            parse_task_query(params, settings.workflow)
        assert set(error.value.fields) == set(params)


def test_a_foreign_or_garbled_cursor_is_refused(dbsession, settings, world):
    alice, _ = world
    page = list_tasks(dbsession, Viewer(alice.id), parse_task_query({}, settings.workflow),
                      limit=2)
    other = parse_task_query({"sort": "updated"}, settings.workflow)
    for cursor in (page.next_cursor, "garbage!", "W10"):
        with pytest.raises(ValidationError):
            list_tasks(dbsession, Viewer(alice.id), other, limit=2, cursor=cursor)


@pytest.mark.parametrize(("text", "expected"), [
    ("登录", {"修复登录页面的错误"}),
    ("登", {"修复登录页面的错误"}),
    ("页面 错误", {"修复登录页面的错误"}),
    ("deploy", {"Deploy the release"}),
    ("depl", {"Deploy the release"}),
    ("mentioned", {"Deploy the release"}),
    ("登页", set()),
])
def test_free_text_search_finds_chinese_and_english(dbsession, settings, factory, text,
                                                    expected):
    from taskdesk.domain.comments import add_comment

    owner = factory.user("owner")
    project = factory.project(owner, slug="search")
    factory.task(project, title="修复登录页面的错误", description="用户无法登录")
    deploy = factory.task(project, title="Deploy the release")
    add_comment(dbsession, deploy, owner, {"body": "Only MENTIONED in a comment"})
    query = parse_task_query({"q": text}, settings.workflow)
    found = {row.title for row in
             list_tasks(dbsession, Viewer(owner.id), query, limit=50).items}
    assert found == expected


def test_counts(dbsession, settings, world):
    own = dbsession.scalar(select(Project.id).where(Project.slug == "own"))
    statuses = settings.workflow.status_names
    assert count_by_status(dbsession, own, statuses) == dict.fromkeys(statuses, 0) | {"open": 5}
    assert count_by_status(dbsession, own, statuses, cap=3)["open"] == 4  # "more than 3"
    assert open_task_counts(dbsession, [own], settings.workflow) == {own: 5}
    weeks = weekly_created_completed(dbsession, own, today=local_today(UTC), zone=UTC)
    assert len(weeks) == 12
    assert weeks[-1][1] == 5
    assert sum(w[2] for w in weeks) == 0


@pytest.mark.parametrize("sort", ["number", "priority", "due"])
def test_offset_pages_agree_with_cursor_pages(dbsession, settings, world, sort):
    alice, _ = world
    query = parse_task_query({"sort": sort}, settings.workflow)
    whole = [r.id for r in list_tasks(dbsession, Viewer(alice.id), query, limit=100).items]
    by_offset = [r.id for r in
                 list_tasks(dbsession, Viewer(alice.id), query, limit=2, offset=2).items]
    assert by_offset == whole[2:4]


def test_default_order_is_by_number_in_a_project_and_by_update_across(dbsession, settings,
                                                                       world):
    alice, _ = world
    own = dbsession.scalar(select(Project.id).where(Project.slug == "own"))
    query = parse_task_query({}, settings.workflow)
    in_project = list_tasks(dbsession, Viewer(alice.id), query, project_id=own, limit=50).items
    assert [r.number for r in in_project] == [5, 4, 3, 2, 1]
    across = list_tasks(dbsession, Viewer(alice.id), query, limit=50).items
    stamps = [(r.updated_at, r.id) for r in across]
    assert stamps == sorted(stamps, reverse=True)
