"""The people picker in a real browser: an admin creates two people with Chinese names; an
employee adds one to a project and assigns a task to her by typing part of her name and
choosing with the keyboard; the same list in Chinese and on a phone-sized screen.

Screenshots: tests/browser/artifacts/people-NN-*.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Site, Steps, choose_language, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def sign_in_in_english(page: Any, site: Site, username: str) -> None:
    """Sign in, then choose English (another flow may have left the user in Chinese)."""
    sign_in(page, site, username)
    choose_language(page, "en")


def create_user(page: Any, site: Site, username: str, display_name: str) -> None:
    page.goto(f"{site.url}/admin/users/new")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Initial password").fill(site.password)
    page.get_by_role("button", name="Create user").click()
    expect(page.locator(".flash--success")).to_have_text(f"User {username} was created.")


def choose_with_keyboard(page: Any, field: Any, name: str) -> None:
    """Arrow down through the open suggestions until ``name`` is active, then Enter."""
    listbox = page.get_by_role("listbox")
    for _ in range(listbox.get_by_role("option").count()):
        field.press("ArrowDown")
        active = field.get_attribute("aria-activedescendant")
        assert active, "no option became active"
        if name in page.locator(f"#{active}").inner_text():
            field.press("Enter")
            return
    raise AssertionError(f"no suggestion for {name}")


def test_people_picker(page: Any, problems: list[str], live_server: Site,
                       artifacts: Path) -> None:
    steps = Steps(page, artifacts, "people")
    flash = page.locator(".flash--success")
    sign_in_in_english(page, live_server, live_server.admin)
    create_user(page, live_server, "lina", "李娜")
    create_user(page, live_server, "lili", "李丽")
    page.context.clear_cookies()

    # The employee creates a private project and adds 李娜 by part of her name.
    sign_in_in_english(page, live_server, live_server.username)
    page.goto(f"{live_server.url}/projects/new")
    page.get_by_role("textbox", name="Name", exact=True).fill("Pilot 试点")
    page.get_by_label("URL name").fill("pilot")
    page.get_by_role("button", name="Create project").click()
    page.goto(f"{live_server.url}/projects/pilot/members/")
    field = page.get_by_role("combobox", name="User or group")
    field.press_sequentially("李")
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option")).to_have_count(2)  # 李娜 and 李丽: anyone active
    expect(field).to_have_attribute("aria-expanded", "true")
    steps.shot("member-suggestions")
    choose_with_keyboard(page, field, "李娜")
    expect(field).to_have_value("lina")
    expect(page.locator("#name-chosen")).to_have_text("Chosen: 李娜")
    page.get_by_role("button", name="Add member").click()
    expect(flash).to_have_text("李娜 added as Member.")

    # A new task, assigned by typing 娜 and choosing with the keyboard.
    page.goto(f"{live_server.url}/projects/pilot/tasks/new")
    page.get_by_label("Title").fill("Prepare the pilot 准备试点")
    field = page.get_by_role("combobox", name="Assignee")
    field.press_sequentially("娜")
    expect(listbox.get_by_role("option")).to_have_count(1)  # only who may be assigned here
    expect(listbox.get_by_role("option")).to_contain_text("李娜")
    expect(page.get_by_role("status").filter(has_text="suggestion")).to_have_text(
        "One suggestion. Use the up and down arrow keys to choose.")
    field.press("ArrowDown")
    expect(listbox.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant",
                                    listbox.get_by_role("option").first.get_attribute("id"))
    steps.shot("assignee-suggestions")
    field.press("Enter")  # chooses; does not submit the form
    expect(listbox).to_be_hidden()
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(field).to_have_value("lina")
    expect(page.locator("#assignee-chosen")).to_have_text("Chosen: 李娜")
    steps.shot("assignee-chosen")
    page.get_by_role("button", name="Create task").click()
    expect(flash).to_have_text("Task #1 created.")
    expect(page.locator(".task-meta")).to_contain_text("李娜")

    # In Chinese, on the task page's "Assign to": Escape closes the list.
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    field = page.get_by_role("combobox", name="分配给")
    expect(page.locator("#assignee-chosen")).to_have_text("已选择\uff1a李娜")
    field.fill("")
    field.press_sequentially("李")
    expect(listbox.get_by_role("option")).to_have_count(1)
    field.press("ArrowDown")
    steps.shot("assign-to-suggestions-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    field.scroll_into_view_if_needed()
    steps.shot("assign-to-suggestions-zh-phone")
    field.press("Escape")
    expect(listbox).to_be_hidden()
    expect(field).to_have_attribute("aria-expanded", "false")
    page.set_viewport_size({"width": 1280, "height": 860})

    # The list's filter suggests the assignees, by part of a name, and filters by the name.
    page.goto(f"{live_server.url}/projects/pilot/")
    field = page.get_by_role("combobox", name="负责人")
    field.press_sequentially("娜")
    expect(listbox.get_by_role("option")).to_have_count(1)
    steps.shot("filter-suggestions-zh")
    field.press("ArrowDown")
    field.press("Enter")
    expect(field).to_have_value("lina")
    page.get_by_role("button", name="应用").click()
    expect(page.locator("tbody tr")).to_have_count(1)

    assert problems == []
