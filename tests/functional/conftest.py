"""Fixtures for functional tests that need an app of their own.

The shared ``wsgi_app`` runs every request inside the test's rolled-back transaction. Apps
built with other settings (another ``taskdesk.includes``, an extra view) commit for real, so
they get a database of their own: ``spare_database_url``, created and migrated once per
backend and dropped at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest
from sqlalchemy.engine import Engine

from taskdesk import main
from taskdesk.queue import queue_of
from tests.support.apps import HOST, app_settings, joined
from tests.support.databases import create_database, migrated_engine


@pytest.fixture(scope="session")
def spare_database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from create_database(backend, tmp_path_factory)


@pytest.fixture(scope="session")
def spare_engine(spare_database_url: str) -> Iterator[Engine]:
    engine = migrated_engine(spare_database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def spare_app(
    spare_database_url: str, spare_engine: Engine
) -> Iterator[Callable[..., webtest.TestApp]]:
    """``spare_app(**settings)``: a TestApp of the real app on the spare database."""
    built: list[Any] = []

    def build(**overrides: str) -> webtest.TestApp:
        app = main({}, **app_settings(spare_database_url, **overrides))
        built.append(app)
        return webtest.TestApp(app, extra_environ={"HTTP_HOST": HOST})

    yield build
    for app in built:
        app.registry["dbbinds"].engine.dispose()


@pytest.fixture(scope="session")
def hooks_app(database_url: str, engine: Engine) -> Any:
    """The app with webhooks allowed to reach 127.0.0.1 (where test receivers listen), a
    1-second delivery timeout, 3 attempts and a public URL; tests join it to their
    transaction with the ``hooks`` fixture."""
    return main({}, **app_settings(database_url, **{
        "taskdesk.webhooks.allow": "127.0.0.1",
        "taskdesk.webhooks.timeout": "1",
        "taskdesk.webhooks.attempts": "3",
        "taskdesk.public_url": "https://tasks.example.com",
    }))


@pytest.fixture
def hooks(hooks_app: Any, connection: Any) -> Iterator[Any]:
    """``hooks_app``, its requests and jobs joined to the test's rolled-back transaction, its
    memory queue emptied of what earlier tests left in it."""
    queue_of(hooks_app.registry).huey.flush()
    with joined(hooks_app, connection):
        yield hooks_app
