"""The task lists issue a fixed number of SQL statements, whatever the page holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event


@pytest.fixture
def statements(connection: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


def _count(client: Any, url: str, statements: list[str]) -> int:
    client.get(url, status=200)  # warm: token last-use stamp, caches
    statements.clear()
    response = client.get(url, status=200)
    assert response.json["items"]
    return len(statements)


@pytest.mark.parametrize("url", ["/api/v1/projects/alpha/tasks", "/api/v1/tasks"])
def test_list_statements_do_not_grow_with_the_page(client_for, factory, people, statements,
                                                   url):
    project = people["project"]
    other = factory.project(people["manager"], slug="beta", members={people["member"]: "member"})
    member = client_for(people["member"])
    factory.task(project, labels=["a"])
    small = _count(member, url, statements)
    for n in range(30):
        factory.task(project if n % 2 else other, labels=["a", "b"],
                     assignee="member" if n % 3 else None)
    large = _count(member, url, statements)
    assert small == large
    # identity (token, groups), traversal (project, memberships), rows, labels; across
    # projects the page's projects and their memberships instead of the traversal.
    assert large <= 6, statements
