"""The task queue: a Huey instance built from ``taskdesk.queue.url``, the jobs packages
register on it, and the dispatcher that hands the outbox's events to their consumers.

- ``sqlite:///path`` (the default beside a SQLite database): one machine, no service.
- ``redis://...``: web processes and workers on several machines share one Redis.
- ``memory:``: jobs stay in the process that enqueued them (tests, where a test runs the
  consumer itself).

Packages register their work at configuration time, so the web process (which enqueues) and
``taskdesk INI worker`` (which consumes) know the same jobs by the same names::

    config.add_job("mail.send", send_mail, retries=8)          # job(context, *args)
    config.add_periodic_job("mail.digest", send_digests, minute="0", hour="*")
    config.add_event_consumer("inbox", notify_people)          # consumer(context, event)

A job gets a :class:`JobContext`: the registry, the settings, and :meth:`JobContext.transaction`
for database work. A transaction asks for jobs with ``domain.events.run_after_commit``; they
are enqueued here once it commits, and never when it rolls back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import transaction
import zope.sqlalchemy
from huey import Huey, MemoryHuey, RedisHuey, crontab
from huey.api import TaskWrapper
from huey.storage import SqliteStorage
from pyramid.config import Configurator
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain.events import DISPATCH_JOB, take_jobs_after_commit
from taskdesk.models import Event, database_binds, session_factory
from taskdesk.models.meta import utcnow
from taskdesk.settings import TaskdeskSettings, settings_of

log = logging.getLogger(__name__)

#: ``session.info`` key under which request and job sessions carry the queue.
SESSION_QUEUE_KEY = "taskdesk.queue"
#: Events handed to the consumers per transaction.
DISPATCH_BATCH = 100
#: Failed dispatches of one event before it is parked for an admin.
DISPATCH_ATTEMPTS = 8


@dataclass(frozen=True)
class JobContext:
    """What a job runs with: the application's registry and settings, and transactions."""

    registry: Any
    settings: TaskdeskSettings

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a new transaction, committed when the block ends (then the jobs it
        asked for are enqueued), aborted if it raises."""
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            # Through the binds, as request sessions are: tests bind them to their
            # connection, so a job run in a test sees (and rolls back with) the test's rows.
            dbsession = database_binds(self.registry).session(
                session_factory(self.registry), read_only=False)
            zope.sqlalchemy.register(dbsession, transaction_manager=manager)
            yield dbsession


Job = Callable[..., None]
EventConsumer = Callable[[JobContext, Session, Event], None]


@dataclass
class Queue:
    """The Huey instance and what is registered on it, kept on the registry."""

    huey: Huey
    context: JobContext
    jobs: dict[str, TaskWrapper] = field(default_factory=dict)
    consumers: dict[str, EventConsumer] = field(default_factory=dict)
    #: Set by the worker when it is asked to stop: long jobs (the dispatcher) end after the
    #: transaction they are in, and leave the rest to the next run.
    stopping: threading.Event = field(default_factory=threading.Event)

    def register(self, name: str, job: Job, **options: Any) -> TaskWrapper:
        if name in self.jobs:
            raise ValueError(f"a job named {name!r} is registered already")

        def run(*args: Any) -> None:
            job(self.context, *args)

        run.__name__ = run.__qualname__ = name
        wrapper: TaskWrapper = self.huey.task(name=name, **options)(run)
        self.jobs[name] = wrapper
        return wrapper

    def register_periodic(self, name: str, job: Job, schedule: Callable[..., bool],
                          **options: Any) -> TaskWrapper:
        if name in self.jobs:
            raise ValueError(f"a job named {name!r} is registered already")

        def run() -> None:
            job(self.context)

        run.__name__ = run.__qualname__ = name
        wrapper: TaskWrapper = self.huey.periodic_task(schedule, name=name, **options)(run)
        self.jobs[name] = wrapper
        return wrapper

    def enqueue(self, name: str, *args: Any) -> None:
        """Put ``name(*args)`` on the queue; a name no included package registered is
        logged and dropped (its package is switched off)."""
        wrapper = self.jobs.get(name)
        if wrapper is None:
            log.debug("no job named %s is registered; not enqueued", name)
            return
        self.huey.enqueue(wrapper.s(*args))


class QueueFileStorage(SqliteStorage):  # type: ignore[misc]
    """Huey's SQLite queue, written as the database is (WAL, ``synchronous=NORMAL``) instead
    of Huey's default ``FULL``, which waits for the disk on every job put (~250 µs, a
    quarter of a task's create).

    A job a power cut takes with it is not lost work: what it was for waits in the database
    (the outbox's events, webhook deliveries, mail), and the periodic jobs pick it up.
    """

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection


def build_huey(url: str, name: str = "taskdesk") -> Huey:
    """The Huey instance for ``taskdesk.queue.url`` (see the module docstring), its keys
    (Redis) or rows (SQLite) under ``name`` (``taskdesk.queue.name``)."""
    if url == "memory:":
        return MemoryHuey(name, utc=True)
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey(name, url=url, utc=True)
    filename = Path(url.removeprefix("sqlite:///"))
    # Like the database's var/ folder, the queue's is made when missing (a fresh checkout,
    # a container's empty volume); SQLite would only say "unable to open database file".
    filename.parent.mkdir(parents=True, exist_ok=True)
    return Huey(name, filename=str(filename), utc=True, storage_class=QueueFileStorage)


def queue_of(registry: Any) -> Queue:
    """The application's queue (``taskdesk.queue`` is a core include)."""
    queue: Queue = registry["taskdesk.queue"]
    return queue


@sa_event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy signals it as a commit): nothing is visible
    jobs = take_jobs_after_commit(session)
    queue: Queue | None = session.info.get(SESSION_QUEUE_KEY)
    if not jobs or queue is None:
        return
    for name, args in jobs:
        try:
            queue.enqueue(name, *args)
        except Exception:
            # The change is committed; its events wait in the outbox for the periodic
            # dispatch, which is exactly what a lost job would need anyway.
            log.exception("could not enqueue %s after commit; the periodic run will", name)


@sa_event.listens_for(Session, "after_rollback")
def _forget_jobs_after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the transaction around it may still commit what it asked for
    take_jobs_after_commit(session)


def _pending_events(dbsession: Session) -> list[Event]:
    statement = (
        select(Event)
        .where(Event.dispatched_at.is_(None), Event.parked_at.is_(None))
        .order_by(Event.id)
        .limit(DISPATCH_BATCH)
    )
    if dbsession.get_bind().dialect.name == "postgresql":
        # Two workers take different events instead of waiting on each other's rows.
        statement = statement.with_for_update(skip_locked=True)
    return list(dbsession.scalars(statement))


def dispatch_events(context: JobContext) -> None:
    """Hand every pending event to every consumer, in order, a batch per transaction.

    Each event runs in a savepoint: a consumer that fails rolls back that event's work only;
    the event is tried again by the next run and parked after :data:`DISPATCH_ATTEMPTS`.
    Consumers are idempotent (unique keys on what they write), so an event handed over twice
    (a worker killed after its consumers ran but before the commit) does no harm. A worker
    that is stopping ends the run after the current batch; the next run takes the rest.
    """
    queue = queue_of(context.registry)
    while True:
        with context.transaction() as dbsession:
            events = _pending_events(dbsession)
            for event in events:
                _dispatch_one(context, dbsession, queue.consumers, event)
        if len(events) < DISPATCH_BATCH or queue.stopping.is_set():
            return


def _dispatch_one(context: JobContext, dbsession: Session,
                  consumers: dict[str, EventConsumer], event: Event) -> None:
    savepoint = dbsession.begin_nested()
    try:
        for consumer in consumers.values():
            consumer(context, dbsession, event)
        savepoint.commit()
    except Exception as error:
        savepoint.rollback()
        event.attempts += 1
        # One line each time; the traceback for whoever runs the worker at DEBUG.
        log.warning("dispatching event %s (%s) failed, attempt %s of %s: %s: %s", event.id,
                    event.kind, event.attempts, DISPATCH_ATTEMPTS, type(error).__name__,
                    (str(error).strip().splitlines() or [""])[0])
        log.debug("dispatching event %s failed", event.id, exc_info=True)
        event.last_error = f"{type(error).__name__}: {error}"[:2000]
        if event.attempts >= DISPATCH_ATTEMPTS:
            event.parked_at = utcnow()
        return
    event.dispatched_at = utcnow()


def add_job(config: Configurator, name: str, job: Job, *, retries: int = 5,
            retry_delay: int = 10, retry_backoff: float = 2.0) -> None:
    """Register ``job(context, *args)`` under ``name``; a failure is retried ``retries``
    times, waiting ``retry_delay`` seconds multiplied by ``retry_backoff`` each time."""
    queue_of(config.registry).register(name, job, retries=retries, retry_delay=retry_delay,
                                       retry_backoff=retry_backoff)


def add_periodic_job(config: Configurator, name: str, job: Job, **schedule: str) -> None:
    """Register ``job(context)`` to run in the worker on a crontab ``schedule`` (``minute``,
    ``hour``, ``day``, ``month``, ``day_of_week``; every minute by default)."""
    queue_of(config.registry).register_periodic(name, job, crontab(**schedule))


def add_event_consumer(config: Configurator, name: str, consumer: EventConsumer) -> None:
    """Have ``consumer(context, dbsession, event)`` called for every event, in the
    dispatcher's transaction; consumers run in the order they were added."""
    consumers = queue_of(config.registry).consumers
    if name in consumers:
        raise ValueError(f"an event consumer named {name!r} is registered already")
    consumers[name] = consumer


def includeme(config: Configurator) -> None:
    """Build the queue, let sessions enqueue after commit, and register the dispatcher."""
    settings = settings_of(config.registry)
    queue = Queue(build_huey(settings.queue_url, settings.queue_name),
                  JobContext(config.registry, settings))
    config.registry["taskdesk.queue"] = queue
    database_binds(config.registry).session_info[SESSION_QUEUE_KEY] = queue
    config.add_directive("add_job", add_job)
    config.add_directive("add_periodic_job", add_periodic_job)
    config.add_directive("add_event_consumer", add_event_consumer)
    # After each commit that emitted events, and every minute for any a lost job left.
    config.add_job(DISPATCH_JOB, dispatch_events)
    config.add_periodic_job("events.dispatch_pending", dispatch_events)
