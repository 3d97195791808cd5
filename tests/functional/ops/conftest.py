"""An app with the operations packages switched on (metrics with a token), built once per
database and bound to each test's rolled-back connection like the main ``testapp``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from sqlalchemy.engine import Connection, Engine

from tests.support.apps import HOST, build_app, joined


@pytest.fixture(scope="session")
def ops_app(database_url: str, engine: Engine) -> Any:
    return build_app(database_url)


@pytest.fixture
def ops_testapp(ops_app: Any, connection: Connection) -> Iterator[webtest.TestApp]:
    with joined(ops_app, connection):
        yield webtest.TestApp(ops_app, extra_environ={"HTTP_HOST": HOST})
