"""A session that ended: the sign-in page says why, in English and Chinese, on a desk and a
phone. Time passes by moving the session's timestamps back in the database.

Screenshots: tests/browser/artifacts/session-ended-NN-<step>.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from taskdesk.models import AuthSession, User, get_engine
from taskdesk.models.meta import utcnow
from tests.support.browser import Site, Steps, choose_language, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def age_newest_session(site: Site, username: str, **ages: timedelta) -> None:
    """Move the newest session of ``username`` (this test's) back in time."""
    engine = get_engine(site.database_url)
    try:
        with engine.begin() as connection:
            newest = (select(func.max(AuthSession.id)).join(User)
                      .where(User.username == username).scalar_subquery())
            connection.execute(update(AuthSession).where(AuthSession.id == newest).values(
                **{name: utcnow() - age for name, age in ages.items()}))
    finally:
        engine.dispose()


def test_the_sign_in_page_says_why_the_session_ended(
    page: Any, problems: list[str], live_server: Site, artifacts: Path
) -> None:
    steps = Steps(page, artifacts, "session-ended")
    notice = page.locator("#session-ended")
    sign_in(page, live_server, live_server.username)
    age_newest_session(live_server, live_server.username, last_seen_at=timedelta(hours=9))
    page.goto(f"{live_server.url}/projects")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fprojects")
    expect(notice).to_have_text("You were signed out after 480 minutes without activity.")
    steps.shot("idle-english")
    page.set_viewport_size({"width": 390, "height": 844})
    steps.shot("idle-phone")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.locator(".lang-switch button[value='zh_CN']").click()
    expect(notice).to_have_text("你已连续 480 分钟没有操作，已自动退出登录。")  # noqa: RUF001
    steps.shot("idle-chinese")

    page.get_by_label("用户名").fill(live_server.username)
    page.get_by_label("密码").fill(live_server.password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#session-ended")).to_have_count(0)
    age_newest_session(live_server, live_server.username, created_at=timedelta(days=15))
    page.goto(f"{live_server.url}/login")
    expect(notice).to_have_text("你的会话已达到最长时限。")
    steps.shot("max-age-chinese")
    page.set_viewport_size({"width": 390, "height": 844})
    steps.shot("max-age-phone")
    choose_language(page, "en")
    expect(notice).to_have_text("Your session reached its maximum length.")
    assert problems == []
