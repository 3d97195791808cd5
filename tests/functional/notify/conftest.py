"""Fixtures of the webhook delivery tests: an app whose allow-list admits 127.0.0.1 (where
the test receiver listens), joined to the test's transaction like the default app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Connection

from taskdesk import main
from tests.support.apps import app_settings, joined


@pytest.fixture(scope="session")
def hooks_app(database_url: str, engine: Any) -> Any:
    return main({}, **app_settings(database_url, **{
        "taskdesk.webhooks.allow": "127.0.0.1",
        "taskdesk.webhooks.timeout": "1",
        "taskdesk.webhooks.attempts": "3",
        "taskdesk.public_url": "https://tasks.example.com",
    }))


@pytest.fixture
def app(hooks_app: Any, connection: Connection) -> Iterator[Any]:
    with joined(hooks_app, connection):
        yield hooks_app
