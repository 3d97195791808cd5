"""Fixtures for the real-server tests: a migrated SQLite site with a user, per test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.servers import (
    ServerProcess,
    free_port,
    hypercorn,
    prepare_database,
    waitress,
    write_ini,
)

SERVERS: dict[str, Callable[..., ServerProcess]] = {"waitress": waitress, "hypercorn": hypercorn}


@dataclass
class Site:
    """A production-like INI on a fresh, migrated database with the user ``alice``."""

    directory: Path
    ini: Path
    port: int
    database: Path

    def server(self, kind: str, *options: str) -> ServerProcess:
        return SERVERS[kind](self.ini, self.port, self.directory / f"{kind}.log", *options)


def make_site(directory: Path, app_overrides: dict[str, str] | None = None,
              server_overrides: dict[str, str] | None = None) -> Site:
    port = free_port()
    database = directory / "taskdesk.sqlite"
    ini = write_ini(directory, f"sqlite:///{database}", port, app_overrides, server_overrides)
    prepare_database(ini, "alice")
    return Site(directory, ini, port, database)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path)


@pytest.fixture(params=sorted(SERVERS))
def server_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)
