"""E-mail for notifications on the ``email`` channel, delivered to a real SMTP server.

The notifications are made with the factory (the event consumer that writes them in
production is tested with the pipeline); the job functions run with an explicit ``now``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain import preferences, projects
from taskdesk.domain.comments import add_comment
from taskdesk.models import Notification, Project, Task, User
from taskdesk.notify.mail import send_mail
from taskdesk.queue import JobContext
from tests.functional.notify.conftest import BASE_URL
from tests.support.factories import Factory
from tests.support.mail import MailSink, parts

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(minutes=5)


@pytest.fixture
def world(factory: Factory, settings: Any) -> dict[str, Any]:
    lin = factory.user("lin", display_name="Lin Feng")
    mei = factory.user("mei", display_name="Mei Chen")
    project = factory.project(lin, slug="alpha", name="Alpha", members={mei: "member"})
    task = factory.task(project, lin, title="Fix the printer")
    return {"lin": lin, "mei": mei, "project": project, "task": task}


def unmailed(dbsession: Session, user: User) -> list[int]:
    dbsession.expire_all()
    return list(dbsession.scalars(select(Notification.id).where(
        Notification.user_id == user.id, Notification.mailed_at.is_(None))))


def updated(factory: Factory, user: User, task: Task, actor: User, *, reason: str = "assigned",
            at: datetime = EARLIER, changes: dict[str, Any] | None = None) -> Notification:
    return factory.notification(user, kind="task.updated", reason=reason, task=task, actor=actor,
                                created_at=at, data={"changes": changes or {
                                    "status": ["open", "in_progress"]}})


def test_ten_quick_changes_make_one_mail_with_html_and_text(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink,
) -> None:
    mei, lin, task = world["mei"], world["lin"], world["task"]
    for second in range(10):
        updated(factory, mei, task, lin, at=EARLIER + timedelta(seconds=second))

    assert send_mail(jobs, NOW) == 1

    assert len(sink.received) == 1
    arrived = sink.received[0]
    assert arrived.recipients == ["mei@example.com"]
    assert arrived.sender == "tasks@example.com"
    message = arrived.message
    assert message["Subject"] == "[Alpha] #1 Fix the printer"
    assert message["To"] == "Mei Chen <mei@example.com>"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)["text/plain"], parts(message)["text/html"]
    assert text.count("Lin Feng changed this task.") == 10
    assert html.count("Lin Feng changed this task.") == 10
    assert f"{BASE_URL}/projects/alpha/tasks/1/" in text
    assert f'href="{BASE_URL}/projects/alpha/tasks/1/"' in html
    assert "status: open → in_progress" in text
    assert unmailed(dbsession, mei) == []
    # Nothing is left to send: the next run sends nothing.
    assert send_mail(jobs, NOW + timedelta(minutes=1)) == 0
    assert len(sink.received) == 1


def test_a_mail_waits_for_the_batch_window(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink,
) -> None:
    updated(factory, world["mei"], world["task"], world["lin"], at=NOW - timedelta(seconds=30))
    assert send_mail(jobs, NOW) == 0
    assert sink.received == []
    # Another change comes in; once the first is older than the window both go together.
    updated(factory, world["mei"], world["task"], world["lin"], at=NOW + timedelta(seconds=60))
    assert send_mail(jobs, NOW + timedelta(seconds=95)) == 1
    assert parts(sink.received[0].message)["text/plain"].count("changed this task") == 2


def test_headers_one_click_unsubscribe_and_message_id(
    world: dict[str, Any], factory: Factory, jobs: JobContext, sink: MailSink,
) -> None:
    mei = world["mei"]
    updated(factory, mei, world["task"], world["lin"])
    factory.notification(mei, kind="task.updated", reason="mentioned", task=world["task"],
                         actor=world["lin"], created_at=EARLIER, data={"changes": {}})
    send_mail(jobs, NOW)
    message = sink.received[0].message
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(rf"<{BASE_URL}/unsubscribe/{mei.id}-assigned\.mentioned-[\w-]{{22}}>",
                        unsubscribe), unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<taskdesk\.\d+\.\d+-\d+\.2@example\.com>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "en"
    html = parts(message)["text/html"]
    assert "Lin Feng mentioned you in the description." in html
    # One link per reason at the foot, each turning only that one off.
    assert f"{BASE_URL}/unsubscribe/{mei.id}-assigned-" in html
    assert f"{BASE_URL}/unsubscribe/{mei.id}-mentioned-" in html
    assert f"{BASE_URL}/me/#notifications" in html


def test_comment_text_is_shown_escaped_with_a_link_to_the_comment(
    world: dict[str, Any], factory: Factory, dbsession: Session, settings: Any,
    jobs: JobContext, sink: MailSink,
) -> None:
    body = "Try <script>alert(1)</script> & restart\nthen @mei checks"
    comment = add_comment(dbsession, world["task"], world["lin"], {"body": body})
    dbsession.flush()
    factory.notification(world["mei"], kind="comment.added", reason="mentioned", task=world["task"],
                         actor=world["lin"], comment=comment, created_at=EARLIER)
    send_mail(jobs, NOW)
    text, html = parts(sink.received[0].message).values()
    assert "<script>" not in html
    assert "Try &lt;script&gt;alert(1)&lt;/script&gt; &amp; restart" in html
    assert "    > Try <script>alert(1)</script> & restart\n    > then @mei checks" in text
    assert f"{BASE_URL}/projects/alpha/tasks/1/#comment-{comment.id}" in text
    assert "Lin Feng mentioned you in a comment:" in text


def test_chinese_reader_gets_chinese_in_their_time_zone(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink,
) -> None:
    mei = world["mei"]
    mei.locale, mei.time_zone = "zh_CN", "Asia/Shanghai"
    dbsession.flush()
    factory.notification(mei, kind="task.due_today", reason="due", task=world["task"],
                         created_at=datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
                         data={"due_date": "2026-12-03"})
    updated(factory, mei, world["task"], world["lin"], at=datetime(2026, 12, 3, 9, 31, tzinfo=UTC))
    send_mail(jobs, NOW + timedelta(minutes=5))
    message = sink.received[0].message
    assert message["Content-Language"] == "zh-CN"
    text, html = parts(message).values()
    assert "今天（2026年12月3日）到期。" in text  # noqa: RUF001
    assert "Lin Feng 修改了这个任务。" in html
    # 09:30 UTC is 17:30 in Shanghai.
    assert "17:30" in text
    assert "09:30" not in text
    assert "Asia/Shanghai" in text
    assert 'lang="zh-CN"' in html


def test_people_are_not_mailed_what_they_may_not_see_or_did_themselves(
    world: dict[str, Any], factory: Factory, dbsession: Session, settings: Any,
    jobs: JobContext, sink: MailSink,
) -> None:
    mei, lin = world["mei"], world["lin"]
    updated(factory, mei, world["task"], lin)
    factory.notification(mei, kind="task.updated", reason="watching",
                         task=world["task"], actor=mei,
                         created_at=EARLIER)
    preferences.set_channels(dbsession, mei.id, {"watching": "email"})
    own = factory.notification(mei, kind="task.updated", reason="watching",
                               task=world["task"], actor=mei,
                               created_at=EARLIER)
    # Mei leaves the private project before the mail goes out.
    assert projects.remove_member(dbsession, world["project"], mei, lin)
    dbsession.flush()

    assert send_mail(jobs, NOW) == 0
    assert sink.received == []
    assert unmailed(dbsession, mei) == []
    assert own.id not in unmailed(dbsession, mei)


def test_own_action_is_never_mailed_but_others_are(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink,
) -> None:
    mei = world["mei"]
    factory.notification(mei, kind="task.updated", reason="assigned", task=world["task"], actor=mei,
                         created_at=EARLIER, data={"changes": {"title": ["a", "b"]}})
    updated(factory, mei, world["task"], world["lin"])
    assert send_mail(jobs, NOW) == 1
    text = parts(sink.received[0].message)["text/plain"]
    assert text.count("changed this task") == 1
    assert "Mei Chen" not in text.split("--")[0].replace("Mei Chen <", "")


def test_inbox_and_off_channels_get_no_mail(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink,
) -> None:
    mei = world["mei"]
    preferences.set_channels(dbsession, mei.id, {"assigned": "inbox", "mentioned": "off"})
    updated(factory, mei, world["task"], world["lin"])
    updated(factory, mei, world["task"], world["lin"], reason="mentioned")
    updated(factory, mei, world["task"], world["lin"], reason="watching")  # inbox by default
    assert send_mail(jobs, NOW) == 0
    assert sink.received == []
    assert len(unmailed(dbsession, mei)) == 3


def test_switching_to_email_does_not_mail_the_past(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink,
) -> None:
    mei = world["mei"]
    for _ in range(3):
        updated(factory, mei, world["task"], world["lin"], reason="watching")
    preferences.set_channels(dbsession, mei.id, {"watching": "email"})
    assert send_mail(jobs, NOW) == 0
    updated(factory, mei, world["task"], world["lin"], reason="watching")
    assert send_mail(jobs, NOW) == 1
    assert parts(sink.received[0].message)["text/plain"].count("changed this task") == 1


def test_server_down_marks_nothing_and_backs_off(
    world: dict[str, Any], factory: Factory, dbsession: Session, down_jobs: JobContext,
) -> None:
    mei = world["mei"]
    updated(factory, mei, world["task"], world["lin"])
    with pytest.raises(ConnectionRefusedError):
        send_mail(down_jobs, NOW)
    assert len(unmailed(dbsession, mei)) == 1
    # The next run, a minute later, waits; the one after two minutes tries again.
    assert send_mail(down_jobs, NOW + timedelta(seconds=50)) == 0
    with pytest.raises(ConnectionRefusedError):
        send_mail(down_jobs, NOW + timedelta(seconds=61))
    assert send_mail(down_jobs, NOW + timedelta(seconds=61 + 110)) == 0
    assert len(unmailed(dbsession, mei)) == 1


def test_a_deferred_recipient_is_retried_and_a_refused_one_is_given_up(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink, caplog: pytest.LogCaptureFixture,
) -> None:
    mei = world["mei"]
    updated(factory, mei, world["task"], world["lin"])
    sink.refuse = "451 4.3.0 Try again later"
    with pytest.raises(Exception, match="451"):
        send_mail(jobs, NOW)
    assert len(unmailed(dbsession, mei)) == 1

    sink.refuse = "550 5.1.1 No such user"
    assert send_mail(jobs, NOW + timedelta(minutes=2)) == 0
    assert unmailed(dbsession, mei) == []
    assert sink.received == []
    assert "refused the mail to user" in caplog.text
    assert "550" in caplog.text


def test_inactive_people_and_people_without_an_address_get_no_mail(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink,
) -> None:
    mei = world["mei"]
    mei.email = ""
    dbsession.flush()
    updated(factory, mei, world["task"], world["lin"])
    assert send_mail(jobs, NOW) == 0
    assert unmailed(dbsession, mei) == []
    assert sink.received == []


def test_mails_to_two_people_are_separate(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink,
) -> None:
    other = factory.user("ola", display_name="Ola")
    project: Project = world["project"]
    projects.set_member(dbsession, factory.settings, project, other, world["lin"],
                        {"role": "viewer"})
    updated(factory, world["mei"], world["task"], world["lin"])
    updated(factory, other, world["task"], world["lin"])
    assert send_mail(jobs, NOW) == 2
    assert sorted(r.recipients[0] for r in sink.received) == ["mei@example.com",
                                                              "ola@example.com"]


def test_an_address_we_cannot_send_to_does_not_hold_up_the_others(
    world: dict[str, Any], factory: Factory, dbsession: Session, jobs: JobContext,
    sink: MailSink, caplog: pytest.LogCaptureFixture,
) -> None:
    # Mei's address has a non-ASCII local part, which would need SMTPUTF8 end to end.
    world["mei"].email = "méi@example.com"
    other = factory.user("ola", display_name="Ola")
    projects.set_member(dbsession, factory.settings, world["project"], other, world["lin"],
                        {"role": "viewer"})
    updated(factory, world["mei"], world["task"], world["lin"])
    updated(factory, other, world["task"], world["lin"])
    assert send_mail(jobs, NOW) == 1
    assert [r.recipients for r in sink.received] == [["ola@example.com"]]
    assert unmailed(dbsession, world["mei"]) == []
    assert "non-ASCII characters" in caplog.text
