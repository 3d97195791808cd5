"""The board, the task list and the task page as a pilot team sees them, in English and
Chinese, on a desktop and at 390 px, with and without JavaScript; an archived project; a new
user's dashboard.

Screenshots land in tests/browser/artifacts/ (pilot-NN-step.png) to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from taskdesk.domain import accounts, projects, tasks
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import get_engine
from taskdesk.models.meta import utcnow
from taskdesk.settings import parse_settings
from tests.support.apps import app_settings
from tests.support.browser import Site, Steps

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
LONG_TITLE = "Investigate_" + "x" * 90 + "_timeout"


@pytest.fixture(scope="module")
def pilot(live_server: Site) -> Site:
    """A project "rollout" managed by 陈静 (chen): open, overdue, done and cancelled tasks."""
    engine = get_engine(live_server.database_url)
    settings = parse_settings(app_settings(live_server.database_url))
    today = utcnow().date()
    with Session(engine) as dbsession:
        chen = accounts.create_user(dbsession, {
            "username": "chen", "password": live_server.password, "display_name": "陈静"})
        accounts.create_user(dbsession, {"username": "newbie", "display_name": "New Person",
                                         "password": live_server.password})
        project = projects.create_project(dbsession, chen, {
            "slug": "rollout", "name": "Rollout 试点", "visibility": "private"})
        for number in range(24):
            tasks.create_task(dbsession, settings, project, chen,
                              {"title": f"Shipped item {number} 已发布", "status": "done"},
                              may=UNRESTRICTED)
        for number in range(3):
            tasks.create_task(dbsession, settings, project, chen,
                              {"title": f"Dropped idea {number}", "status": "wont_do",
                               "due_date": today - timedelta(days=3)}, may=UNRESTRICTED)
        tasks.create_task(dbsession, settings, project, chen, {
            "title": "Finished late 迟完成", "status": "done",
            "due_date": today - timedelta(days=2)}, may=UNRESTRICTED)
        tasks.create_task(dbsession, settings, project, chen, {
            "title": LONG_TITLE, "priority": "high", "assignee": "chen"}, may=UNRESTRICTED)
        tasks.create_task(dbsession, settings, project, chen, {
            "title": "修复登录页面的超时问题", "priority": "urgent", "assignee": "chen",
            "due_date": today - timedelta(days=1), "labels": ["前端"]}, may=UNRESTRICTED)
        tasks.create_task(dbsession, settings, project, chen, {
            "title": "Write the pilot guide", "status": "in_progress",
            "due_date": today + timedelta(days=5)}, may=UNRESTRICTED)
        dbsession.commit()
    engine.dispose()
    return live_server


@pytest.fixture
def browse(chromium: Any, pilot: Site) -> Iterator[Any]:
    """``browse(locale, javascript=True)``: a fresh signed-in page as chen."""
    contexts: list[Any] = []

    def open_page(locale: str = "en-US", *, javascript: bool = True,
                  username: str = "chen") -> Any:
        context = chromium.new_context(viewport=DESKTOP, locale=locale,
                                       java_script_enabled=javascript)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        # By field name: the labels are in the context's language.
        page.goto(f"{pilot.url}/login")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(pilot.password)
        page.locator("#login-form button[type=submit]").click()
        expect(page).to_have_url(f"{pilot.url}/")
        return page

    yield open_page
    for context in contexts:
        context.close()


def _width(locator: Any) -> float:
    box = locator.bounding_box()
    return 0.0 if box is None else float(box["width"])


def _no_horizontal_scroll(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_board_with_and_without_javascript(browse: Any, pilot: Site, artifacts: Path) -> None:
    page = browse()
    steps = Steps(page, artifacts, "pilot-board")
    page.goto(f"{pilot.url}/projects/rollout/board")
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    long_card = page.locator(".board-card", has_text="Investigate_")
    # With JavaScript the move form is out of sight (cards are dragged)...
    assert _width(long_card.locator(".move-form")) <= 1
    # ...until a keyboard user tabs into the card.
    long_card.locator(".board-card__title").focus()
    page.keyboard.press("Tab")
    assert _width(long_card.locator(".move-form")) > 100
    # Long titles wrap inside their card.
    assert _width(long_card.locator(".board-card__title")) <= _width(long_card)
    # The done column shows the newest 20 and offers more; htmx swaps only that column.
    done = page.locator("#column-done")
    expect(done.locator(".board-card")).to_have_count(20)
    expect(page.locator("#column-open .overdue")).to_have_count(1)
    expect(page.locator("#column-done .overdue")).to_have_count(0)
    page.mouse.click(5, 5)
    steps.shot("en")
    page.evaluate("window.boardPageMarker = true")
    done.get_by_role("link", name=re.compile("^Show more")).click()
    expect(page.locator("#column-done .board-card")).to_have_count(25)
    expect(page).to_have_url(re.compile(r"cards_done=40"))
    assert page.evaluate("window.boardPageMarker === true"), "Show more reloaded the page"
    # A card moved afterwards comes back to the board as shown, more cards and all.
    with page.expect_response(lambda r: r.url.endswith("/move")
                              and r.request.method == "POST"):
        page.locator(".board-card", has_text="Write the pilot guide").drag_to(
            page.locator("#column-blocked .board__cards"))
    expect(page.locator("#column-blocked")).to_contain_text("Write the pilot guide")
    expect(page.locator("#column-done .board-card")).to_have_count(25)
    steps.shot("en-show-more")
    page.set_viewport_size(PHONE)
    _no_horizontal_scroll(page)  # the board scrolls inside itself
    steps.shot("en-390")

    page = browse("zh-CN")
    steps = Steps(page, artifacts, "pilot-board-zh")
    page.goto(f"{pilot.url}/projects/rollout/board")
    expect(page.get_by_role("heading", level=2, name=re.compile("^已完成"))).to_be_visible()
    expect(page.locator("#column-done").get_by_role("link", name=re.compile("^显示更多"))
           ).to_be_visible()
    steps.shot("zh")
    page.set_viewport_size(PHONE)
    _no_horizontal_scroll(page)
    steps.shot("zh-390")

    # Without JavaScript every card has its move form, and Show more is a plain link.
    page = browse(javascript=False)
    steps = Steps(page, artifacts, "pilot-board-nojs")
    page.goto(f"{pilot.url}/projects/rollout/board")
    expect(page.locator("html")).not_to_have_class(re.compile(r"\bjs\b"))
    long_card = page.locator(".board-card", has_text="Investigate_")
    assert _width(long_card.locator(".move-form")) > 100
    expect(page.get_by_text("Choose a card's status and press Move, or move it up or down in "
                            "its column.")).to_be_visible()
    steps.shot("en")
    page.locator("#column-done").get_by_role("link", name=re.compile("^Show more")).click()
    expect(page.locator("#column-done .board-card")).to_have_count(25)
    form = page.locator(".board-card", has_text="Write the pilot guide").locator(".move-form")
    form.get_by_role("combobox").select_option("in_progress")
    form.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("#column-in_progress")).to_contain_text("Write the pilot guide")
    expect(page.locator("#column-done .board-card")).to_have_count(25)  # the limit stays
    page.set_viewport_size(PHONE)
    _no_horizontal_scroll(page)
    steps.shot("en-390")
    page = browse("zh-CN", javascript=False)
    page.goto(f"{pilot.url}/projects/rollout/board")
    page.set_viewport_size(PHONE)
    _no_horizontal_scroll(page)
    Steps(page, artifacts, "pilot-board-nojs-zh").shot("zh-390")


def test_task_list_and_task_page(browse: Any, pilot: Site, artifacts: Path) -> None:
    page = browse()
    steps = Steps(page, artifacts, "pilot-list")
    page.goto(f"{pilot.url}/projects/rollout/")
    expect(page.get_by_label("Open or closed")).to_have_value("open")
    expect(page.locator(".list-total")).to_have_text("3 tasks")
    overdue = page.locator("tbody .overdue")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text("Overdue:")  # for screen readers, beside the sign
    _no_horizontal_scroll(page)
    steps.shot("en")
    page.get_by_label("Open or closed").select_option("all")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".list-total")).to_have_text("31 tasks")
    steps.shot("en-all")
    page.set_viewport_size(PHONE)
    page.goto(f"{pilot.url}/projects/rollout/")
    _no_horizontal_scroll(page)
    steps.shot("en-390")

    page = browse("zh-CN")
    steps = Steps(page, artifacts, "pilot-list-zh")
    page.goto(f"{pilot.url}/projects/rollout/")
    expect(page.locator(".list-total")).to_have_text("3 个任务")
    steps.shot("zh")
    page.set_viewport_size(PHONE)
    _no_horizontal_scroll(page)
    steps.shot("zh-390")

    # The task page: overdue date, long title wrapped, quick actions aligned in both languages.
    for locale, name in (("en-US", "en"), ("zh-CN", "zh")):
        page = browse(locale)
        steps = Steps(page, artifacts, f"pilot-task-{name}")
        page.goto(f"{pilot.url}/projects/rollout/tasks/29")  # the long title
        _no_horizontal_scroll(page)
        steps.shot("long-title")
        page.goto(f"{pilot.url}/projects/rollout/tasks/30")
        expect(page.locator(".task-meta .overdue")).to_have_count(1)
        page.goto(f"{pilot.url}/projects/rollout/tasks/31")  # nobody's: both quick actions
        steps.shot("quick-actions")
        buttons = page.locator(".quick-actions button")
        expect(buttons).to_have_count(2)
        first, second = (buttons.nth(i).bounding_box() for i in range(2))
        assert first is not None
        assert second is not None
        # Quick actions stack as one column of equal-width controls, in any language.
        assert abs(first["x"] - second["x"]) < 1, (name, first, second)
        select = page.locator(".quick-actions select").bounding_box()
        assert select is not None
        assert abs(select["x"] - first["x"]) < 1, (name, select)
        assert first["y"] < select["y"] < second["y"], name
        page.set_viewport_size(PHONE)
        _no_horizontal_scroll(page)
        steps.shot("quick-actions-390")


def test_archived_project_and_confirmations(browse: Any, pilot: Site, artifacts: Path) -> None:
    page = browse()
    steps = Steps(page, artifacts, "pilot-archive")
    page.goto(f"{pilot.url}/projects/rollout/settings")
    page.get_by_role("button", name="Archive project").click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_contain_text("Archive Rollout 试点?")
    steps.shot("dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/settings$"))  # nothing happened
    page.get_by_role("button", name="Archive project").click()
    page.locator("dialog.confirm-dialog").get_by_role("button", name="Archive project").click()
    expect(page.locator(".flash--success")).to_contain_text("Project archived")
    expect(page.locator(".notice")).to_contain_text("Archived — read-only.")
    expect(page.get_by_role("link", name="New task")).to_have_count(0)
    steps.shot("archived")
    page.goto(f"{pilot.url}/projects/rollout/board")
    expect(page.locator(".move-form")).to_have_count(0)
    page.get_by_role("button", name="Unarchive").click()
    expect(page.locator(".flash--success")).to_contain_text("Project unarchived")
    expect(page.get_by_role("link", name="New task")).to_be_visible()

    # Without JavaScript the same action asks on a page.
    page = browse(javascript=False)
    page.goto(f"{pilot.url}/projects/rollout/settings")
    page.get_by_role("button", name="Archive project").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Archive Rollout 试点?")
    Steps(page, artifacts, "pilot-archive-nojs").shot("confirm-page")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator(".notice")).to_have_count(0)


def test_new_users_dashboard(browse: Any, pilot: Site, artifacts: Path) -> None:
    for locale, name in (("en-US", "en"), ("zh-CN", "zh")):
        page = browse(locale, username="newbie")
        expect(page.locator("#getting-started")).to_be_visible()
        expect(page.locator("section", has=page.locator("#getting-started"))).to_contain_text(
            "newbie")
        page.set_viewport_size(PHONE)
        Steps(page, artifacts, f"pilot-dashboard-{name}").shot("new-user-390")
