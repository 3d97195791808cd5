"""Search everywhere and the keyboard shortcuts in a real browser: "/" focuses the header's
search, the results are grouped by project with marks, j/k move a visible selection and
Enter opens it, "?" opens the shortcuts dialog (Escape closes it and focus returns), c, e, a
and s act on the task, and nothing fires while typing in a field. The results page in
English and Chinese at 1366 and 390 pixels.

Screenshots: tests/browser/artifacts/search-NN-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from taskdesk.domain import projects
from taskdesk.domain.comments import add_comment
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import create_task
from tests.support.browser import Site, Steps, choose_language, sign_in, site_session

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def _seed(site: Site) -> None:
    """Rosa's "keys-demo" and "keys-docs" (Ada a member of both) and "keys-secret" (Ada
    nothing), each with tasks about a migration."""
    with site_session(site) as (dbsession, settings, ada, rosa):
        for slug, name, member, titles in (
                ("keys-demo", "Platform 平台", True,
                 ("Migrate the billing database", "Fix the login page",
                  "数据库迁移方案", "Write the release notes")),
                ("keys-docs", "Documentation", True,
                 ("Document the migration steps",)),
                ("keys-secret", "Secret", False, ("Secret migration of the vault",))):
            project = projects.create_project(dbsession, rosa, {"slug": slug, "name": name})
            if member:
                projects.set_member(dbsession, settings, project, ada, rosa, {"role": "member"})
            tasks = [create_task(dbsession, settings, project, rosa, {
                "title": title,
                "description": "We plan to <em>migrate</em> everything by Friday." if n == 3
                else ""}, may=UNRESTRICTED) for n, title in enumerate(titles)]
            if slug == "keys-demo":
                add_comment(dbsession, tasks[1], rosa, {"body": "Blocked until the migration "
                                                                "of the user table is done."})


def _selected(page: Any) -> Any:
    return page.locator(".is-key-selected")


def test_search_and_keyboard_shortcuts(page: Any, problems: list[str], live_server: Site,
                                       artifacts: Path) -> None:
    _seed(live_server)
    steps = Steps(page, artifacts, "search")
    sign_in(page, live_server, live_server.username)
    choose_language(page, "en")
    page.set_viewport_size({"width": 1366, "height": 900})
    base = live_server.url
    announcer = page.locator("#keys-announcer")

    # "/" focuses the header's search; typing "j" there types, it selects nothing.
    page.goto(f"{base}/projects/keys-demo/")
    page.keyboard.press("/")
    box = page.locator("#header-search")
    expect(box).to_be_focused()
    page.keyboard.type("jk migrating")
    expect(box).to_have_value("jk migrating")
    expect(_selected(page)).to_have_count(0)
    box.fill("migrating")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=migrating"))

    # Grouped by project, the matches marked; the secret project is not there.
    groups = page.locator(".search-group h2")
    expect(groups).to_have_text(["Platform 平台", "Documentation"])
    expect(page.locator(".search-hit")).to_have_count(4)
    expect(page.locator(".search-hit mark").first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Secret")
    excerpt = page.locator(".search-hit").filter(has_text="release notes")
    expect(excerpt.locator(".search-hit__excerpt")).to_contain_text(
        "We plan to <em>migrate</em> everything")
    expect(excerpt.locator("mark")).to_have_text("migrate")
    expect(excerpt.locator("em")).to_have_count(0)
    steps.shot("results-1366")

    # j / k move the selection, announced; Enter opens it.
    page.locator("main h1").click()
    page.keyboard.press("j")
    expect(_selected(page)).to_contain_text("Write the release notes")
    expect(announcer).to_have_text("Selected: Write the release notes")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(_selected(page)).to_contain_text("Fix the login page")
    steps.shot("selected")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/projects/keys-demo/tasks/2$"))

    # On the task: "s" focuses the status control, "a" assigns it to me (the page's own
    # form, with its CSRF token), "e" opens the edit form.
    page.locator("main h1").click()
    page.keyboard.press("s")
    expect(page.locator("#quick-status")).to_be_focused()
    expect(announcer).to_have_text("Choose a status.")
    page.locator("main h1").click()
    page.keyboard.press("a")
    expect(page.locator("#flash")).to_contain_text("Task #2 is assigned to you.")
    page.locator("main h1").click()
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile(r"/projects/keys-demo/tasks/2/edit$"))

    # "?" opens the dialog with focus inside; Escape closes it and focus comes back.
    page.goto(f"{base}/projects/keys-demo/")
    page.locator("main h1").click()
    page.keyboard.press("j")
    page.keyboard.press("?")
    dialog = page.locator("dialog#shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    steps.shot("dialog")
    page.keyboard.press("j")  # inside the dialog nothing fires
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(_selected(page).locator("a").first).to_be_focused()
    expect(_selected(page)).to_contain_text("Write the release notes")

    # Typing "c" in a filter field types it; outside, "c" opens the new-task form.
    page.get_by_label("Label", exact=True).fill("")
    page.get_by_label("Label", exact=True).press("c")
    expect(page.get_by_label("Label", exact=True)).to_have_value("c")
    expect(page).to_have_url(re.compile(r"/projects/keys-demo/$"))
    page.locator("main h1").click()
    page.keyboard.press("Control+c")  # a modifier: not a shortcut
    expect(page).to_have_url(re.compile(r"/projects/keys-demo/$"))
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/projects/keys-demo/tasks/new$"))

    # On the board, j selects a card and s focuses its status control.
    page.goto(f"{base}/projects/keys-demo/board")
    page.locator("main h1").click()
    page.keyboard.press("j")
    card = _selected(page)
    expect(card).to_have_class(re.compile("board-card"))
    page.keyboard.press("s")
    expect(card.locator("select")).to_be_focused()
    steps.shot("board")

    # "#1" in the header on a project's page opens that project's task 1.
    page.goto(f"{base}/projects/keys-docs/")
    page.locator("#header-search").fill("#1")
    page.locator("#header-search").press("Enter")
    expect(page).to_have_url(re.compile(r"/projects/keys-docs/tasks/1$"))

    # The results page in Chinese and on a phone.
    page.goto(f"{base}/search?q=migration")
    steps.shot("results-en")
    choose_language(page, "zh_CN")
    page.goto(f"{base}/search?q=" + "数据库")
    expect(page.locator(".search-hit mark")).to_have_text(["数据库"])
    page.goto(f"{base}/search?q=migration")
    expect(page.locator("main h1")).to_have_text("搜索")
    steps.shot("results-zh-1366")
    page.locator("main h1").click()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-title")).to_have_text("键盘快捷键")
    steps.shot("dialog-zh")
    page.keyboard.press("Escape")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/search?q=migration")
    steps.shot("results-zh-390")
    choose_language(page, "en")
    page.goto(f"{base}/search?q=migration")
    steps.shot("results-en-390")
    assert not problems, problems
