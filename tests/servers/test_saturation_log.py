"""production.ini's logging: a saturated Waitress shows once per interval, not per request."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.support.servers import PASSWORD, Client, make_site

pytestmark = pytest.mark.slow


def test_task_queue_warnings_are_throttled(tmp_path: Path) -> None:
    """One thread, held by a sign-in waiting for the database; 20 more requests queue
    behind it. Waitress warns "Task queue depth is N" for each; the log shows one line."""
    site = make_site(tmp_path, {"taskdesk.sqlite.busy_timeout": "20000"}, {"threads": "1"})
    with site.server("waitress") as server:
        client = Client(site.port)
        client.get("/login")
        lock = sqlite3.connect(site.database, isolation_level=None, timeout=10)
        waiting: list[threading.Thread] = []
        try:
            lock.execute("BEGIN IMMEDIATE")
            waiting.append(threading.Thread(target=lambda: client.post_form(
                "/login", {"username": "alice", "password": PASSWORD}), daemon=True))
            waiting[0].start()
            time.sleep(1.0)
            for _ in range(20):
                waiting.append(threading.Thread(
                    target=lambda: Client(site.port).get("/healthz"), daemon=True))
                waiting[-1].start()
            time.sleep(1.0)
        finally:
            lock.execute("COMMIT")
            lock.close()
        for thread in waiting:
            thread.join(20)
        log = server.output()
    assert log.count("path=/healthz status=200") >= 21  # all served (1 from start-up)
    warnings = [line for line in log.splitlines() if "Task queue depth is" in line]
    assert len(warnings) == 1, warnings
    assert "[waitress.queue]" in warnings[0]
