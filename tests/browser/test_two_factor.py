"""Two-factor authentication in a real browser: set it up by reading the key from the page
and computing the code here (as an authenticator app would), sign out, sign in with a code;
the set-up and verify pages in English and Chinese on a desk (1366 px) and a phone (390 px).

Screenshots: tests/browser/artifacts/two-factor-NN-<step>.png.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from taskdesk.domain import accounts
from taskdesk.models import get_engine
from taskdesk.security import totp
from tests.support.browser import Site, Steps, choose_language, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
#: This test's own user: the shared ones must keep signing in with a password alone.
USERNAME = "meilin"


def create_user(site: Site) -> None:
    engine = get_engine(site.database_url)
    try:
        with Session(engine) as dbsession:
            accounts.create_user(dbsession, {"username": USERNAME, "password": site.password,
                                             "display_name": "李美林"})
            dbsession.commit()
    finally:
        engine.dispose()


def both_widths(page: Any, steps: Steps, name: str) -> None:
    page.set_viewport_size(DESK)
    steps.shot(f"{name}-desk")
    page.set_viewport_size(PHONE)
    steps.shot(f"{name}-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width} px wide on a phone"
    page.set_viewport_size(DESK)


def test_set_up_sign_out_and_sign_in_with_a_code(
    page: Any, problems: list[str], live_server: Site, artifacts: Path
) -> None:
    create_user(live_server)
    steps = Steps(page, artifacts, "two-factor")
    page.set_viewport_size(DESK)
    sign_in(page, live_server, USERNAME)
    page.goto(f"{live_server.url}/me/")
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.locator(".two-factor__qr svg")).to_be_visible()
    both_widths(page, steps, "enrol-english")
    choose_language(page, "zh_CN")
    expect(page.get_by_role("heading", name="设置双重验证")).to_be_visible()
    both_widths(page, steps, "enrol-chinese")

    secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    page.get_by_label("验证码").fill(totp.code_at(secret, time.time()))
    page.get_by_role("button", name="开启双重验证").click()
    codes = page.locator("#recovery-codes code")
    expect(codes).to_have_count(10)
    both_widths(page, steps, "codes-chinese")
    page.get_by_role("link", name="我已保存恢复码，继续").click()  # noqa: RUF001
    section = page.locator("#two-factor")
    expect(section.locator(".badge")).to_have_text("已开启")
    for name, size in (("desk", DESK), ("phone", PHONE)):
        page.set_viewport_size(size)
        section.screenshot(path=str(artifacts / f"two-factor-profile-chinese-{name}.png"))
    page.set_viewport_size(DESK)

    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("用户名").fill(USERNAME)
    page.get_by_label("密码").fill(live_server.password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server.url}/login/verify")
    both_widths(page, steps, "verify-chinese")
    page.locator(".lang-switch button[value='en']").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verify-error")).to_be_visible()
    both_widths(page, steps, "verify-english")

    # The next step's code: the current one was used to set up.
    page.get_by_label("Code").fill(totp.code_at(secret, time.time() + 30))
    page.get_by_label("Remember this device for 30 days").check()
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".user-menu summary")).to_have_text("李美林")
    cookie = next(c for c in page.context.cookies() if c["name"] == "taskdesk_device")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert problems == []
