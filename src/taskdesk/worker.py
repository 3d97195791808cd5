"""``taskdesk INI worker``: Huey's consumer for the application's queue.

The application is bootstrapped from the INI like the web server, so the worker knows the
same jobs by the same names (``taskdesk.queue`` and the included feature packages register
them). What Huey does differently by default, and why it is changed here:

- Huey stops *at once* on SIGTERM (its thread workers are daemon threads: a job in hand is
  cut off) and gracefully only on SIGINT. Process managers stop services with SIGTERM, so
  both are graceful here: no new job starts, the jobs in hand finish (the dispatcher ends
  after its current batch, leaving the rest for the next run), then the process exits 0. A
  second signal stops at once. Nothing is lost either way: a job cut off rolls its
  transaction back, and the events it was dispatching stay pending. The handlers are set
  before the worker says it started, so a signal during start-up stops it cleanly too.
- Huey logs a failing job with its traceback; here it is one line (the traceback at DEBUG).
- A starting worker asks for one dispatch, so events a killed worker left pending are
  delivered at once rather than at the next minute's catch-up.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from huey import MemoryHuey, RedisHuey, signals
from huey.api import Huey, Task
from huey.consumer import Consumer
from redis.exceptions import RedisError

from taskdesk.domain.events import DISPATCH_JOB
from taskdesk.queue import queue_of

log = logging.getLogger("taskdesk.worker")


class GracefulConsumer(Consumer):  # type: ignore[misc]
    """Huey's consumer, graceful on SIGTERM and SIGINT alike, and telling the jobs in hand
    (``Queue.stopping``) when it is asked to stop."""

    def __init__(self, huey: Huey, stopping: threading.Event, **options: Any) -> None:
        super().__init__(huey, graceful_signal="TERM", **options)
        self._signal_actions[signal.SIGINT] = (False, True)  # (restart, graceful)
        self._stopping = stopping
        # Huey sets its handlers at the very end of ``start``, after its threads: a signal
        # before then (a worker stopped as it starts, "worker started" already logged) would
        # kill the process by the signal. Set now, the signal is noted and the first turn of
        # the consumer's loop stops it cleanly.
        self._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        self._stopping.set()
        super().stop(graceful=graceful)


class _DropHueyTraceback(logging.Filter):
    """Huey's own record of a failed job (with traceback); :func:`_log_failure` says it in
    one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unhandled exception in task")


def log_failures_in_one_line(huey: Huey) -> None:
    """Have each failure of a job on ``huey`` logged as one line instead of a traceback."""
    logging.getLogger("huey").addFilter(_DropHueyTraceback())
    huey.signal(signals.SIGNAL_ERROR)(_log_failure)


def _log_failure(signal_name: str, task: Task, error: BaseException | None = None) -> None:
    reason = str(error).strip().splitlines()[0] if error is not None and str(error) else ""
    retry = (f"retrying, {task.retries} retries left" if task.retries
             else "not retried")
    log.error("job %s failed (%s): %s%s; %s", task.name, task.id,
              type(error).__name__, f": {reason}" if reason else "", retry)
    log.debug("job %s failed", task.name, exc_info=error)


class QueueUnusable(Exception):
    """The queue the INI names cannot be consumed (the message says why, in one line)."""


def check_queue(huey: Huey, url: str) -> None:
    """Refuse a queue no worker can serve, before starting: ``memory:`` (jobs stay in the
    process that enqueued them) or a Redis that does not answer."""
    if isinstance(huey, MemoryHuey):
        raise QueueUnusable(
            "taskdesk.queue.url = memory: keeps jobs inside the process that enqueued them; "
            "a worker needs sqlite:///path or redis://host:6379/0")
    if isinstance(huey, RedisHuey):
        try:
            huey.storage.conn.ping()
        except RedisError as error:
            raise QueueUnusable(f"the queue at {url} does not answer: {error}") from None


def run_worker(registry: Any, *, workers: int, periodic: bool) -> None:
    """Consume the application's queue until SIGTERM or SIGINT (see the module docstring)."""
    queue = queue_of(registry)
    huey = queue.huey
    check_queue(huey, queue.context.settings.queue_url)
    log_failures_in_one_line(huey)
    consumer = GracefulConsumer(huey, queue.stopping, workers=workers, periodic=periodic,
                                worker_type="thread")
    queue.enqueue(DISPATCH_JOB)
    log.info("worker started: %d job thread(s), periodic jobs %s, queue %s", workers,
             "on" if periodic else "off", type(huey).__name__)
    consumer.run()
    log.info("worker stopped")
