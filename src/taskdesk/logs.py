"""A console log handler that lets a noisy logger through once per interval.

Waitress's ``waitress.queue`` logger warns "Task queue depth is N" for every request that
has to wait for a thread: under load, thousands of lines a minute that say one thing, "the
server is saturated". :class:`ThrottledStreamHandler` (production.ini's console handler;
``logging.config.fileConfig`` cannot attach filters, but it can name a handler class) writes
the first record of a throttled logger, then at most one per ``interval`` seconds, and that
line says how many it held back since the last and the largest number they carried (the
queue depth). Records of every other logger pass unchanged.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable
from typing import TextIO


class ThrottledStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    def __init__(self, stream: TextIO | None = None, interval: float = 60,
                 loggers: Iterable[str] = ()) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self.interval = float(interval)
        self.loggers = frozenset(loggers)
        self._throttle_lock = threading.Lock()
        # logger name -> (time of the last line written, records held back, largest number)
        self._state: dict[str, tuple[float, int, int | None]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.name not in self.loggers:
            super().emit(record)
            return
        now = time.monotonic()
        number = next((arg for arg in (record.args or ()) if isinstance(arg, int)), None)
        with self._throttle_lock:
            last, held, largest = self._state.get(record.name, (float("-inf"), 0, None))
            if number is not None:
                largest = number if largest is None else max(largest, number)
            if now - last < self.interval:
                self._state[record.name] = (last, held + 1, largest)
                return
            self._state[record.name] = (now, 0, None)
        if held:
            record = logging.makeLogRecord(record.__dict__)
            record.msg = (f"{record.getMessage()} ({held} more such lines held back in the "
                          f"last {self.interval:g} s" + (f", largest {largest}" if largest
                                                        is not None else "") + ")")
            record.args = None
        super().emit(record)
