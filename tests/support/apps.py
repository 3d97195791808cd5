"""The app under test: its settings, binding it to a test's rolled-back transaction, and an
app with the operations packages switched on."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection

from taskdesk import make_configurator
from taskdesk.security.passwords import Argon2Cost

HOST = "taskdesk.test"
SESSION_SECRET = "test-secret-" + "x" * 40
METRICS_TOKEN = "metrics-token-" + "m" * 30
#: Argon2id at its smallest cost (about a millisecond, against ~50 ms or far more on a
#: busy machine at the production cost) for the test apps, which sign in by the thousand:
#: ``tests/functional/security/test_passwords.py`` covers the production cost.
TEST_PASSWORD_COST = Argon2Cost(time_cost=1, memory_cost=1024, parallelism=1)
#: Where the test apps keep attachment files: one directory per test process (content-
#: addressed, so tests sharing it cannot disturb each other's files).
ATTACHMENTS = os.path.join(tempfile.gettempdir(), f"taskdesk-test-attachments-{os.getpid()}")


def app_settings(url: str, **overrides: str) -> dict[str, str]:
    settings = {
        "sqlalchemy.url": url,
        "pyramid.default_locale_name": "en",
        "taskdesk.environment": "production",
        "taskdesk.session.secret": SESSION_SECRET,
        "taskdesk.includes": "taskdesk.web taskdesk.api taskdesk.notify taskdesk.graphql "
                             "taskdesk.live",
        "taskdesk.roles.reporter": "view comment set_status",
        "retry.attempts": "3",
        # Jobs stay in the app's process: a test that needs them run starts a consumer.
        "taskdesk.queue.url": "memory:",
        "taskdesk.attachments.path": ATTACHMENTS,
        "taskdesk.passwords.argon2_time_cost": str(TEST_PASSWORD_COST.time_cost),
        "taskdesk.passwords.argon2_memory_cost": str(TEST_PASSWORD_COST.memory_cost),
        "taskdesk.passwords.argon2_parallelism": str(TEST_PASSWORD_COST.parallelism),
    }
    settings.update(overrides)
    return settings


@contextmanager
def joined(app: Any, connection: Connection) -> Iterator[None]:
    """Make ``app``'s request sessions join the test's outer transaction on ``connection``
    (with savepoints, so a request's commit or abort stays inside it)."""
    binds = app.registry["dbbinds"]
    saved = binds.write, binds.read, binds.session_options
    binds.write = binds.read = connection
    binds.session_options = {"join_transaction_mode": "create_savepoint"}
    try:
        yield
    finally:
        binds.write, binds.read, binds.session_options = saved


def build_app(database_url: str, extend: Callable[[Any], None] | None = None,
              **overrides: str) -> Any:
    """The app from test settings plus the operations packages (metrics with
    ``METRICS_TOKEN``) and ``overrides``; ``extend`` may add test-only views."""
    settings = app_settings(
        database_url,
        **{"taskdesk.includes": "taskdesk.web taskdesk.api taskdesk.notify taskdesk.graphql "
                              "taskdesk.metrics",
           "taskdesk.metrics.token": METRICS_TOKEN, **overrides},
    )
    config = make_configurator(settings)
    if extend is not None:
        extend(config)
    return config.make_wsgi_app()
