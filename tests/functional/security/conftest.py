"""Fixtures for the security tests: browsers signed in through the real form and apps built
with small limits (the browsers and the session-cookie reader are in
``tests.support.sessions``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import webtest
from sqlalchemy.engine import Connection

from taskdesk import main
from tests.support.apps import app_settings, joined
from tests.support.sessions import new_browser

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
