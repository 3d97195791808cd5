"""An app with the operations packages switched on (metrics with a token), built once per
database and bound to each test's rolled-back connection like the main ``testapp``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest
from sqlalchemy.engine import Connection, Engine

from taskdesk import make_configurator
from tests.conftest import app_settings, joined

METRICS_TOKEN = "metrics-token-" + "m" * 30


def build_app(database_url: str, extend: Callable[[Any], None] | None = None,
              **overrides: str) -> Any:
    """The app from test settings plus ``overrides``; ``extend`` may add test-only views."""
    settings = app_settings(
        database_url,
        **{"taskdesk.includes": "taskdesk.web taskdesk.api taskdesk.metrics",
           "taskdesk.metrics.token": METRICS_TOKEN, **overrides},
    )
    config = make_configurator(settings)
    if extend is not None:
        extend(config)
    return config.make_wsgi_app()


@pytest.fixture(scope="session")
def ops_app(database_url: str, engine: Engine) -> Any:
    return build_app(database_url)


@pytest.fixture
def ops_testapp(ops_app: Any, connection: Connection) -> Iterator[webtest.TestApp]:
    with joined(ops_app, connection):
        yield webtest.TestApp(ops_app, extra_environ={"HTTP_HOST": "taskdesk.test"})
