"""The board's order, WIP limits and swimlanes in a real browser: Ada drags a card above
another, moves cards with Alt+arrow keys (the focus stays on the card and its new place is
announced), sees the "In progress" column over its WIP limit, and groups the board by
assignee; in English and Chinese, at 1366 px and on a 390 px phone (where the board scrolls
inside its own area, not the page).

Screenshots: tests/browser/artifacts/board-order-NN-*.png.
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

WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _seed(site: Site) -> None:
    """Rosa's project "kanban" (Ada a member, WIP limit 1 on "In progress"): three open
    tasks (created A, B, C: shown C, B, A), two in progress."""
    with seeded_project(site, "kanban", "Kanban 看板") as seed:
        dbsession, settings, rosa, project = seed.dbsession, seed.settings, seed.admin, seed.project
        project.wip_limits = {"in_progress": 1}
        for title, values in (
                ("Card A 需求", {"assignee": "ada", "priority": "high"}),
                ("Card B", {"priority": "low"}),
                ("Card C 测试", {"assignee": "root", "priority": "high"}),
                ("Doing D", {"status": "in_progress", "assignee": "ada"}),
                ("Doing E", {"status": "in_progress", "priority": "urgent"})):
            create_task(dbsession, settings, project, rosa, {"title": title, **values},
                        may=UNRESTRICTED)


@pytest.fixture(scope="module")
def kanban(live_server: Site) -> Site:
    _seed(live_server)
    return live_server


def _titles(page: Any, status: str) -> list[str]:
    return [title.strip() for title in page.locator(
        f"#column-{status} .board-card__title").all_inner_texts()]


def _moved(page: Any) -> Any:
    return page.expect_response(lambda r: r.url.endswith("/move") and r.request.method == "POST")


def _no_page_scroll(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_order_cards_by_dragging_and_by_keyboard(page: Any, problems: list[str],
                                                 kanban: Site, artifacts: Path) -> None:
    live_server = kanban
    steps = Steps(page, artifacts, "board-order")
    page.set_viewport_size(WIDE)
    sign_in(page, live_server, live_server.username)
    choose_language(page, "en")
    board = f"{live_server.url}/projects/kanban/board"
    page.goto(board)
    assert _titles(page, "open") == ["Card C 测试", "Card B", "Card A 需求"]
    # The column over its WIP limit says so, in words.
    heading = page.locator("#col-in_progress")
    expect(heading).to_have_text("In progress 2 / 1")
    expect(page.locator("#column-in_progress .board__over")).to_have_text("Over the WIP limit")
    steps.shot("board")

    # Drag A onto the top half of C: it lands above C.
    with _moved(page):
        page.locator("#column-open .board-card", has_text="Card A").drag_to(
            page.locator("#column-open .board-card", has_text="Card C"),
            target_position={"x": 20, "y": 4})
    expect(page.locator("#flash")).to_contain_text("moved.")
    assert _titles(page, "open") == ["Card A 需求", "Card C 测试", "Card B"]
    page.reload()
    assert _titles(page, "open") == ["Card A 需求", "Card C 测试", "Card B"]

    # Keyboard: Alt+Down moves A below C, the focus stays on A and its place is read out.
    page.locator("#column-open .board-card__title", has_text="Card A").focus()
    with _moved(page):
        page.keyboard.press("Alt+ArrowDown")
    expect(page.locator("#board-announce")).to_have_text("#1 in Open, 2 of 3.")
    assert _titles(page, "open") == ["Card C 测试", "Card A 需求", "Card B"]
    assert page.evaluate("document.activeElement.textContent") == "Card A 需求"
    # Alt+Right: to the top of "In progress", a status change past its WIP limit (warned).
    with _moved(page):
        page.keyboard.press("Alt+ArrowRight")
    expect(page.locator("#board-announce")).to_have_text("#1 in In progress, 1 of 3.")
    expect(page.locator(".flash--warning")).to_have_text(
        "In progress now holds more than its WIP limit of 1 tasks.")
    assert _titles(page, "in_progress") == ["Card A 需求", "Doing E", "Doing D"]
    assert page.url == board  # Alt+Right did not go back in the history, nor reload
    expect(heading).to_have_text("In progress 3 / 1")
    steps.shot("moved")

    # Swimlanes by assignee, kept in the URL.
    page.get_by_label("Swimlanes").select_option("assignee")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(f"{board}?q=&assignee=&priority=&label=&blocked=&subtasks=&"
                             "lanes=assignee")
    expect(page.locator(".board-lane__title")).to_have_text(
        ["Ada Lovelace 2", "Rosa Admin 1", "Unassigned 2"])
    steps.shot("lanes")
    page.set_viewport_size(PHONE)
    _no_page_scroll(page)
    steps.shot("lanes-390")
    page.goto(board)
    _no_page_scroll(page)
    steps.shot("board-390")

    choose_language(page, "zh_CN")
    page.set_viewport_size(WIDE)
    page.goto(board)
    expect(page.locator("#column-in_progress .board__over")).to_have_text("已超出在制品上限")
    steps.shot("board-zh")
    page.goto(f"{board}?lanes=priority")
    expect(page.locator(".board-lane__title").first).to_contain_text("紧急")
    steps.shot("lanes-zh")
    page.set_viewport_size(PHONE)
    _no_page_scroll(page)
    steps.shot("lanes-zh-390")
    page.goto(board)
    _no_page_scroll(page)
    steps.shot("board-zh-390")
    choose_language(page, "en")
    assert not problems, problems


def test_wip_limits_in_the_settings(page: Any, problems: list[str], kanban: Site,
                                    artifacts: Path) -> None:
    """Rosa, the manager, sets a limit; a bad one is explained next to the fields."""
    live_server = kanban
    steps = Steps(page, artifacts, "board-wip")
    page.set_viewport_size(WIDE)
    sign_in(page, live_server, live_server.admin)
    choose_language(page, "en")
    page.goto(f"{live_server.url}/projects/kanban/settings")
    page.get_by_label("Blocked").fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#wip_limits-error")).to_have_text(
        "Use whole numbers from 1 to 9999, or nothing for no limit.")
    steps.shot("invalid")
    page.get_by_label("Blocked").fill("4")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#flash")).to_contain_text("Project settings saved.")
    page.goto(f"{live_server.url}/projects/kanban/board")
    expect(page.locator("#col-blocked")).to_have_text("Blocked 0 / 4")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/projects/kanban/settings")
    _no_page_scroll(page)
    steps.shot("settings-390")
    # The refused form's page answers 400, as every refused form does.
    assert problems == [f"400 {live_server.url}/projects/kanban/settings"], problems
