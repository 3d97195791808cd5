"""Due-date reminders: ``task.due_soon`` the day before and ``task.due_today`` on the day,
counted in the assignee's time zone, raised once however often the job runs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain.events import DUE_SOON, DUE_TODAY
from taskdesk.models import Event
from taskdesk.notify.reminders import remind_due_tasks
from taskdesk.queue import JobContext
from tests.support.factories import Factory

DUE = date(2026, 12, 4)


@pytest.fixture
def world(factory: Factory) -> dict[str, Any]:
    lin = factory.user("lin")
    # Shanghai is UTC+8: its 4 December begins at 16:00 UTC on the 3rd.
    mei = factory.user("mei", time_zone="Asia/Shanghai")
    ned = factory.user("ned")  # the site's zone: UTC
    project = factory.project(lin, slug="alpha", members={mei: "member", ned: "member"})
    return {
        "lin": lin, "mei": mei, "ned": ned, "project": project,
        "mei_task": factory.task(project, lin, title="Mei's", assignee="mei", due_date=DUE),
        "ned_task": factory.task(project, lin, title="Ned's", assignee="ned", due_date=DUE),
        # No reminders: done, unassigned, no due date.
        "done": factory.task(project, lin, title="Done", assignee="mei", due_date=DUE,
                             status="done"),
        "nobody": factory.task(project, lin, title="Nobody's", due_date=DUE),
        "undated": factory.task(project, lin, title="Undated", assignee="mei"),
    }


def reminders(dbsession: Session) -> list[tuple[str, int | None, str | None, dict[str, Any]]]:
    dbsession.expire_all()
    return [(e.kind, e.task_id, e.dedupe_key, e.data) for e in dbsession.scalars(
        select(Event).where(Event.kind.in_((DUE_SOON, DUE_TODAY))).order_by(Event.id))]


def test_reminders_follow_the_assignees_day(
    world: dict[str, Any], dbsession: Session, jobs: JobContext,
) -> None:
    mei_task, ned_task = world["mei_task"].id, world["ned_task"].id
    # 2 December, 15:00 UTC: 23:00 in Shanghai, the 4th is two days off for everyone.
    assert remind_due_tasks(jobs, datetime(2026, 12, 2, 15, 0, tzinfo=UTC)) == 0
    # 16:30 UTC: it is the 3rd in Shanghai (due tomorrow for Mei), still the 2nd in UTC.
    assert remind_due_tasks(jobs, datetime(2026, 12, 2, 16, 30, tzinfo=UTC)) == 1
    assert reminders(dbsession) == [
        (DUE_SOON, mei_task, f"due_soon:{mei_task}:2026-12-04", {"due_date": "2026-12-04"})]
    # Ran again (the next hour, another worker): nothing new.
    assert remind_due_tasks(jobs, datetime(2026, 12, 2, 17, 30, tzinfo=UTC)) == 0
    # The 3rd in UTC: Ned's day before.
    assert remind_due_tasks(jobs, datetime(2026, 12, 3, 0, 5, tzinfo=UTC)) == 1
    # 16:05 UTC on the 3rd: the 4th has begun in Shanghai.
    assert remind_due_tasks(jobs, datetime(2026, 12, 3, 16, 5, tzinfo=UTC)) == 1
    assert remind_due_tasks(jobs, datetime(2026, 12, 4, 0, 5, tzinfo=UTC)) == 1
    assert remind_due_tasks(jobs, datetime(2026, 12, 4, 12, 0, tzinfo=UTC)) == 0
    assert [(kind, task) for kind, task, _key, _data in reminders(dbsession)] == [
        (DUE_SOON, mei_task), (DUE_SOON, ned_task), (DUE_TODAY, mei_task),
        (DUE_TODAY, ned_task)]
    # Past the day: nothing more.
    assert remind_due_tasks(jobs, datetime(2026, 12, 5, 12, 0, tzinfo=UTC)) == 0


def test_a_new_due_date_gets_its_own_reminder(
    world: dict[str, Any], dbsession: Session, jobs: JobContext,
) -> None:
    ned_task = world["ned_task"]
    assert remind_due_tasks(jobs, datetime(2026, 12, 3, 0, 5, tzinfo=UTC)) == 2
    ned_task.due_date = date(2026, 12, 5)
    dbsession.flush()
    # Mei's "due today", and Ned's "due soon" for the new date.
    assert remind_due_tasks(jobs, datetime(2026, 12, 4, 0, 5, tzinfo=UTC)) == 2
    keys = [key for _kind, task, key, _data in reminders(dbsession) if task == ned_task.id]
    assert keys == [f"due_soon:{ned_task.id}:2026-12-04", f"due_soon:{ned_task.id}:2026-12-05"]


def test_inactive_assignees_get_no_reminders(
    world: dict[str, Any], dbsession: Session, jobs: JobContext,
) -> None:
    world["ned"].is_active = False
    dbsession.flush()
    assert remind_due_tasks(jobs, datetime(2026, 12, 3, 0, 5, tzinfo=UTC)) == 1
    assert [task for _kind, task, _key, _data in reminders(dbsession)] == [
        world["mei_task"].id]
