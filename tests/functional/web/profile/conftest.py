"""Fixtures of the profile pages: the browser of the module's ``user``, signed in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest

from taskdesk.models import User


@pytest.fixture
def app(user: User, login_as: Callable[..., webtest.TestApp]) -> webtest.TestApp:
    return login_as(user.username)
