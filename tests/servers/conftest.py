"""Fixtures for the real-server tests: a migrated SQLite site with a user, per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.servers import SERVERS, Site, make_site


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path)


@pytest.fixture(params=sorted(SERVERS))
def server_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)
