"""Two people edit one task at once in real browsers: the later save is merged, and the
field both changed is shown side by side (English, Chinese, and on a 390 px phone).

Screenshots: tests/browser/artifacts/conflict-NN-step.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Site, Steps, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

DESCRIPTION = ("Announce the launch on the blog and in the newsletter.\n\n"
               "- who: marketing\n- when: the Monday after launch\n\n"
               "在博客和新闻通讯中宣布发布。")


def _errors(page: Any) -> list[str]:
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    page.on("console", lambda message: found.append(f"console: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None)
    return found


def _language(page: Any, name: str) -> None:
    """Switch the signed-in user's language with the header's switch (stored in the profile)."""
    page.locator(f'.lang-switch button[lang="{name}"]').click()
    expect(page.locator("html")).to_have_attribute("lang", name)


def _conflict(mine: Any, theirs: Any, base_url: str, change_theirs: dict[str, str],
              change_mine: dict[str, str]) -> None:
    """Open the edit form in ``mine``, save ``change_theirs`` in ``theirs``, then save
    ``change_mine`` in the now stale form of ``mine``."""
    mine.goto(f"{base_url}/edit")
    theirs.goto(f"{base_url}/edit")
    for page, changes in ((theirs, change_theirs), (mine, change_mine)):
        for name, value in changes.items():
            field = page.locator(f'[name="{name}"]')
            if name in ("status", "priority"):
                field.select_option(value)
            else:
                field.fill(value)
        page.locator('form.form button[type="submit"]').click()


def test_edit_conflict(page: Any, chromium: Any, live_server: Site, artifacts: Path) -> None:
    steps = Steps(page, artifacts, "conflict")
    errors = _errors(page)
    sign_in(page, live_server, live_server.username)
    _language(page, "en")
    page.goto(f"{live_server.url}/projects/new")
    page.get_by_role("textbox", name="Name", exact=True).fill("Launch plan")
    page.get_by_label("URL name").fill("launch")
    page.get_by_label("Visibility").select_option("internal")
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("link", name="New task").click()
    page.get_by_label("Title").fill("Write the launch announcement")
    page.get_by_label("Description").fill(DESCRIPTION)
    page.get_by_role("button", name="Create task").click()
    expect(page.locator(".flash--success")).to_have_text("Task #1 created.")
    task_url = re.sub(r"/$", "", page.url)

    other_context = chromium.new_context(viewport={"width": 1280, "height": 860},
                                         locale="en-US")
    other = other_context.new_page()
    try:
        sign_in(other, live_server, live_server.admin)
        _language(other, "en")
        _conflict(page, other, task_url, change_theirs={
            "title": "Launch announcement: final wording",
            "description": DESCRIPTION + "\n\nRosa: also post it on the intranet, with the "
                           "screenshots from the release notes attached.",
            "status": "in_progress",
        }, change_mine={
            "title": "Launch announcement, Ada's draft",
            "priority": "high",
        })
        expect(page.get_by_role("heading", level=2)).to_have_text(
            "Someone else changed this task while you were editing it.")
        title = page.locator(".conflict-field", has_text="Title")
        expect(title).to_contain_text("Changed by Rosa Admin")
        expect(title.get_by_role("radio", name=re.compile("^Keep the current value"))
               ).to_be_checked()
        # Only the title is a conflict; the status Rosa set is already in the form.
        expect(page.locator(".conflict-field")).to_have_count(1)
        expect(page.get_by_label("Status")).to_have_value("in_progress")
        expect(page.get_by_label("Priority")).to_have_value("high")
        steps.shot("title-en")
        page.set_viewport_size({"width": 390, "height": 844})
        steps.shot("title-en-phone")
        page.set_viewport_size({"width": 1280, "height": 860})
        title.get_by_role("radio", name=re.compile("^Use my value")).check()
        page.get_by_role("button", name="Save task").click()
        expect(page.locator(".flash--success")).to_have_text("Task #1 saved.")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Ada's draft")
        steps.shot("resolved-en")

        # The description, both changed: both texts in full, in Chinese.
        _language(page, "zh-CN")
        _conflict(page, other, task_url, change_theirs={
            "description": "Rosa 的版本\n\n" + DESCRIPTION + "\n\n" + "很长的一段说明 " * 12,
        }, change_mine={
            "description": "Ada 的版本 先在内网发布 再发新闻通讯\n\n" + DESCRIPTION,
            "title": "发布公告 Ada 草稿",
        })
        expect(page.get_by_role("heading", level=2)).to_contain_text("其他人修改了此任务")
        expect(page.locator(".conflict-field")).to_have_count(1)
        expect(page.locator(".conflict-field")).to_contain_text("由 Rosa Admin 修改")
        steps.shot("description-zh")
        page.set_viewport_size({"width": 390, "height": 844})
        steps.shot("description-zh-phone")
        page.set_viewport_size({"width": 1280, "height": 860})
        page.locator('form.form button[type="submit"]').click()
        expect(page.locator(".flash--success")).to_have_text("任务 #1 已保存。")
        _language(page, "en")
    finally:
        other_context.close()
    assert errors == []
