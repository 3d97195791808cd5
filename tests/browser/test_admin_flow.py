"""A site admin in a real browser: create a user (after a refused attempt), deactivate
them, create a group and add a member, search users, then the same pages in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Site, Steps, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def test_admin_flow(page: Any, problems: list[str], live_server: Site, artifacts: Path) -> None:
    steps = Steps(page, artifacts, "admin")
    flash = page.locator(".flash--success")
    sign_in(page, live_server, live_server.admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    steps.shot("overview")

    # A refused form shows each error at its field and keeps what was typed.
    page.get_by_role("link", name="New user").first.click()
    page.get_by_label("Username").fill("Grace Hopper")
    page.get_by_label("Display name").fill("Grace Hopper 葛丽丝")
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#username-error")).to_have_text(
        "Use 2-63 lower-case letters, digits, dots, dashes.")
    expect(page.locator("#password-error")).to_have_text("Must be at least 10 characters.")
    expect(page.get_by_label("Display name")).to_have_value("Grace Hopper 葛丽丝")
    steps.shot("user-refused")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Initial password").fill("a sound password")
    page.get_by_role("button", name="Create user").click()
    expect(flash).to_have_text("User grace was created.")
    steps.shot("user-created")

    # Destructive: a dialog asks first, the safe choice focused.
    page.get_by_role("button", name="Deactivate").click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text("Deactivate Grace Hopper 葛丽丝?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    steps.shot("deactivate-dialog")
    dialog.get_by_role("button", name="Deactivate").click()
    expect(flash).to_have_text("Grace Hopper 葛丽丝 was deactivated; their sessions have ended.")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    steps.shot("user-deactivated")

    # Groups.
    page.get_by_role("link", name="Groups").first.click()
    page.get_by_role("link", name="New group").click()
    page.get_by_role("textbox", name="Name", exact=True).fill("design")
    page.get_by_label("Description").fill("Designers 设计师")
    page.get_by_role("button", name="Create group").click()
    expect(flash).to_have_text("Group design was created.")
    person = page.get_by_role("combobox", name="Person")
    person.fill(live_server.username)
    person.press("Escape")  # no suggestion chosen: the typed username is sent as it is
    page.get_by_role("button", name="Add to group").click()
    expect(flash).to_have_text("Ada Lovelace was added to the group.")
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    steps.shot("group")

    # Search users.
    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_label("Search by username or name").fill("葛丽丝")
    page.locator("main").get_by_role("button", name="Search").click()
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    expect(page.get_by_role("status")).to_have_text("1 user matches “葛丽丝”.")
    steps.shot("users-search")

    # The same list in Chinese.
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("用户")
    expect(page.get_by_role("status")).to_have_text("有 1 个用户匹配“葛丽丝”。")
    steps.shot("users-in-chinese")
    page.get_by_role("link", name="grace").click()
    expect(page.get_by_role("button", name="重新启用")).to_be_visible()
    steps.shot("user-in-chinese")

    # The refused form answered 400, on purpose; nothing else failed.
    assert problems == [f"400 {live_server.url}/admin/users/new"]
