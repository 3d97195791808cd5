"""Choosing a time zone in a real browser, in English and in Chinese, on a desk and a phone.

Screenshots: tests/browser/artifacts/time-zone-NN-<step>.png.
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


def test_profile_time_zone_in_english_and_chinese(page: Any, problems: list[str],
                                                  live_server: Site, artifacts: Path) -> None:
    steps = Steps(page, artifacts, "time-zone")
    footer = page.locator(".site-footer")
    # The site admin's account: the employee flow's pages do not depend on it.
    sign_in(page, live_server, live_server.admin)
    # In English whichever flow ran before on this server (the admin flow ends in Chinese).
    choose_language(page, "en")
    page.goto(f"{live_server.url}/me/")
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("")
    expect(zone.locator("option:checked")).to_have_text("Site default (UTC)")
    expect(footer).to_contain_text("Times are shown in UTC (UTC+00:00).")
    try:
        zone.select_option("Asia/Shanghai")
        page.get_by_role("button", name="Save profile").click()
        expect(page.locator(".flash--success")).to_have_text("Your profile was saved.")
        expect(page.get_by_label("Time zone")).to_have_value("Asia/Shanghai")
        expect(footer).to_contain_text("Times are shown in Asia/Shanghai (UTC+08:00).")
        steps.shot("profile-english")
        page.set_viewport_size({"width": 390, "height": 844})
        steps.shot("profile-phone")
        page.set_viewport_size({"width": 1280, "height": 860})

        page.get_by_label("Language").select_option("zh_CN")
        page.get_by_role("button", name="Save profile").click()
        expect(page.locator(".flash--success")).to_have_text("个人资料已保存。")
        zone = page.get_by_label("时区")
        expect(zone.locator("option:checked")).to_have_text("上海 (UTC+08:00)")
        expect(zone.locator("optgroup").first).to_have_attribute("label", "常用时区")
        expect(footer).to_contain_text("时间按 Asia/Shanghai (UTC+08:00) 显示。")
        steps.shot("profile-chinese")

        # A task's times in Shanghai, and the due date's native picker: it shows the
        # browser's own format (this browser's locale is en-US), whatever the page language.
        page.goto(f"{live_server.url}/projects/new")
        page.get_by_role("textbox", name="名称", exact=True).fill("时区检查")
        page.get_by_label("URL 名称").fill("time-zones")
        page.get_by_role("button", name="创建项目").click()
        page.get_by_role("link", name="新建任务").click()
        due = page.get_by_label("截止日期")
        expect(due).to_have_attribute("type", "date")
        steps.shot("task-form-chinese")
        page.get_by_label("标题").fill("按上海时间显示")
        due.fill("2026-12-31")
        page.get_by_role("button", name="创建任务").click()
        created = page.locator("dt:has-text('创建时间') + dd time")
        expect(created).to_have_attribute(
            "title", re.compile(r"^\d{4}年\d+月\d+日 \d\d:\d\d UTC\+08:00 · Asia/Shanghai$"))
        steps.shot("task-chinese")
    finally:
        # Leave the account as the other flows expect it.
        page.goto(f"{live_server.url}/me/")
        form = page.locator("form[action$='/me/profile']")
        form.locator("select[name=locale]").select_option("")
        form.locator("select[name=time_zone]").select_option("")
        form.locator("button[type=submit]").click()
    expect(page.get_by_label("Time zone")).to_have_value("")
    assert re.search(r"Times are shown in UTC", footer.inner_text())
    assert problems == []
