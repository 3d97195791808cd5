"""Fixtures for the security tests: browsers signed in through the real form, apps built with
small limits, and cheap password hashing (the browsers and the session-cookie reader are in
``tests.support.sessions``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import webtest
from argon2 import PasswordHasher
from sqlalchemy.engine import Connection

from taskdesk import main
from taskdesk.security import login, passwords
from tests.support.apps import app_settings, joined
from tests.support.factories import Factory
from tests.support.sessions import new_browser

#: Argon2id with the smallest parameters, for tests that hash passwords by the dozen.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """Hash with ``CHEAP_HASHER`` in the app (also for unknown users) and for factory users.

    For tests that sign in or change passwords by the dozen and test who may, not how the
    hash is made (``test_passwords`` keeps the real parameters)."""
    monkeypatch.setattr(passwords, "_hasher", CHEAP_HASHER)
    monkeypatch.setattr(login, "DUMMY_HASH", CHEAP_HASHER.hash("timing-equaliser"))
    monkeypatch.setattr(Factory, "_password_hash", CHEAP_HASHER.hash(Factory.PASSWORD))
    return CHEAP_HASHER


_apps: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}


@pytest.fixture
def app_with(
    database_url: str, connection: Connection
) -> Iterator[Callable[..., webtest.TestApp]]:
    """``app_with(**{"taskdesk.login.account_limit": "3"})``: a browser on an app built with
    those settings (built once per settings and backend), in this test's transaction."""
    with ExitStack() as bound:

        def build(**overrides: str) -> webtest.TestApp:
            key = (database_url, tuple(sorted(overrides.items())))
            if key not in _apps:
                _apps[key] = main({}, **app_settings(database_url, **overrides))
            wsgi_app = _apps[key]
            bound.enter_context(joined(wsgi_app, connection))
            return new_browser(wsgi_app)

        yield build


@pytest.fixture
def browser(wsgi_app: Any, connection: Connection) -> Callable[[], webtest.TestApp]:
    """A new browser (own cookie jar) on the standard app."""
    return lambda: new_browser(wsgi_app)
