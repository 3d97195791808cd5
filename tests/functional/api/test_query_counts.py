"""The task lists issue a fixed number of SQL statements, whatever the page holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.databases import recorded_statements


@pytest.fixture
def statements(connection: Any) -> Iterator[list[str]]:
    with recorded_statements(connection) as seen:
        yield seen


def _count(client: Any, url: str, statements: list[str]) -> int:
    client.get(url, status=200)  # warm: token last-use stamp, caches
    statements.clear()
    response = client.get(url, status=200)
    assert response.json["items"]
    return len(statements)


@pytest.mark.parametrize(("url", "expected"), [
    # identity (token, user, groups); the project with its memberships; the page with its
    # labels
    ("/api/v1/projects/alpha/tasks", 3),
    # identity; the page; the page's projects; their memberships
    ("/api/v1/tasks", 4),
])
def test_list_statements_do_not_grow_with_the_page(client_for, factory, people, statements,
                                                   url, expected):
    project = people["project"]
    other = factory.project(people["manager"], slug="beta", members={people["member"]: "member"})
    member = client_for(people["member"])
    factory.task(project, labels=["a"])
    small = _count(member, url, statements)
    for n in range(30):
        factory.task(project if n % 2 else other, labels=["a", "b"],
                     assignee="member" if n % 3 else None)
    large = _count(member, url, statements)
    assert small == large == expected, statements


@pytest.mark.parametrize(("url", "expected"), [
    ("/api/v1/projects/alpha/tasks", 3),
    ("/api/v1/tasks", 4),
])
def test_list_etag_costs_no_statement(client_for, factory, people, statements, url, expected):
    """The list ETag digests the body: a 304 runs the same statements as the 200, no more."""
    factory.task(people["project"], labels=["a"])
    member = client_for(people["member"])
    tag = member.get(url, status=200).headers["ETag"]
    statements.clear()
    member.get(url, status=200)
    assert len(statements) == expected, statements
    statements.clear()
    member.get(url, headers={"If-None-Match": tag}, status=304)
    assert len(statements) == expected, statements



@pytest.mark.parametrize("labels", [["x"], ["a", "b", "c", "d", "e"]])
def test_create_statements(client_for, people, statements, labels):
    """Creating a task: identity, the project's snapshot (for the ACL and the answer: no
    ORM row of the project or the actor), the assignee; the number (one UPDATE ...
    RETURNING, not a second UPDATE writing the same number back); the task, its labels (one
    statement however many) and its search row (written, not read first: a new task has no
    comments and no row); the watches, the activity entry and its event. Nothing is read
    back for the answer."""
    member = client_for(people["member"])
    member.post("/api/v1/projects/alpha/tasks", {"title": "warm"}, status=201)
    statements.clear()
    created = member.post("/api/v1/projects/alpha/tasks",
                          {"title": "Migrate the 数据库", "labels": labels,
                           "assignee": "member"}, status=201)
    assert len(statements) == 10, statements
    assert sum(s.startswith("UPDATE projects") for s in statements) == 1, statements
    found = member.get("/api/v1/tasks?q=" + quote("数据库"), status=200).json["items"]
    assert [item["number"] for item in found] == [created.json["number"]]


@pytest.mark.parametrize("labels", [["x"], ["a", "b", "c", "d", "e"]])
def test_task_statements(client_for, factory, people, statements, labels):
    """A task's JSON: identity; the project with its memberships; the task with its people,
    parent, labels and blocked flag (one statement however many labels). A 304 costs the
    same."""
    project = people["project"]
    member = client_for(people["member"])
    parent = factory.task(project)
    blocker = factory.task(project)
    task = factory.task(project, labels=labels, assignee="member", parent=parent.number)
    url = f"/api/v1/projects/alpha/tasks/{task.number}"
    member.post(f"{url}/links", {"kind": "blocked_by", "task": f"#{blocker.number}"},
                status=201)
    member.get(url, status=200)  # warm
    statements.clear()
    shown = member.get(url, status=200)
    assert len(statements) == 3, statements
    assert (shown.json["labels"], shown.json["assignee"], shown.json["parent"],
            shown.json["blocked"]) == (sorted(labels), "member", parent.number, True)
    statements.clear()
    member.get(url, headers={"If-None-Match": shown.headers["ETag"]}, status=304)
    assert len(statements) == 3, statements
