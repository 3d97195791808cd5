"""taskdesk.logs.ThrottledStreamHandler: a noisy logger shows once per interval."""

from __future__ import annotations

import io
import logging
import time

from taskdesk.logs import ThrottledStreamHandler


def make_logger(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"tests.logs.{name}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_a_throttled_logger_writes_once_per_interval_with_a_count() -> None:
    stream = io.StringIO()
    handler = ThrottledStreamHandler(stream, 0.3, ["tests.logs.queue"])
    queue = make_logger("queue", handler)
    other = make_logger("other", handler)
    for depth in range(1, 101):
        queue.warning("Task queue depth is %d", depth)
        other.warning("line %d", depth)
    time.sleep(0.35)
    queue.warning("Task queue depth is %d", 3)
    lines = stream.getvalue().splitlines()
    throttled = [line for line in lines if line.startswith("Task queue")]
    assert throttled == [
        "Task queue depth is 1",
        "Task queue depth is 3 (99 more such lines held back in the last 0.3 s, largest 100)",
    ]
    assert len(lines) - len(throttled) == 100  # other loggers pass unchanged
