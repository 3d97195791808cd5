"""Saved views and bulk changes in a real browser: Ada selects a range of tasks with
shift-click (the count is announced), sets their status in one go and reads the summary;
then saves the list's filters as a shared view and finds it as a tab on the list and the
board. In English, Chinese and on a phone-sized screen.

Screenshots: tests/browser/artifacts/bulk-NN-*.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import create_task
from tests.support.browser import Site, Steps, choose_language, seeded_project, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

TITLES = ("Order the laptops", "Set up the accounts", "Write the welcome mail",
          "Book the training room", "Plan the first week", "Print the badges")


def _seed(site: Site) -> None:
    """Rosa's project "bulk-demo" (Ada a member) with six open tasks."""
    with seeded_project(site, "bulk-demo", "Onboarding") as seed:
        dbsession, settings, rosa, project = seed.dbsession, seed.settings, seed.admin, seed.project
        for number, title in enumerate(TITLES):
            create_task(dbsession, settings, project, rosa, {
                "title": title, "priority": "high" if number % 2 else "normal"},
                may=UNRESTRICTED)


def _box(page: Any, title: str) -> Any:
    return page.locator("tbody tr").filter(has_text=title).locator("input[name=task]")


def test_bulk_status_by_a_shift_click_range_and_a_saved_view(
        page: Any, problems: list[str], live_server: Site, artifacts: Path) -> None:
    _seed(live_server)
    steps = Steps(page, artifacts, "bulk")
    sign_in(page, live_server, live_server.username)
    choose_language(page, "en")
    page.set_viewport_size({"width": 1366, "height": 900})
    list_url = f"{live_server.url}/projects/bulk-demo/?sort=number"
    page.goto(list_url)
    count = page.locator("[data-bulk-count]")
    expect(count).to_have_text("No task selected.")
    expect(count).to_have_attribute("aria-live", "polite")
    # Click the first, shift-click the fourth: four tasks selected.
    _box(page, TITLES[0]).click()
    _box(page, TITLES[3]).click(modifiers=["Shift"])
    expect(count).to_have_text("4 selected.")
    expect(page.locator("tbody input[name=task]:checked")).to_have_count(4)
    expect(_box(page, TITLES[4])).not_to_be_checked()
    expect(page.locator("[data-bulk-bar]")).to_have_class("bulk-bar card is-active")
    page.locator("#bulk-status").select_option("done")
    steps.shot("selected")
    page.get_by_role("button", name="Update the selected tasks").click()
    summary = page.locator("#bulk-summary")
    expect(summary).to_contain_text("4 tasks changed.")
    expect(summary.locator("tbody tr")).to_have_count(4)
    expect(summary).to_contain_text("Status: Done")
    steps.shot("summary")

    # Save the open high-priority tasks as a shared view; its tab is on the list and board.
    page.goto(f"{live_server.url}/projects/bulk-demo/?priority=high")
    page.locator("details.save-view summary").click()
    page.get_by_label("Name of the view").fill("High priority")
    page.get_by_label("Share with the project").check()
    page.get_by_role("button", name="Save view").click()
    tab = page.locator("nav.saved-views a[data-view]")
    expect(tab).to_have_text("High priority")
    expect(tab).to_have_attribute("aria-current", "page")
    expect(page.locator("tbody tr")).to_have_count(1)  # #6; #2 and #4 are done now
    steps.shot("view-tab")
    page.goto(f"{live_server.url}/projects/bulk-demo/board")
    expect(page.locator("nav.saved-views a[data-view]")).to_have_text("High priority")
    steps.shot("board-tab")

    # Chinese, and a phone.
    choose_language(page, "zh_CN")
    page.goto(list_url)
    _box(page, TITLES[4]).click()
    expect(page.locator("[data-bulk-count]")).to_have_text("已选择 1 个。")
    steps.shot("list-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(list_url)
    _box(page, TITLES[4]).click()
    _box(page, TITLES[5]).click(modifiers=["Shift"])
    steps.shot("list-390-zh")
    page.locator("#bulk-priority").select_option("urgent")
    page.get_by_role("button", name="更新所选任务").click()
    expect(page.locator("#bulk-summary")).to_contain_text("已修改 2 个任务。")
    steps.shot("summary-390-zh")
    choose_language(page, "en")
    page.goto(list_url)
    steps.shot("list-390")
    assert not problems, problems
