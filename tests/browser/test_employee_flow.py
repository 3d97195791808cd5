"""An employee's day in a real browser: sign in, create a project and a task, move the task on
the board by drag and drop, comment, switch to Chinese, manage the profile, sign out.

Each step saves a screenshot in tests/browser/artifacts/ (NN-step.png) to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Site, Steps

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def test_employee_flow(page: Any, problems: list[str], live_server: Site,
                       artifacts: Path) -> None:
    steps = Steps(page, artifacts, "employee")
    flash = page.locator(".flash--success")

    # Sign in: an anonymous visitor is sent to the form and back to the dashboard.
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    page.get_by_label("Username").fill(live_server.username)
    page.get_by_label("Password").fill(live_server.password)
    steps.shot("sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".user-menu summary")).to_have_text("Ada Lovelace")
    steps.shot("dashboard")

    # Create a project.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="New project").click()
    page.get_by_role("textbox", name="Name", exact=True).fill("Website relaunch")
    page.get_by_label("URL name").fill("website")
    page.get_by_label("Description").fill("The **new** company website, 新官网.")
    page.get_by_label("Visibility").select_option("internal")
    page.get_by_role("button", name="Create project").click()
    expect(flash).to_have_text("Project “Website relaunch” created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Website relaunch")
    steps.shot("project-created")

    # Create a task.
    page.get_by_role("link", name="New task").click()
    page.get_by_label("Title").fill("Draft the homepage copy 首页文案")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Due date").fill("2026-12-31")
    page.get_by_role("button", name="Create task").click()
    expect(flash).to_have_text("Task #1 created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft the homepage copy")
    steps.shot("task-created")

    # Move it on the board by drag and drop; htmx swaps the board without a page load.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role(
        "link", name="Website relaunch").click()
    page.get_by_role("link", name="Board", exact=True).click()
    card = page.locator("#card-1")
    expect(page.locator('[data-status="open"] #card-1')).to_be_visible()
    page.evaluate("window.boardPageMarker = true")
    with page.expect_response(lambda r: r.url.endswith("/tasks/1/move")
                              and r.request.method == "POST") as moved:
        card.drag_to(page.locator('[data-status="in_progress"] .board__cards'))
    assert moved.value.status < 400, moved.value.status
    expect(page.locator('[data-status="in_progress"] #card-1')).to_be_visible()
    expect(page.locator("#flash")).to_contain_text("#1 moved to In progress.")
    assert page.evaluate("window.boardPageMarker === true"), "the board reloaded the page"
    steps.shot("board-moved")
    page.reload()
    expect(page.locator('[data-status="in_progress"] #card-1')).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    steps.shot("board-phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    # Comment on the task.
    page.locator("#card-1 .board-card__title").click()
    page.get_by_label("Add a comment").fill("Looks good — 看起来不错!")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(flash).to_have_text("Comment added.")
    expect(page.locator(".comment .markdown").last).to_have_text("Looks good — 看起来不错!")
    steps.shot("commented")

    # Switch to Chinese: the same page, translated.
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name=re.compile("^评论"))).to_be_visible()
    expect(page.get_by_role("button", name="评论", exact=True)).to_be_visible()
    expect(page.get_by_text("进行中").first).to_be_visible()
    steps.shot("task-in-chinese")

    # The profile and an API token, in Chinese.
    page.locator(".user-menu summary").click()
    page.get_by_role("link", name="个人资料").click()
    expect(page.get_by_label("语言")).to_have_value("zh_CN")
    steps.shot("profile-in-chinese")
    page.get_by_role("link", name="管理 API 令牌").click()
    page.get_by_role("textbox", name="名称", exact=True).fill("夜间报表")
    page.get_by_role("button", name="创建令牌").click()
    secret = page.locator("#token-secret").input_value()
    assert secret.startswith("td_")
    steps.shot("token-created")
    page.get_by_role("link", name="返回我的令牌").click()
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    assert secret not in page.content()
    steps.shot("tokens-list")

    # Sign out: the session is gone on the server too.
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    steps.shot("signed-out")
    page.goto(f"{live_server.url}/me/")
    expect(page).to_have_url(re.compile(r"/login\?next="))

    assert problems == []
