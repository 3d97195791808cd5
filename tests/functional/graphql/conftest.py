"""GraphQL test fixtures: clients that send queries with a user's bearer token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import webtest
from sqlalchemy.engine import Connection

from taskdesk.models import User
from tests.functional.api.conftest import make_token, people
from tests.support.apps import HOST, build_app, joined

__all__ = ["GraphQLClient", "make_token", "people"]

URL = "/api/graphql"


class GraphQLClient:
    """Sends queries to ``/api/graphql`` as one caller (a token, or none)."""

    def __init__(self, app: webtest.TestApp, token: str | None) -> None:
        self.app = app
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def post(self, query: str, variables: dict[str, Any] | None = None,
             status: int = 200, **extra: Any) -> webtest.TestResponse:
        body: dict[str, Any] = {"query": query, **extra}
        if variables is not None:
            body["variables"] = variables
        return self.app.post_json(URL, body, headers=self.headers, status=status)

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a query that must succeed without errors."""
        answer = self.post(query, variables).json
        assert "errors" not in answer, answer["errors"]
        data: dict[str, Any] = answer["data"]
        return data

    def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[Any]:
        """The ``errors`` of a query that must fail (with 200, GraphQL's way)."""
        answer = self.post(query, variables).json
        assert answer.get("errors"), answer
        errors: list[Any] = answer["errors"]
        return errors


@pytest.fixture
def app_with(database_url: str, connection: Connection) -> Iterator[Callable[..., webtest.TestApp]]:
    """``app_with(**settings)``: a test app with other settings, joined to the test's
    transaction like the shared one."""
    with ExitStack() as stack:

        def build(**overrides: str) -> webtest.TestApp:
            app = build_app(database_url, **overrides)
            stack.enter_context(joined(app, connection))
            return webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})

        yield build


@pytest.fixture
def gql_for(make_testapp: Callable[[], webtest.TestApp],
            make_token: Callable[..., str]) -> Callable[..., GraphQLClient]:
    """``gql_for(user)``: a client with a fresh token of ``user`` (None: anonymous)."""

    def make(user: User | None, scope: str = "write") -> GraphQLClient:
        return GraphQLClient(make_testapp(), make_token(user, scope) if user else None)

    return make
