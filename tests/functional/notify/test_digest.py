"""The daily digest: ``digest`` notifications in one mail at ``taskdesk.mail.digest_hour``
(8 here) in each recipient's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from taskdesk.domain import preferences
from taskdesk.notify.mail import digest_cut, send_digests, send_mail
from taskdesk.queue import JobContext
from tests.support.factories import Factory
from tests.support.mail import MailSink, parts


@pytest.fixture
def world(factory: Factory, dbsession: Session) -> dict[str, Any]:
    lin = factory.user("lin", display_name="Lin Feng")
    # Shanghai is UTC+8 (08:00 there is 00:00 UTC); New York UTC-5 in December (08:00 there
    # is 13:00 UTC).
    mei = factory.user("mei", display_name="Mei", locale="zh_CN", time_zone="Asia/Shanghai")
    ned = factory.user("ned", display_name="Ned", time_zone="America/New_York")
    project = factory.project(lin, slug="alpha", name="Alpha",
                              members={mei: "member", ned: "member"})
    task = factory.task(project, lin, title="Fix the printer")
    other = factory.task(project, lin, title="Order paper")
    for user in (mei, ned):
        preferences.set_channels(dbsession, user.id, {"watching": "digest"})
    return {"lin": lin, "mei": mei, "ned": ned, "task": task, "other": other}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def watch(factory: Factory, world: dict[str, Any], user_key: str, when: datetime,
          task_key: str = "task") -> None:
    factory.notification(world[user_key], kind="task.updated", reason="watching",
                         task=world[task_key],
                         actor=world["lin"], created_at=when,
                         data={"changes": {"priority": ["normal", "high"]}})


def test_digest_goes_out_at_the_hour_in_each_recipients_zone(
    world: dict[str, Any], factory: Factory, jobs: JobContext, sink: MailSink,
) -> None:
    for user in ("mei", "ned"):
        watch(factory, world, user, at(2, 20))
        watch(factory, world, user, at(2, 21), task_key="other")

    # 07:45 in Shanghai: not yet. The immediate mail job leaves digests alone.
    assert send_digests(jobs, at(2, 23, 45)) == 0
    assert send_mail(jobs, at(2, 23, 45)) == 0
    # 08:00 in Shanghai (00:00 UTC): Mei's digest; New York is at 19:00 the day before.
    assert send_digests(jobs, at(3, 0)) == 1
    assert [r.recipients for r in sink.received] == [["mei@example.com"]]
    message = sink.received[0].message
    assert message["Subject"] == (
        "Taskdesk 每日摘要（2026年12月3日）：[Alpha] #1 Fix the printer，另有 1 项")  # noqa: RUF001
    text = parts(message)["text/plain"]
    assert "每日摘要：2 条通知。" in text  # noqa: RUF001
    assert "#2 Order paper" in text
    # 20:00 UTC was 04:00 in Shanghai.
    assert "2026年12月3日 04:00" in text
    # Later runs the same day send nothing more.
    assert send_digests(jobs, at(3, 0, 15)) == 0
    # 08:00 in New York (13:00 UTC): Ned's.
    assert send_digests(jobs, at(3, 12, 45)) == 0
    assert send_digests(jobs, at(3, 13)) == 1
    assert sink.received[1].recipients == ["ned@example.com"]
    assert "Taskdesk digest for Dec 3, 2026" in sink.received[1].message["Subject"]


def test_what_arrives_after_the_hour_waits_for_the_next_day(
    world: dict[str, Any], factory: Factory, jobs: JobContext, sink: MailSink,
) -> None:
    watch(factory, world, "mei", at(2, 20))
    watch(factory, world, "mei", at(3, 0, 5), task_key="other")  # 08:05 in Shanghai
    assert send_digests(jobs, at(3, 0, 15)) == 1
    assert "Order paper" not in parts(sink.received[0].message)["text/plain"]
    assert send_digests(jobs, at(3, 23, 45)) == 0
    assert send_digests(jobs, at(4, 0)) == 1
    assert "Order paper" in parts(sink.received[1].message)["text/plain"]


def test_a_worker_down_at_the_hour_catches_up_later_that_day(
    world: dict[str, Any], factory: Factory, jobs: JobContext, sink: MailSink,
) -> None:
    watch(factory, world, "mei", at(2, 20))
    assert send_digests(jobs, at(3, 5, 30)) == 1  # 13:30 in Shanghai


@pytest.mark.parametrize(("now", "zone", "cut"), [
    (at(3, 0), "Asia/Shanghai", at(3, 0)),
    (at(2, 23, 59), "Asia/Shanghai", at(2, 0)),
    (at(3, 2, 30), "Asia/Kolkata", at(3, 2, 30)),     # UTC+05:30
    (at(3, 12, 59), "America/New_York", at(2, 13)),
    (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), "America/New_York",
     datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),         # the day clocks go forward: EDT
])
def test_digest_cut_is_the_last_digest_hour_in_the_zone(now: datetime, zone: str,
                                                        cut: datetime) -> None:
    assert digest_cut(now, ZoneInfo(zone), 8) == cut
    assert digest_cut(now, ZoneInfo(zone), 8) <= now < digest_cut(now, ZoneInfo(zone), 8) + (
        timedelta(days=1, hours=1))
