"""Hostile and oversized queries: each gets a clear error, never a 5xx, and quickly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from taskdesk.domain import comments
from tests.functional.graphql.conftest import URL, GraphQLClient
from tests.support.databases import recorded_statements

#: Far more than any refusal needs on this machine; a refusal that parses and validates a
#: hostile query costs milliseconds.
QUICK = 2.0


@contextmanager
def quickly() -> Iterator[None]:
    started = time.perf_counter()
    yield
    assert time.perf_counter() - started < QUICK


def test_too_deep(gql_for, people) -> None:
    """The schema has no cycles (a task's comments' author has no tasks), so depth is
    bounded by the types already; the limit refuses deep queries before validating their
    fields, fragments included."""
    client = gql_for(people["member"])
    deepest = "{ tasks { items { comments { items { author { username } } } } } }"
    assert client.data(deepest) == {"tasks": {"items": []}}
    selection = "username"
    for _ in range(20):
        selection = f"tasks {{ items {{ assignee {{ {selection} }} }} }}"
    with quickly():
        errors = client.errors("{ " + selection + " }")
    assert errors[0]["message"] == "'anonymous' exceeds maximum operation depth of 10"
    chain = " ".join(f"fragment F{n} on Task {{ project {{ ...F{n + 1} }} }}" for n in range(12))
    with quickly():
        errors = client.errors("{ tasks { items { ...F0 } } } " + chain
                               + " fragment F12 on Task { id }")
    assert errors[0]["message"] == "'anonymous' exceeds maximum operation depth of 10"


def test_alias_bomb(gql_for, people) -> None:
    client = gql_for(people["member"])
    query = "{ " + " ".join(f"a{n}: me {{ username }}" for n in range(200)) + " }"
    with quickly():
        errors = client.errors(query)
    assert errors[0]["message"] == "200 aliases found. Allowed: 30"


def test_too_many_tokens(gql_for, people) -> None:
    client = gql_for(people["member"])
    query = "{ me { " + " ".join(["a"] * 3000) + " } }"
    with quickly():
        [error] = client.errors(query)
    assert error["message"] == ("Syntax Error: Document contains more than 2000 tokens. "
                                "Parsing aborted.")


def test_huge_fragment_lists(gql_for, people) -> None:
    client = gql_for(people["member"])
    fragments = " ".join(f"fragment F{n} on Me {{ id }}" for n in range(400))
    spreads = " ".join(f"...F{n}" for n in range(400))
    with quickly():
        errors = client.errors(f"{{ me {{ {spreads} }} }} {fragments}")
    assert "more than 2000 tokens" in errors[0]["message"]
    # Below the token limit, many fragments are just slow enough to matter: still quick.
    fragments = " ".join(f"fragment F{n} on Me {{ username }}" for n in range(150))
    spreads = " ".join(f"...F{n}" for n in range(150))
    with quickly():
        data = client.data(f"{{ me {{ {spreads} }} }} {fragments}")
    assert data["me"]["username"] == "member"


def test_fragment_cycles(gql_for, people) -> None:
    client = gql_for(people["member"])
    query = """{ tasks { ...A } }
        fragment A on TaskPage { items { project { members { ...B } } } }
        fragment B on MemberPage { items { name } ...A2 }
        fragment A2 on MemberPage { ...B }"""
    with quickly():
        errors = client.errors(query)
    assert any("Cannot spread fragment" in error["message"] for error in errors), errors


def test_too_many_objects(app_with, make_token, people, factory, dbsession) -> None:
    """Every object of the answer counts, nested ones too (here 3 tasks + 4 x 3 comments)."""
    for _ in range(3):
        task = factory.task(people["project"], people["manager"])
        for n in range(4):
            comments.add_comment(dbsession, task, people["member"], {"body": f"c{n}"})
    client = GraphQLClient(app_with(**{"taskdesk.graphql.max_nodes": "14"}),
                           make_token(people["member"]))
    query = "{ tasks { items { id comments { items { body } } } } }"
    [error] = client.errors(query)
    assert error["extensions"] == {"code": "too_many_nodes"}
    assert error["message"] == ("The answer would hold more than 14 objects; ask for fewer "
                                "(smaller `first`, fewer nested lists).")
    assert client.data(query.replace("comments {", "comments(first: 3) {"))


@pytest.mark.parametrize(("body", "content_type", "status", "code"), [
    (b"{not json", "application/json", 400, "malformed_json"),
    (b"[1, 2]", "application/json", 400, "malformed_json"),
    (b'{"query": "{ me { username } }"}', "text/plain", 415, "unsupported_media_type"),
    (b'{"query": 42}', "application/json", 400, "invalid_parameter"),
    (b'{"query": "{ me { username } }", "variables": [1]}', "application/json", 400,
     "invalid_parameter"),
])
def test_malformed_requests(gql_for, people, body, content_type, status, code) -> None:
    client = gql_for(people["member"])
    answer = client.app.post(URL, body, headers={**client.headers, "Content-Type": content_type},
                             status=status)
    assert answer.json["error"]["code"] == code
    assert answer.json["error"]["status"] == status


def test_oversized_body_and_query(gql_for, people, wsgi_app) -> None:
    client = gql_for(people["member"])
    settings = wsgi_app.registry.taskdesk_settings
    huge = "{ me { username } }" + " " * settings.max_body_bytes
    answer = client.post(huge, status=413)
    assert answer.json["error"]["code"] == "payload_too_large"
    long_query = "{ me { username } }" + "#" * settings.graphql_max_query_bytes
    answer = client.post(long_query, status=413)
    assert answer.json["error"]["code"] == "query_too_large"


def test_nested_lists_read_no_more_rows_than_the_budget(app_with, make_token, people, factory,
                                                        dbsession, connection) -> None:
    """A batch that alone would exceed the budget is refused, and its statement reads at
    most the budget's rows (plus one look-ahead row per parent)."""
    task = factory.task(people["project"], people["manager"])
    for n in range(30):
        comments.add_comment(dbsession, task, people["member"], {"body": f"c{n}"})
    client = GraphQLClient(app_with(**{"taskdesk.graphql.max_nodes": "10"}),
                           make_token(people["member"]))
    client.data("{ me { username } }")
    with recorded_statements(connection) as seen:
        answer = client.post("{ tasks { items { id comments(first: 50) { items { id } } } } }")
    errors = answer.json["errors"]
    assert [error["extensions"]["code"] for error in errors] == ["too_many_nodes"]
    [statement] = [s for s in seen if "row_number" in s.lower()]
    assert "LIMIT" in statement.upper()
