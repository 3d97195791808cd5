"""Two people on one board: a card one of them drags moves on the other's screen, under
Hypercorn (event streams) and under Waitress (polling); the other's open edit form says the
task changed; the bell follows. English and Chinese, desktop and 390 px.

Each server runs as production does (a process from a production-like INI on SQLite).
Screenshots: tests/browser/artifacts/live-<server>-NN-<step>.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import Steps, choose_language
from tests.support.servers import PASSWORD, Client, WorkerProcess, make_site, taskdesk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@dataclass
class Served:
    kind: str
    port: int
    ini: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(params=["hypercorn", "waitress"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    """(server kind, base URL) of a site where alice manages "live" and bob is a member."""
    site = make_site(tmp_path, {"taskdesk.live.poll_seconds": "2",
                                "taskdesk.live.heartbeat_seconds": "2"})
    taskdesk(site.ini, "create-user", "bob", "--password-stdin", stdin=PASSWORD + "\n")
    with site.server(request.param):
        alice = Client(site.port)
        assert alice.login("alice").status == 303
        alice.get("/")
        assert alice.api("POST", "/api/v1/projects", {"slug": "live", "name": "Live 实时"}
                         ).status == 201
        for title in ("Ship the release 发布", "Write the notes"):
            created = alice.api("POST", "/api/v1/projects/live/tasks", {"title": title})
            assert created.status == 201
        assert alice.api("PUT", "/api/v1/projects/live/members/user:bob",
                         {"role": "member"}).status == 201
        yield Served(str(request.param), site.port, site.ini)


def _open(chromium: Any, base: str, username: str, viewport: dict[str, int] = DESKTOP) -> Any:
    context = chromium.new_context(viewport=viewport, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    expect(page).to_have_url(f"{base}/")
    choose_language(page, "en")
    return page


def _drag(page: Any, title: str, status: str) -> None:
    with page.expect_response(lambda r: r.url.endswith("/move")
                              and r.request.method == "POST"):
        page.locator(".board-card", has_text=title).drag_to(
            page.locator(f"#column-{status} .board__cards"))


def test_a_card_moved_on_one_board_moves_on_the_other(chromium: Any, served: Served,
                                                      artifacts: Path) -> None:
    kind, base = served.kind, served.base
    mover = _open(chromium, base, "alice")
    watcher = _open(chromium, base, "bob")
    problems: list[str] = []
    watcher.on("pageerror", lambda error: problems.append(str(error)))
    steps = Steps(watcher, artifacts, f"live-{kind}")

    for page in (mover, watcher):
        page.goto(f"{base}/projects/live/board")
    body = watcher.locator("body")
    if kind == "hypercorn":
        expect(body).to_have_attribute("data-live-stream", f"{base}/live/projects/live")
    else:
        assert watcher.evaluate("document.body.hasAttribute('data-live-stream')") is False
    watcher.wait_for_timeout(1000)  # the stream is open / the first poll has set the cursor
    steps.shot("en-before")

    _drag(mover, "Ship the release", "in_progress")
    expect(watcher.locator("#column-in_progress")).to_contain_text("Ship the release",
                                                                    timeout=10_000)
    expect(watcher.locator("#column-open")).not_to_contain_text("Ship the release")
    steps.shot("en-moved")

    # The task list follows too, in Chinese.
    choose_language(watcher, "zh_CN")
    watcher.goto(f"{base}/projects/live/")
    watcher.wait_for_timeout(1000)
    _drag(mover, "Write the notes", "in_progress")
    row = watcher.locator("#task-list tr", has_text="Write the notes")
    expect(row).to_contain_text("进行中", timeout=10_000)
    steps.shot("zh-list")

    # An open edit form is told the task changed, and keeps what was typed.
    watcher.goto(f"{base}/projects/live/tasks/1/edit")
    watcher.locator("input[name=title]").fill("Ship the release 发布 v2")
    watcher.wait_for_timeout(1000)
    mover.goto(f"{base}/projects/live/board")
    _drag(mover, "Ship the release", "blocked")
    notice = watcher.locator("form[data-live-edit] .live-notice")
    expect(notice).to_contain_text("有人修改了这个任务", timeout=10_000)
    expect(watcher.locator("input[name=title]")).to_have_value("Ship the release 发布 v2")
    steps.shot("zh-edit-notice")
    watcher.set_viewport_size(PHONE)
    steps.shot("zh-edit-notice-390")
    choose_language(watcher, "en")
    expect(watcher.locator(".live-notice")).to_have_count(0)  # a new page: no notice yet
    watcher.set_viewport_size(DESKTOP)

    # A comment appears on the task page without a reload.
    watcher.goto(f"{base}/projects/live/tasks/1")
    watcher.evaluate("window.notReloaded = true")
    watcher.wait_for_timeout(1000)
    mover.goto(f"{base}/projects/live/tasks/1")
    mover.locator("textarea[name=body]").fill("Blocked on the 发布 review")
    mover.locator("textarea[name=body]").locator("xpath=ancestor::form").locator(
        "button[type=submit]").click()
    expect(watcher.locator("#task-comments")).to_contain_text("Blocked on the 发布 review",
                                                               timeout=10_000)
    assert watcher.evaluate("window.notReloaded === true")
    steps.shot("en-comment")
    assert problems == []
    for page in (mover, watcher):
        page.context.close()


def test_the_bell_follows_without_a_reload(chromium: Any, served: Served,
                                           artifacts: Path) -> None:
    """The worker (another process) notifies bob of an @mention: the bell of the page he has
    open counts it (with the in-memory broker, at the stream's next re-check or poll)."""
    with WorkerProcess(served.ini, served.ini.parent / "worker.log"):
        watcher = _open(chromium, served.base, "bob")
        steps = Steps(watcher, artifacts, f"live-{served.kind}-bell")
        watcher.goto(f"{served.base}/projects/live/board")
        # "alice added you to the project", once the worker has delivered it.
        count = watcher.locator(".bell .bell__count")
        expect(count).to_have_text("1", timeout=20_000)
        watcher.evaluate("window.notReloaded = true")
        alice = Client(served.port)
        assert alice.login("alice").status == 303
        alice.get("/")
        mentioned = alice.api("POST", "/api/v1/projects/live/tasks/2/comments",
                              {"body": "@bob please look"})
        assert mentioned.status == 201, mentioned.text
        expect(count).to_have_text("2", timeout=20_000)
        assert watcher.evaluate("window.notReloaded === true")
        steps.shot("en-bell")
        watcher.context.close()
