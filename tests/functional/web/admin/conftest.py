"""Fixtures for the admin pages: a signed-in site admin and a signed-in ordinary user."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest

from taskdesk.models import User
from tests.support.factories import Factory


@pytest.fixture
def admin(factory: Factory) -> User:
    return factory.user("root", admin=True, display_name="Root Admin")


@pytest.fixture
def admin_app(admin: User, login_as: Callable[..., webtest.TestApp]) -> webtest.TestApp:
    return login_as(admin.username)

