"""Sub-tasks and checklists in a real browser: a task with a checklist ticked in place with
one click (htmx), sub-tasks added from its page, the list and board showing and hiding them
(English, Chinese, and on a 390 px phone).

Screenshots: tests/browser/artifacts/subtasks-NN-step.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Site, Steps, choose_language, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

CHECKLIST = ("Everything the 2.0 release needs.\n\n"
             "- [x] Freeze the API\n- [ ] Write the release notes\n- [ ] 更新中文文档\n"
             "- [ ] Push the tag")


def test_subtasks_and_checklist(page: Any, live_server: Site, artifacts: Path,
                                problems: list[str]) -> None:
    steps = Steps(page, artifacts, "subtasks")
    sign_in(page, live_server, live_server.username)
    choose_language(page, "en")
    page.goto(f"{live_server.url}/projects/new")
    page.get_by_role("textbox", name="Name", exact=True).fill("Release 2.0")
    page.get_by_label("URL name").fill("release-two")
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("link", name="New task").click()
    page.get_by_label("Title").fill("Ship release 2.0")
    page.get_by_label("Description").fill(CHECKLIST)
    page.get_by_role("button", name="Create task").click()
    expect(page.locator(".flash--success")).to_have_text("Task #1 created.")
    task_url = re.sub(r"/$", "", page.url)

    # One click ticks an item: the page updates in place with the new state and version.
    expect(page.locator(".checklist-progress")).to_have_text("Checklist: 1 of 4 done")
    page.get_by_role("checkbox").nth(1).check()
    expect(page.locator(".flash--success")).to_have_text("Checklist of #1 saved.")
    expect(page.locator(".checklist-progress")).to_have_text("Checklist: 2 of 4 done")
    expect(page.get_by_role("checkbox").nth(1)).to_be_checked()
    # The other forms carry the new version: a status change right after still works.
    page.get_by_label("Status", exact=True).select_option("in_progress")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator(".flash--success")).to_contain_text("#1 moved to")

    for title in ("Write the release notes", "Translate the docs", "Announce it"):
        page.get_by_placeholder("Title of the new sub-task").fill(title)
        page.get_by_role("button", name="Add sub-task").click()
        expect(page.locator(".flash--success")).to_contain_text("added.")
    # The form's parent field offers the project's top-level tasks.
    page.goto(f"{live_server.url}/projects/release-two/tasks/4/edit")
    expect(page.get_by_label("Parent task")).to_have_value("1")
    expect(page.locator("#parent-choices option")).to_have_count(1)
    steps.shot("form-en")
    page.goto(f"{task_url}/../2")
    page.get_by_label("Status", exact=True).select_option("done")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator(".parent-line")).to_have_text("Sub-task of #1 Ship release 2.0")
    page.goto(task_url)
    expect(page.locator("#subtasks-heading")).to_have_text("Sub-tasks 1 of 3 done")
    steps.shot("task-en")
    page.set_viewport_size({"width": 390, "height": 844})
    steps.shot("task-en-phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    page.goto(f"{live_server.url}/projects/release-two/?state=all")
    expect(page.locator(".parent-ref").first).to_contain_text("#1 Ship release 2.0")
    steps.shot("list-en")
    page.get_by_label("Sub-tasks").select_option("hide")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"subtasks=hide"))
    expect(page.locator("tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/projects/release-two/board")
    expect(page.locator(".board-card .checklist-count")).to_have_text("☑ 2/4")
    steps.shot("board-en")

    choose_language(page, "zh_CN")
    page.goto(task_url)
    expect(page.locator("#subtasks-heading")).to_have_text("子任务 已完成 1 / 3")
    steps.shot("task-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    steps.shot("task-zh-phone")
    page.goto(f"{live_server.url}/projects/release-two/board")
    steps.shot("board-zh-phone")
    page.set_viewport_size({"width": 1280, "height": 860})
    choose_language(page, "en")
    assert problems == []
