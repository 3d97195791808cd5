"""Fixtures of the delivery tests: the app's queue and its dispatcher run in-process; a real
SMTP server (aiosmtpd on a loopback port) for the session, the app with ``taskdesk.notify``
sending to it, and that app's job context joined to the test's rolled-back transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from taskdesk import main
from taskdesk.notify.mail import mailer_of
from taskdesk.queue import JobContext, Queue, dispatch_events, queue_of
from tests.support.apps import app_settings, joined
from tests.support.mail import MailSink, smtp_server
from tests.support.servers import free_port

BASE_URL = "https://tasks.example.com"


def mail_settings(database_url: str, port: int, **overrides: str) -> dict[str, str]:
    return app_settings(database_url, **{
        "taskdesk.includes": "taskdesk.web taskdesk.api taskdesk.notify",
        "taskdesk.public_url": BASE_URL,
        "taskdesk.mail.host": "127.0.0.1",
        "taskdesk.mail.port": str(port),
        "taskdesk.mail.security": "none",
        "taskdesk.mail.from": "Taskdesk <tasks@example.com>",
        "taskdesk.mail.batch_seconds": "120",
        "taskdesk.mail.digest_hour": "8",
        **overrides,
    })


@pytest.fixture(scope="session")
def mail_sink() -> MailSink:
    return MailSink()


@pytest.fixture(scope="session")
def smtp(mail_sink: MailSink) -> Iterator[Controller]:
    with smtp_server(mail_sink) as controller:
        yield controller


@pytest.fixture(scope="session")
def mail_app(database_url: str, engine: Engine, smtp: Controller) -> Any:
    return main({}, **mail_settings(database_url, smtp.port))


@pytest.fixture(scope="session")
def down_app(database_url: str, engine: Engine) -> Any:
    """The same app, its SMTP server a port nothing listens on (a server that is down)."""
    return main({}, **mail_settings(database_url, free_port()))


@pytest.fixture
def sink(mail_sink: MailSink) -> Iterator[MailSink]:
    mail_sink.clear()
    yield mail_sink
    mail_sink.clear()


def _context(app: Any, connection: Connection) -> Iterator[JobContext]:
    with joined(app, connection):
        mailer_of(app.registry).backoff.succeeded()
        yield queue_of(app.registry).context


@pytest.fixture
def jobs(mail_app: Any, connection: Connection) -> Iterator[JobContext]:
    """The mail app's job context, in the test's transaction."""
    yield from _context(mail_app, connection)


@pytest.fixture
def down_jobs(down_app: Any, connection: Connection) -> Iterator[JobContext]:
    yield from _context(down_app, connection)


@pytest.fixture
def queue(wsgi_app: Any, connection: Connection) -> Queue:
    """The shared app's queue; its jobs' transactions join the test's connection."""
    return queue_of(wsgi_app.registry)


@pytest.fixture
def dispatch(queue: Queue, dbsession: Session) -> Callable[[], None]:
    """Run the dispatcher once, as the worker's job does (every pending event), after
    flushing the test's session so that it sees the test's events."""

    def run() -> None:
        dbsession.flush()
        dispatch_events(queue.context)

    return run
