"""Queries generated from the GraphQL schema, valid and invalid, against the real app: every
answer is a JSON document of GraphQL's shape (``data`` and/or ``errors``) or the JSON API's
error body, never a 5xx."""

from __future__ import annotations

from typing import Any

import hypothesis_graphql
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from taskdesk.domain import comments
from taskdesk.graphql.__main__ import sdl
from tests.functional.api.conftest import make_token, people
from tests.support.apps import HOST

__all__ = ["make_token", "people"]

pytestmark = pytest.mark.slow

EXAMPLES = 60
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=list(HealthCheck))


def test_generated_queries_never_fail_the_server(testapp, make_token, people, factory,
                                                 dbsession) -> None:
    task = factory.task(people["project"], people["manager"], assignee="member",
                        labels=["x"])
    comments.add_comment(dbsession, task, people["member"], {"body": "hello"})
    headers = {"Authorization": f"Bearer {make_token(people['member'])}", "Host": HOST}
    schema = sdl()
    queries = st.one_of(
        hypothesis_graphql.queries(schema),
        hypothesis_graphql.queries(schema, mode=hypothesis_graphql.Mode.NEGATIVE),
    )
    seen: dict[str, int] = {"data": 0, "errors": 0, "refused": 0}

    @SETTINGS
    @given(query=queries)
    def run(query: Any) -> None:
        answer = testapp.post_json("/api/graphql", {"query": query}, headers=headers,
                                   expect_errors=True)
        assert answer.status_int < 500, (query, answer.text[:500])
        body = answer.json
        if answer.status_int == 200:
            assert set(body) <= {"data", "errors"}, body
            seen["errors" if body.get("errors") else "data"] += 1
        else:
            assert set(body["error"]) >= {"status", "code", "message"}, body
            seen["refused"] += 1

    run()
    # Both kinds were generated and answered.
    assert seen["data"], seen
    assert seen["errors"], seen
