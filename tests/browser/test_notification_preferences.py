"""Notification choices in the profile, in a real browser (English, Chinese, a phone), and a
notification mail's HTML as a mail program would show it.

Screenshots: tests/browser/artifacts/notifications-NN-<step>.png and mail-*.png.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from taskdesk import main
from taskdesk.domain.mailing import MailItem
from taskdesk.models import User
from taskdesk.notify.compose import Composer
from taskdesk.settings import settings_of
from tests.support.apps import app_settings
from tests.support.browser import Site, Steps, choose_language, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def test_notification_choices_in_english_and_chinese(page: Any, problems: list[str],
                                                     live_server: Site, artifacts: Path) -> None:
    steps = Steps(page, artifacts, "notifications")
    sign_in(page, live_server, live_server.username)
    choose_language(page, "en")
    page.goto(f"{live_server.url}/me/#notifications")
    section = page.locator("#notifications")
    expect(section.get_by_label("Tasks assigned to me")).to_have_value("email")
    expect(section.get_by_label("Changes to tasks and projects I watch")).to_have_value("inbox")
    try:
        section.get_by_label("Changes to tasks and projects I watch").select_option(
            label="Daily e-mail digest")
        section.get_by_label("Being added to a project").select_option(label="Off")
        section.get_by_role("button", name="Save notification choices").click()
        expect(page.locator(".flash--success")).to_have_text(
            "Your notification choices were saved.")
        expect(page.locator("#notifications").get_by_label(
            "Changes to tasks and projects I watch")).to_have_value("digest")
        page.locator("#notifications").screenshot(
            path=str(artifacts / "notifications-section-english.png"))
        steps.shot("english")
        page.set_viewport_size({"width": 390, "height": 844})
        page.locator("#notifications").scroll_into_view_if_needed()
        page.locator("#notifications").screenshot(
            path=str(artifacts / "notifications-section-phone.png"))
        steps.shot("phone")
        page.set_viewport_size({"width": 1280, "height": 860})

        page.locator(".lang-switch button[value='zh_CN']").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        section = page.locator("#notifications")
        expect(section.locator("h2")).to_have_text("通知")
        expect(section.get_by_label("我关注的任务和项目的变化")).to_have_value("digest")
        section.screenshot(path=str(artifacts / "notifications-section-chinese.png"))
        steps.shot("chinese")
    finally:
        choose_language(page, "en")
    assert problems == []


def mail_html(locale: str, zone: str) -> str:
    """A mail's HTML from the real templates and catalogs (nothing is read from a database)."""
    app = main({}, **app_settings("sqlite://", **{
        "taskdesk.includes": "taskdesk.web taskdesk.notify",
        "taskdesk.mail.host": "127.0.0.1", "taskdesk.mail.security": "none",
        "taskdesk.mail.from": "Taskdesk <tasks@example.com>",
        "taskdesk.public_url": "https://tasks.example.com"}))
    composer = Composer(app.registry, settings_of(app.registry))
    reader = User(id=7, username="mei", display_name="Mei Chen", email="mei@example.com",
                  locale=locale, time_zone=zone)

    def item(number: int, kind: str, reason: str, minute: int, **extra: Any) -> MailItem:
        values: dict[str, Any] = {
            "id": number * 10 + minute, "kind": kind, "reason": reason,
            "created_at": datetime(2026, 12, 3, 9, minute, tzinfo=UTC), "data": {},
            "visible": True, "project_slug": "office", "project_name": "Office 办公室",
            "task_number": number, "task_title": "Fix the printer on floor 3",
            "due_date": None, "comment_id": None, "comment_body": None,
            "actor_name": "Lin Feng", **extra}
        return MailItem(**values)

    items = [
        item(12, "task.updated", "assigned", 1,
             data={"changes": {"assignee": ["", "mei"], "priority": ["normal", "urgent"]}}),
        item(12, "comment.added", "mentioned", 3, comment_id=5,
             comment_body="@mei the toner is <b>empty</b> again.\nCan you order two?"),
        item(12, "task.updated", "assigned", 4,
             data={"changes": {"description": ["x" * 100, "y" * 120]}}),
        item(31, "task.due_today", "due", 6, task_title="Book the meeting room",
             actor_name=None, data={"due_date": "2026-12-03"}, due_date=date(2026, 12, 3)),
    ]
    message = composer.compose(reader, items, digest=False,
                               now=datetime(2026, 12, 3, 9, 10, tzinfo=UTC))
    html = message.get_body(("html",))
    assert html is not None
    return str(html.get_content())


@pytest.mark.parametrize(("locale", "zone"), [("en", "Europe/Berlin"),
                                              ("zh_CN", "Asia/Shanghai")])
def test_a_mail_as_a_mail_program_shows_it(page: Any, artifacts: Path, locale: str,
                                           zone: str) -> None:
    page.set_content(mail_html(locale, zone))
    expect(page.locator("h2").first).to_have_text("#12 Fix the printer on floor 3")
    expect(page.locator("blockquote")).to_contain_text("<b>empty</b>")
    page.screenshot(path=str(artifacts / f"mail-{locale}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / f"mail-{locale}-phone.png"), full_page=True)
