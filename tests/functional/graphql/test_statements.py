"""Nested fields load in batches: a query's statement count depends on its shape only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from taskdesk.domain import comments
from tests.support.databases import recorded_statements

#: "My open tasks with their project, assignee, last three comments and labels".
MY_OPEN_TASKS = """{ tasks(assignee: "me", state: ["open"], first: 100) {
    items { number title labels allowed
            assignee { username displayName } reporter { username displayName }
            project { slug name allowed }
            comments(first: 3, newestFirst: true) { items { body author { username } allowed } }
    }
    nextCursor } }"""


@pytest.fixture
def statements(connection: Any) -> Iterator[list[str]]:
    with recorded_statements(connection) as seen:
        yield seen


def _count(client: Any, statements: list[str]) -> tuple[int, int]:
    client.data(MY_OPEN_TASKS)  # warm: the token's last-use stamp
    statements.clear()
    tasks = client.data(MY_OPEN_TASKS)["tasks"]["items"]
    return len(statements), len(tasks)


def test_nested_query_statements_do_not_grow_with_the_rows(gql_for, factory, people,
                                                          dbsession, statements) -> None:
    project = people["project"]
    other = factory.project(people["manager"], slug="beta", members={people["member"]: "member"})
    client = gql_for(people["member"])
    factory.task(project, people["manager"], assignee="member", labels=["a"])
    small, small_rows = _count(client, statements)
    for n in range(30):
        task = factory.task(project if n % 2 else other, people["reporter"] if n % 3 else
                            people["manager"], assignee="member", labels=["a", "b"])
        for m in range(n % 5):
            comments.add_comment(dbsession, task, people["member"], {"body": f"c{m}"})
    large, large_rows = _count(client, statements)
    assert (small_rows, large_rows) == (1, 31)
    # identity (token, user, groups); the page of tasks with their labels; the page's
    # projects; their memberships; the reporters' names; the last three comments of every
    # task of the page
    assert small == large == 6, statements
