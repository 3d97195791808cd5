"""Fixtures of the delivery tests: the app's queue, and running its dispatcher in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from taskdesk.queue import Queue, dispatch_events, queue_of


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
