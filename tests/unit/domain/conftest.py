"""Fixtures of the domain rule tests: a user who owns a project."""

from __future__ import annotations

import pytest

from taskdesk.models import Project, User
from tests.support.factories import Factory


@pytest.fixture
def owner(factory: Factory) -> User:
    return factory.user()


@pytest.fixture
def project(factory: Factory, owner: User) -> Project:
    return factory.project(owner)
