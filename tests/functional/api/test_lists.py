"""Task lists: paging with limit/cursor/offset, filters, unknown parameters, CSV export."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote

import pytest

from taskdesk.domain import links

BASE = "/api/v1/projects/alpha/tasks"


@pytest.fixture
def member(client_for, people):
    return client_for(people["member"])


def _numbers(response):
    return [item["number"] for item in response.json["items"]]


def test_default_list_is_newest_first_with_no_next(member, factory, people):
    for n in range(3):
        factory.task(people["project"], title=f"T{n}")
    response = member.get(BASE, status=200)
    assert _numbers(response) == [3, 2, 1]
    assert response.json["next"] is None
    assert "Link" not in response.headers
    assert response.json["items"][0]["allowed"] == [
        "view", "comment", "edit_task", "set_status", "assign"]


def test_cursor_pages_through_everything_with_link_headers(member, factory, people):
    for n in range(7):
        factory.task(people["project"], title=f"T{n}")
    seen = []
    url = f"{BASE}?limit=3&sort=number"
    pages = 0
    while url:
        response = member.get(url, status=200)
        seen += _numbers(response)
        url = response.json["next"]
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
            assert "sort=number" in url
            assert "limit=3" in url
        pages += 1
    assert seen == list(range(1, 8))
    assert pages == 3


def test_paging_is_stable_when_tasks_are_inserted(member, factory, people):
    for n in range(4):
        factory.task(people["project"], title=f"T{n}")
    first = member.get(f"{BASE}?limit=2")
    assert _numbers(first) == [4, 3]
    factory.task(people["project"], title="new")
    second = member.get(first.json["next"])
    assert _numbers(second) == [2, 1]


def test_offset_for_simple_clients(member, factory, people, settings):
    for n in range(5):
        factory.task(people["project"], title=f"T{n}")
    assert _numbers(member.get(f"{BASE}?offset=2&limit=2&sort=number")) == [3, 4]
    too_far = member.get(f"{BASE}?offset={settings.api_max_offset + 1}", status=400)
    assert "offset" in too_far.json["error"]["fields"]


def test_limit_bounds_come_from_settings(member, settings):
    response = member.get(f"{BASE}?limit={settings.api_max_limit + 1}", status=400)
    assert response.json["error"]["fields"]["limit"] == (
        f"Must be a whole number from 1 to {settings.api_max_limit}.")
    member.get(f"{BASE}?limit=0", status=400)
    member.get(f"{BASE}?limit=abc", status=400)


def test_unknown_filter_and_sort_are_400_naming_them(member):
    response = member.get(f"{BASE}?colour=red", status=400)
    error = response.json["error"]
    assert error["code"] == "invalid_parameter"
    assert error["fields"] == {"colour": "Unknown parameter."}
    assert "colour" in error["message"]
    bad_sort = member.get(f"{BASE}?sort=colour", status=400).json["error"]
    assert list(bad_sort["fields"]) == ["sort"]
    bad_status = member.get(f"{BASE}?status=maybe", status=400).json["error"]
    assert list(bad_status["fields"]) == ["status"]


def test_bad_cursor_is_400(member):
    response = member.get(f"{BASE}?cursor=not-a-cursor", status=400)
    assert list(response.json["error"]["fields"]) == ["cursor"]


def test_a_cursor_of_another_list_is_400(member, factory, people):
    """Every list's cursor has the one encoding, and each list refuses the others'."""
    for n in range(3):
        factory.task(people["project"], title=f"T{n}")
        factory.project(people["member"], slug=f"p-{n}")
    task_cursor = member.get(f"{BASE}?limit=1").json["next"].split("cursor=")[1]
    project_cursor = member.get("/api/v1/projects?limit=1").json["next"].split("cursor=")[1]
    refused = member.get(f"{BASE}?cursor={project_cursor}", status=400).json["error"]
    assert list(refused["fields"]) == ["cursor"]
    refused = member.get(f"/api/v1/projects?cursor={task_cursor}", status=400).json["error"]
    assert list(refused["fields"]) == ["cursor"]


def test_repeated_parameter_is_400(member):
    response = member.get(f"{BASE}?status=open&status=done", status=400)
    assert list(response.json["error"]["fields"]) == ["status"]


def test_filters(member, factory, people):
    project = people["project"]
    factory.task(project, title="mine", assignee="member", priority="high", labels=["ops"])
    factory.task(project, title="nobody's", priority="low")
    factory.task(project, title="done one", status="done", assignee="member")
    assert [t["title"] for t in member.get(f"{BASE}?assignee=me&state=open").json["items"]] == [
        "mine"]
    assert [t["title"] for t in member.get(f"{BASE}?assignee=none").json["items"]] == [
        "nobody's"]
    assert [t["title"] for t in member.get(f"{BASE}?priority=high,low&sort=number")
            .json["items"]] == ["mine", "nobody's"]
    assert [t["title"] for t in member.get(f"{BASE}?label=ops").json["items"]] == ["mine"]
    assert [t["title"] for t in member.get(f"{BASE}?status=done").json["items"]] == [
        "done one"]


def test_free_text_finds_chinese_and_english(member, factory, people):
    factory.task(people["project"], title="修复登录页面的错误")
    factory.task(people["project"], title="Update the login page")
    factory.task(people["project"], title="Unrelated")
    assert [t["title"] for t in member.get(f"{BASE}?q={quote('登录')}").json["items"]] == [
        "修复登录页面的错误"]
    assert [t["title"] for t in member.get(f"{BASE}?q=login").json["items"]] == [
        "Update the login page"]


def test_cross_project_list_shows_only_visible_projects(client_for, factory, people):
    outsider = people["outsider"]
    secret = factory.project(people["manager"], slug="secret")
    internal = factory.project(people["manager"], slug="open-house", visibility="internal")
    factory.task(secret, title="hidden")
    factory.task(internal, title="visible to all")
    factory.task(people["project"], title="alpha task", assignee="member")
    as_outsider = client_for(outsider).get("/api/v1/tasks", status=200)
    assert [t["title"] for t in as_outsider.json["items"]] == ["visible to all"]
    assert as_outsider.json["items"][0]["allowed"] == ["view"]
    as_member = client_for(people["member"]).get("/api/v1/tasks?assignee=me&state=open")
    assert [t["title"] for t in as_member.json["items"]] == ["alpha task"]
    as_admin = client_for(people["admin"]).get("/api/v1/tasks?sort=created")
    assert {t["title"] for t in as_admin.json["items"]} == {
        "hidden", "visible to all", "alpha task"}


def test_cross_project_list_needs_sign_in(client_for):
    response = client_for(None).get("/api/v1/tasks", status=401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="taskdesk"'


def _csv(response):
    assert response.content_type == "text/csv"
    assert response.body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))


def test_csv_by_accept_header_streams_every_matching_task(member, factory, people, settings):
    for n in range(settings.api_max_limit + 5):
        factory.task(people["project"], title=f"任务 {n}", priority="high" if n % 2 else "low")
    response = member.get(f"{BASE}?priority=high&limit=2", headers={"Accept": "text/csv"},
                          status=200)
    rows = _csv(response)
    assert rows[0][:3] == ["project", "number", "title"]
    assert len(rows) - 1 == (settings.api_max_limit + 5) // 2
    assert all(row[4] == "high" for row in rows[1:])
    assert rows[1][2].startswith("任务 ")
    assert response.headers["Content-Disposition"] == 'attachment; filename="alpha.csv"'


def test_csv_view_names(member, factory, people):
    factory.task(people["project"], title="=HYPERLINK(\"evil\")", labels=["导出"])
    project_csv = _csv(member.get(f"/api/v1/projects/alpha/tasks.csv?label={quote('导出')}",
                                  status=200))
    assert project_csv[1][2] == "'=HYPERLINK(\"evil\")"
    assert project_csv[1][8] == "导出"
    all_csv = _csv(member.get("/api/v1/tasks.csv?state=open", status=200))
    assert [row[2] for row in all_csv[1:]] == ["'=HYPERLINK(\"evil\")"]
    bad = member.get("/api/v1/tasks.csv?colour=red", status=400)
    assert bad.json["error"]["fields"] == {"colour": "Unknown parameter."}


def test_project_csv_of_a_hidden_project_is_404(client_for, people):
    client_for(people["outsider"]).get("/api/v1/projects/alpha/tasks.csv", status=404)


def test_status_and_state_that_exclude_each_other_match_nothing(member, factory, people):
    factory.task(people["project"], title="open one")
    response = member.get(f"{BASE}?status=open&state=closed", status=200)
    assert response.json == {"items": [], "next": None}


def test_head_answers_the_headers_of_get(member, factory, people):
    for _n in range(3):
        factory.task(people["project"])
    response = member.request("HEAD", f"{BASE}?limit=1")
    assert response.status_int == 200
    assert response.body == b""
    assert response.headers["Link"].endswith('>; rel="next"')


def test_csv_dates_read_as_dates_and_url_is_the_web_page(member, factory, people):
    factory.task(people["project"], title="Dated", due_date="2030-01-31")
    header, row = _csv(member.get("/api/v1/projects/alpha/tasks.csv", status=200))
    assert header[7:] == ["due_date", "labels", "created_at_utc", "updated_at_utc",
                          "completed_at_utc", "url", "parent", "checklist_done",
                          "checklist_total", "blocked"]
    values = dict(zip(header, row, strict=True))
    assert values["due_date"] == "2030-01-31"
    for column in ("created_at_utc", "updated_at_utc"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", values[column]), column
    # The web UI is switched on here: the link opens the task page (see the composition
    # tests for the API URL of an API-only deployment).
    assert values["url"] == "http://taskdesk.test/projects/alpha/tasks/1"
    assert [values[c] for c in ("parent", "checklist_done", "checklist_total", "blocked")] == [
        "", "0", "0", "false"]


def test_csv_names_the_parent_the_checklist_and_blockers(member, factory, people, dbsession):
    project, manager = people["project"], people["manager"]
    parent = factory.task(project, manager, title="Release", description="- [x] a\n- [ ] b")
    factory.task(project, manager, title="Tag", parent=parent.number)
    blocker = factory.task(project, manager, title="Build")
    links.add_link(dbsession, parent, manager, {"kind": "blocked_by", "task": f"#{blocker.number}"})
    dbsession.flush()
    response = member.get("/api/v1/projects/alpha/tasks.csv?sort=number", status=200)
    lines = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    rows = {row[2]: dict(zip(lines[0], row, strict=True)) for row in lines[1:]}
    assert [rows["Release"][c] for c in ("parent", "checklist_done", "checklist_total",
                                         "blocked")] == ["", "1", "2", "true"]
    assert rows["Tag"]["parent"] == str(parent.number)
    assert rows["Build"]["blocked"] == "false"
