"""Which database errors are an outage (503, come back later) and which stay errors."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from taskdesk.models import DatabaseBusyError, Outage, database_outage


def _sqlite_error(sql: str, database: str = ":memory:") -> sa_exc.DBAPIError:
    try:
        sqlite3.connect(database).execute(sql)
    except sqlite3.Error as error:
        return sa_exc.DBAPIError.instance(sql, {}, error, sqlite3.Error)
    raise AssertionError(f"{sql!r} did not fail")


def test_sqlite_errors_about_the_file_are_outages_and_bad_statements_are_not() -> None:
    assert database_outage(_sqlite_error("SELECT 1", "/nonexistent/dir/x.sqlite")) is (
        Outage.UNREACHABLE)
    assert database_outage(_sqlite_error("SELECT * FROM nowhere")) is None
    assert database_outage(_sqlite_error("SELEC 1")) is None


@pytest.mark.parametrize(("driver_error", "outage"), [
    (psycopg.errors.SerializationFailure(), Outage.BUSY),
    (psycopg.errors.DeadlockDetected(), Outage.BUSY),
    (psycopg.errors.LockNotAvailable(), Outage.BUSY),
    (psycopg.errors.AdminShutdown(), Outage.UNREACHABLE),
    (psycopg.errors.CannotConnectNow(), Outage.UNREACHABLE),
    (psycopg.OperationalError("connection refused"), Outage.UNREACHABLE),
    (psycopg.errors.UndefinedTable(), None),
    (psycopg.errors.UniqueViolation(), None),
])
def test_postgresql_errors(driver_error: psycopg.Error, outage: Outage | None) -> None:
    wrapped = sa_exc.DBAPIError.instance("SELECT 1", {}, driver_error, psycopg.Error)
    assert database_outage(wrapped) is outage


def test_pool_and_lock_errors_are_busy_and_other_errors_are_none() -> None:
    assert database_outage(sa_exc.TimeoutError("QueuePool limit reached")) is Outage.BUSY
    assert database_outage(DatabaseBusyError("database is locked")) is Outage.BUSY
    assert database_outage(sa_exc.DisconnectionError()) is Outage.UNREACHABLE
    assert database_outage(ValueError("no")) is None
    assert database_outage(None) is None
