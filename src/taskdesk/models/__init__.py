"""Database wiring: engine, session factory and ``request.dbsession`` joined to pyramid_tm."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import cache
from typing import Any

import pyramid_tm
import transaction.interfaces
import zope.sqlalchemy
from pyramid.config import Configurator
from sqlalchemy import create_engine, engine_from_config, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url
from sqlalchemy.orm import Session, configure_mappers, sessionmaker
from sqlalchemy.sql import Executable

from taskdesk.models.meta import Base
from taskdesk.models.tables import (
    UNMANAGED_SCHEMA_NAMES,
    Activity,
    ApiToken,
    Attachment,
    AuditEntry,
    AuthSession,
    Comment,
    DirectoryAccount,
    Event,
    FeedToken,
    Group,
    GroupMember,
    IdempotencyKey,
    LoginFailure,
    Notification,
    NotificationPreference,
    OidcSignIn,
    PendingSignIn,
    Project,
    ProjectMember,
    ProjectWatcher,
    RecoveryCode,
    RememberedDevice,
    SavedView,
    Task,
    TaskLabel,
    TaskLink,
    TaskSearch,
    TaskWatcher,
    TwoFactor,
    User,
    Webhook,
    WebhookDelivery,
)
from taskdesk.models.writers import WriterQueue
from taskdesk.settings import settings_of

__all__ = [
    "CLIENT_ADDRESS",
    "KEEP_CHANGES",
    "UNMANAGED_SCHEMA_NAMES",
    "Activity",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "AuthSession",
    "Base",
    "Comment",
    "DatabaseBinds",
    "DatabaseBusyError",
    "DirectoryAccount",
    "Event",
    "FeedToken",
    "Group",
    "GroupMember",
    "IdempotencyKey",
    "LoginFailure",
    "Notification",
    "NotificationPreference",
    "OidcSignIn",
    "Outage",
    "PendingSignIn",
    "Project",
    "ProjectMember",
    "ProjectWatcher",
    "RecoveryCode",
    "RememberedDevice",
    "SavedView",
    "Task",
    "TaskLabel",
    "TaskLink",
    "TaskSearch",
    "TaskWatcher",
    "TwoFactor",
    "User",
    "Webhook",
    "WebhookDelivery",
    "database_binds",
    "database_outage",
    "get_engine",
    "get_session_factory",
    "get_tm_session",
    "insert_missing",
    "is_busy",
    "read_rows",
    "session_factory",
    "write_rows",
]

configure_mappers()

#: Request environ flag: commit this request's changes even though it answers with an
#: error (a failed authentication is recorded for throttling, and then refused).
KEEP_CHANGES = "taskdesk.keep_changes"
#: ``Session.info`` key: the client address of the request a session serves (the audit log
#: records it with each entry).
CLIENT_ADDRESS = "taskdesk.client_address"


def commit_veto(request: Any, response: Any) -> bool:
    """pyramid_tm's veto (abort on 4xx/5xx), unless the request asked to keep its changes."""
    if request.environ.get(KEEP_CHANGES):
        return False
    return bool(pyramid_tm.default_commit_veto(request, response))


class DatabaseBusyError(transaction.interfaces.TransientError):  # type: ignore[misc]
    """SQLite stayed locked past the busy timeout; pyramid_retry runs the request again."""


def is_busy(error: BaseException | None) -> bool:
    """Whether a driver error is SQLite's "database is locked"."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


class Outage(StrEnum):
    """Why the database cannot serve a request right now: a temporary condition, answered
    503 with ``Retry-After`` rather than 500 (see :func:`database_outage`)."""

    #: Locked past the busy timeout, no pooled connection free in time, or transactions
    #: still conflicting on the last attempt pyramid_retry made.
    BUSY = "busy"
    #: Connection refused or lost (server stopped, restarting, connections terminated),
    #: or the SQLite file missing, unreadable or not a database.
    UNREACHABLE = "unreachable"


#: SQLite result codes (names, extended ones by prefix) that are about the file, the disk or
#: the lock, not about the statement: SQLite reports a bad statement as OperationalError too.
_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")
_SQLITE_UNREACHABLE = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_NOTADB", "SQLITE_CORRUPT",
                       "SQLITE_FULL", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_NOMEM")
#: PostgreSQL SQLSTATEs of contention: class 40 (serialization failure, deadlock), lock not
#: available, statement cancelled (timeout).
_POSTGRES_BUSY = ("40", "55P03", "57014")


def database_outage(error: BaseException | None) -> Outage | None:
    """Whether ``error`` means the database is unavailable, and why; None for any other
    error (a bad statement, a constraint, a bug: those stay 500s or their own answers).

    The one home of that decision: the exception views of the web UI and the API, the
    request-id tween's last-resort answer and its log line all ask here.
    """
    if isinstance(error, DatabaseBusyError | sa_exc.TimeoutError):
        return Outage.BUSY
    if isinstance(error, sa_exc.DisconnectionError):
        return Outage.UNREACHABLE
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    driver_error = error.orig
    if isinstance(driver_error, sqlite3.Error):
        name = str(getattr(driver_error, "sqlite_errorname", ""))
        if name.startswith(_SQLITE_BUSY):
            return Outage.BUSY
        return Outage.UNREACHABLE if name.startswith(_SQLITE_UNREACHABLE) else None
    if str(getattr(driver_error, "sqlstate", None) or "").startswith(_POSTGRES_BUSY):
        return Outage.BUSY
    if error.connection_invalidated or isinstance(
        error, sa_exc.OperationalError | sa_exc.InterfaceError
    ):
        return Outage.UNREACHABLE
    return None


class TaskdeskSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite, with transactions begun by SQLAlchemy instead of by the driver.

    The driver's own handling begins no transaction before a SELECT and breaks SAVEPOINT
    (see SQLAlchemy's pysqlite notes), so it is switched off on connect and ``do_begin``
    issues ``BEGIN``: IMMEDIATE by default, taking the write lock up front so two writers
    never deadlock upgrading a read lock; DEFERRED on the engine of read-only requests,
    which then run beside a writer. A lock held past the busy timeout becomes the
    retryable ``DatabaseBusyError``.

    A dialect method, not SQLAlchemy's "begin" event: any engine event makes every
    statement dispatch its execution events, ~5% of a JSON list request.
    """

    supports_statement_cache = True
    begin_statement = "BEGIN IMMEDIATE"
    #: This process's writers in line for the write lock (see ``taskdesk.models.writers``);
    #: None on the read-only engine, whose DEFERRED transactions need no turn.
    writers: WriterQueue | None = None

    def do_begin(self, dbapi_connection: Any) -> None:
        writers = self.writers
        if writers is not None and not writers.acquire(dbapi_connection):
            raise DatabaseBusyError("waited past the busy timeout for this process's writers")
        try:
            dbapi_connection.execute(self.begin_statement)
        except sqlite3.OperationalError as error:
            self._end_turn(dbapi_connection)
            if not is_busy(error):
                raise
            raise DatabaseBusyError(str(error)) from error
        except BaseException:
            self._end_turn(dbapi_connection)
            raise

    def do_commit(self, dbapi_connection: Any) -> None:
        try:
            dbapi_connection.commit()
        finally:
            self._end_turn(dbapi_connection)

    def do_rollback(self, dbapi_connection: Any) -> None:
        try:
            dbapi_connection.rollback()
        finally:
            self._end_turn(dbapi_connection)

    def do_close(self, dbapi_connection: Any) -> None:
        try:
            dbapi_connection.close()
        finally:
            self._end_turn(dbapi_connection)

    def _end_turn(self, dbapi_connection: Any) -> None:
        if self.writers is not None:
            self.writers.release(dbapi_connection)


registry.register("sqlite.taskdesk", __name__, TaskdeskSQLiteDialect.__name__)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, record: Any) -> None:
        # The dialect issues BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()


def get_engine(url: str, *, sqlite_busy_timeout: int = 5000, **options: Any) -> Engine:
    """Build the engine for ``url`` with the per-backend settings Taskdesk relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        parsed = parsed.set(drivername="sqlite+taskdesk")
    settings: dict[str, Any] = {"sqlalchemy.url": parsed}
    settings.update({f"sqlalchemy.{k}": v for k, v in options.items()})
    if parsed.get_backend_name() == "postgresql":
        # A pooled connection the server dropped (restart, terminated backends) is replaced
        # at checkout instead of failing a request: service resumes with the server. (SQLite
        # needs none: a connection that could not open the file is never pooled.)
        settings.setdefault("sqlalchemy.pool_pre_ping", True)
    engine = engine_from_config(settings, prefix="sqlalchemy.")
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, sqlite_busy_timeout)
        engine.dialect.writers = WriterQueue(sqlite_busy_timeout / 1000)  # type: ignore[attr-defined]
    return engine


def read_only_engine(engine: Engine) -> Engine:
    """The engine for read-only requests: on SQLite one that begins DEFERRED, sharing the
    connection pool; elsewhere ``engine`` itself."""
    if not isinstance(engine.dialect, TaskdeskSQLiteDialect):
        return engine
    reader = create_engine(engine.url, pool=engine.pool)
    reader.dialect.begin_statement = "BEGIN DEFERRED"  # type: ignore[attr-defined]
    return reader


def get_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Instances are not expired at commit: nothing keeps them past the request, and
    # expiring every loaded row costs ~300 µs per list request.
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_tm_session(
    session_factory: sessionmaker[Session],
    transaction_manager: transaction.TransactionManager,
    bind: Engine | Connection | None = None,
) -> Session:
    """A session joined to ``transaction_manager``: committed or aborted with it."""
    dbsession = session_factory() if bind is None else session_factory(bind=bind)
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


def read_rows(
    dbsession: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> CursorResult[Any]:
    """Run a SELECT of plain columns on ``dbsession``'s connection, in its transaction.

    The ORM's execution path (compile state, row loading) costs about 100 µs on a 50-row
    list even when the statement loads no entity; the hot read paths (lists, a project's
    memberships) go around it. Pending changes are flushed first, as the ORM would.
    """
    dbsession.flush()
    return dbsession.connection().execute(statement, params)


def write_rows(
    dbsession: Session, statement: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> CursorResult[Any]:
    """Run Core DML (one row, or executemany with a list) on ``dbsession``'s connection, in
    its transaction, as :func:`read_rows` runs a SELECT: rows written without the ORM's unit
    of work, which costs more than the INSERT itself on a create. The session is marked
    changed for zope.sqlalchemy (otherwise the transaction would not commit it)."""
    dbsession.flush()
    result = dbsession.connection().execute(statement, params)
    zope.sqlalchemy.mark_changed(dbsession)
    return result


@cache
def _insert_missing_statement(model: type[Base], dialect: str) -> Executable:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table: Any = model.__table__
    # SQLAlchemy reports an INSERT's row count only when asked to (else -1 on PostgreSQL).
    return insert(table).on_conflict_do_nothing().execution_options(preserve_rowcount=True)


def insert_missing(dbsession: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` (each with the same keys) into ``model``'s table, skipping each one
    whose primary key or unique constraint is already taken (a concurrent or repeated
    insert); return how many were new.

    ``INSERT ... ON CONFLICT DO NOTHING`` on both databases, so callers need neither a
    SELECT first nor a savepoint around an IntegrityError: one statement, executed once per
    row (executemany) and built once per table. A multi-row ``VALUES`` would be one
    execution, but SQLAlchemy cannot cache its compiled form, and compiling it again cost
    more than the INSERT (a task's create). The driver sums the row counts (sqlite3 and
    psycopg both do).
    """
    if not rows:
        return 0
    statement = _insert_missing_statement(model, dbsession.get_bind().dialect.name)
    result = write_rows(dbsession, statement, list(rows))
    return int(getattr(result, "rowcount", 0) or 0)


class ThreadTransactions(threading.local):
    """Per server thread: one explicit transaction manager for the thread's requests, one
    after another, and a session factory whose sessions join it.

    zope.sqlalchemy joins sessions to a manager with seven event listeners. Registered on a
    session instance that costs ~60 µs for every request; registered once on a session
    class (a sessionmaker's), nothing. So each thread registers once, for its own manager.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.manager = transaction.TransactionManager(explicit=True)
        self.session_factory = get_session_factory(engine)
        zope.sqlalchemy.register(self.session_factory, transaction_manager=self.manager)

    def session(self, manager: Any, binds: DatabaseBinds, read_only: bool) -> Session:
        """A session joined to ``manager``: the thread's own, or any other (pshell's)."""
        if manager is self.manager:
            return binds.session(self.session_factory, read_only)
        dbsession = binds.session(get_session_factory(self.engine), read_only)
        zope.sqlalchemy.register(dbsession, transaction_manager=manager)
        return dbsession


class DatabaseBinds:
    """What request sessions bind to: the engine, a variant for read-only requests, and
    extra Session arguments.

    The test harness swaps both binds for one connection inside its outer transaction and
    asks for ``join_transaction_mode="create_savepoint"``.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write: Engine | Connection = engine
        self.read: Engine | Connection = read_only_engine(engine)
        self.session_options: dict[str, Any] = {}
        #: Copied into each session's ``info`` (the queue puts itself there, to enqueue the
        #: jobs a transaction asks for once it commits).
        self.session_info: dict[str, Any] = {}

    def session(self, factory: sessionmaker[Session], read_only: bool) -> Session:
        """A new session from ``factory`` on the read or the write bind."""
        return factory(bind=self.read if read_only else self.write, info=self.session_info,
                       **self.session_options)


#: Registry keys of this package; other packages read them through the accessors below.
_BINDS_KEY = "dbbinds"
_SESSION_FACTORY_KEY = "dbsession_factory"


def database_binds(registry: Any) -> DatabaseBinds:
    """The application's database binds (its engine among them)."""
    binds: DatabaseBinds = registry[_BINDS_KEY]
    return binds


def session_factory(registry: Any) -> sessionmaker[Session]:
    """The application's session factory, for sessions outside ``request.dbsession``."""
    factory: sessionmaker[Session] = registry[_SESSION_FACTORY_KEY]
    return factory


def includeme(config: Configurator) -> None:
    """Make ``request.dbsession`` available, joined to the request's transaction."""
    settings = config.get_settings()
    taskdesk_settings = settings_of(config.registry)
    engine = get_engine(
        settings["sqlalchemy.url"], sqlite_busy_timeout=taskdesk_settings.sqlite_busy_timeout
    )
    binds = DatabaseBinds(engine)
    transactions = ThreadTransactions(engine)
    config.registry[_SESSION_FACTORY_KEY] = get_session_factory(engine)
    config.registry[_BINDS_KEY] = binds

    def transaction_manager(request: Any) -> transaction.TransactionManager:
        return transactions.manager

    settings["tm.manager_hook"] = transaction_manager
    settings.setdefault("tm.commit_veto", "taskdesk.models.commit_veto")
    # Annotating transactions with the user would look up the identity on every request,
    # static files included; nothing reads the annotation.
    settings.setdefault("tm.annotate_user", "false")
    config.include("pyramid_tm")
    config.include("pyramid_retry")

    def dbsession(request: Any) -> Session:
        read_only = request.method in ("GET", "HEAD", "OPTIONS")
        session = transactions.session(request.tm, binds, read_only)
        # Audit entries the request writes carry its client's address (domain.audit).
        session.info[CLIENT_ADDRESS] = request.remote_addr
        return session

    config.add_request_method(dbsession, reify=True)
