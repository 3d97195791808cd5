"""Test databases: a temporary SQLite file or a fresh PostgreSQL database, migrated with
Alembic; PostgreSQL runs when ``TASKDESK_TEST_POSTGRES_URL`` is set or a server answers on
127.0.0.1:5432, and skips with the reason otherwise."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from taskdesk.migrations import upgrade
from taskdesk.models import get_engine

ROOT = Path(__file__).resolve().parents[2]
INI = str(ROOT / "development.ini")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> tuple[str | None, str]:
    """The URL of a reachable PostgreSQL server to create test databases on, or why not."""
    url = os.environ.get("TASKDESK_TEST_POSTGRES_URL", "")
    if url:
        return url, ""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return DEFAULT_POSTGRES, ""
    except OSError as error:
        return None, (
            f"PostgreSQL not reachable on 127.0.0.1:5432 ({error}); "
            "set TASKDESK_TEST_POSTGRES_URL to run the PostgreSQL tests"
        )


def create_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield the URL of a new, empty database of ``backend``; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'taskdesk.sqlite'}"
        return
    admin_url, reason = postgres_admin_url()
    if admin_url is None:
        pytest.skip(reason)
    name = f"taskdesk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL at {admin_url} refused to create a database: {error}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def connections_refused(url: str) -> Iterator[None]:
    """PostgreSQL database ``url`` unavailable meanwhile, as while its server restarts:
    new connections refused (``ALLOW_CONNECTIONS false``) and every open one terminated."""
    admin_url, reason = postgres_admin_url()
    assert admin_url is not None, reason
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def migrated_engine(url: str) -> Engine:
    engine = get_engine(url)
    upgrade(engine, INI)
    return engine


@contextmanager
def recorded_statements(bind: Any) -> Iterator[list[str]]:
    """The SQL statements run on ``bind`` (an engine or a connection) meanwhile, without the
    savepoint bookkeeping around them (SAVEPOINT, RELEASE, ROLLBACK TO)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(bind, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", record)
