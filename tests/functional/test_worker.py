"""The worker's Huey set-up in-process: a failing job is one log line, not a traceback."""

from __future__ import annotations

import logging

import pytest
from huey import MemoryHuey

from taskdesk.worker import log_failures_in_one_line


def test_a_failing_job_is_logged_as_one_line(caplog: pytest.LogCaptureFixture) -> None:
    huey = MemoryHuey("one-line-test", utc=True)

    @huey.task(name="mail.send", retries=2)
    def send() -> None:
        raise ConnectionRefusedError("[Errno 111] Connection refused\nsecond line")

    log_failures_in_one_line(huey)
    send()
    with caplog.at_level(logging.INFO):
        huey.execute(huey.dequeue())
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    message = failures[0].getMessage()
    assert failures[0].name == "taskdesk.worker"
    assert "\n" not in message
    assert message.startswith("job ")
    assert "mail.send failed" in message
    assert "ConnectionRefusedError: [Errno 111] Connection refused; retrying, 2 retries left" \
        in message
    assert failures[0].exc_info is None
