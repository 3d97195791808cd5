"""The one overdue rule (taskdesk.domain.tasks.is_overdue)."""

from __future__ import annotations

from datetime import date

import pytest

from taskdesk.domain.tasks import is_overdue
from taskdesk.settings import Status, Workflow

TODAY = date(2026, 12, 3)


@pytest.fixture
def workflow() -> Workflow:
    return Workflow(statuses=(Status("open", "open"), Status("doing", "active"),
                              Status("done", "done"), Status("dropped", "cancelled")),
                    priorities=("normal",), default_priority="normal")


@pytest.mark.parametrize(("status", "due", "expected"), [
    ("open", date(2026, 12, 2), True),
    ("doing", date(2026, 11, 1), True),
    ("open", TODAY, False),  # due today is not late yet
    ("open", date(2026, 12, 4), False),
    ("open", None, False),
    ("done", date(2026, 12, 2), False),  # completed tasks are never overdue
    ("dropped", date(2026, 12, 2), False),  # nor cancelled ones
    ("renamed-in-the-ini", date(2026, 12, 2), True),
])
def test_overdue(workflow: Workflow, status: str, due: date | None, expected: bool) -> None:
    assert is_overdue(workflow, status, due, TODAY) is expected
