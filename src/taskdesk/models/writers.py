"""SQLite's writers in one process take turns in arrival order instead of polling.

SQLite lets one transaction write at a time. A writer that finds the lock taken waits in
SQLite's busy handler, which sleeps and retries with growing pauses (up to 100 ms each): a
writer that arrives while the lock is briefly free takes it ahead of one that has slept for
half a second, and under a few concurrent writers the slowest requests wait many times the
typical one (issue 18 measured a create's p99 at 30-75x its p50 with four writers).

:class:`WriterQueue` puts this process's writers in line before they ask SQLite: each waits on
its own event, and the one finishing its transaction hands the turn directly to the next, so
no thread polls and none is overtaken. Writers in other processes (the worker, the CLI) still
meet at SQLite's lock, with its busy timeout as before.
"""

from __future__ import annotations

import threading
from collections import deque


class WriterQueue:
    """A first-come, first-served lock for the write transactions of one database.

    The holder is a DB-API connection: its transaction takes the turn when it begins and gives
    it up when it commits, rolls back or closes (:meth:`release` is a no-op for any other
    connection, so the pool's resetting rollbacks are harmless).
    """

    def __init__(self, timeout: float) -> None:
        #: How long a writer waits for its turn before giving up (the busy timeout).
        self.timeout = timeout
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._holder: object | None = None

    def acquire(self, connection: object) -> bool:
        """Wait for ``connection``'s turn; False when :attr:`timeout` passed first."""
        with self._mutex:
            if self._holder is None and not self._waiting:
                self._holder = connection
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        handed = turn.wait(self.timeout)
        with self._mutex:
            if not handed and not turn.is_set():
                self._waiting.remove(turn)
                return False
            # Handed over (perhaps just as the wait timed out): the turn is this writer's.
            self._holder = connection
            return True

    @property
    def waiting(self) -> int:
        """How many writers are waiting for their turn."""
        with self._mutex:
            return len(self._waiting)

    def release(self, connection: object) -> None:
        """End ``connection``'s turn, if it has it, and hand it to the longest waiting."""
        with self._mutex:
            if self._holder is not connection:
                return
            self._holder = None
            if self._waiting:
                # The turn passes directly: nobody arriving now can take it in between.
                self._holder = _HANDED_OVER
                self._waiting.popleft().set()


#: The holder between a hand-over and the next writer's waking up.
_HANDED_OVER = object()
