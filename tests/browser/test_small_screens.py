"""Every page at 390 px and in the dark theme, in English and Chinese.

A signed-in employee (a project manager) and a site admin visit every page they can reach
on a phone-sized screen: nothing may widen the page (``scrollWidth <= 390``). The navigation
folds into a menu button that works without script, the filters fold away, list tables turn
into cards and keep their table roles, the board scrolls inside its own area. With the
system's dark setting (``color_scheme="dark"``) body text keeps 4.5:1 on its background.

Screenshots: tests/browser/artifacts/small-<who>-<lang>-<page>.png and
dark-<width>-<lang>-<page>.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from taskdesk.domain import accounts, projects
from taskdesk.domain.comments import add_comment
from taskdesk.domain.links import add_link
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import create_task
from taskdesk.models import Event, Group, GroupMember, Notification, Webhook, WebhookDelivery
from taskdesk.models.meta import utcnow
from tests.support.browser import Site, choose_language, sign_in, site_session
from tests.support.colours import contrast
from tests.support.files import png

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SLUG = "phones"
LONG_URL = "https://intranet.example.com/specifications/mobile/" + "very-long-segment-" * 6


def _seed(site: Site) -> dict[str, int]:
    """Rosa's project "phones" (Ada its manager) with a task that has everything a task page
    shows, a webhook with a failed delivery, a parked event, a group, a token and an unread
    notification of Ada's. Returns the ids the pages need."""
    with site_session(site) as (dbsession, settings, ada, rosa):
        project = projects.create_project(dbsession, rosa, {
            "slug": SLUG, "name": "Phone layout 手机布局",
            "description": f"Everything a phone shows. See {LONG_URL}"})
        projects.set_member(dbsession, settings, project, ada, rosa, {"role": "manager"})
        main = create_task(dbsession, settings, project, rosa, {
            "title": "Design the public API for the mobile clients and their offline mode",
            "description": f"- [x] Draft the endpoints\n- [ ] Review with 李雷\n\n{LONG_URL}",
            "priority": "high", "labels": ["api", "mobile", "设计"],
            "due_date": (datetime.now(UTC).date() + timedelta(days=3)).isoformat(),
            "assignee": site.username}, may=UNRESTRICTED)
        create_task(dbsession, settings, project, rosa, {
            "title": "Write the endpoint reference", "parent": main.number}, may=UNRESTRICTED)
        blocked = create_task(dbsession, settings, project, rosa, {
            "title": "Build the offline cache", "priority": "urgent"}, may=UNRESTRICTED)
        add_link(dbsession, blocked, rosa, {"kind": "blocked_by", "task": f"#{main.number}"})
        comment = add_comment(dbsession, main, rosa, {
            "body": f"@ada the draft is at {LONG_URL} — 请在周五前看一下。"})
        own = add_comment(dbsession, main, ada, {"body": "Reviewed: two endpoints need paging."})
        hook = Webhook(project_id=project.id, url=f"{LONG_URL}hook", description="CI 持续集成",
                       events=[], is_active=True, secret="s" * 40, created_by_id=rosa.id)
        site_hook = Webhook(project_id=None, url="https://chat.example.com/hooks/taskdesk",
                            description="Chat", events=[], is_active=False, secret="t" * 40,
                            created_by_id=rosa.id)
        dbsession.add_all([hook, site_hook])
        dbsession.flush()
        dbsession.add(WebhookDelivery(
            webhook_id=hook.id, event_id=1, event_kind="task.updated", status="failed",
            attempts=3, last_attempt_at=utcnow(), response_status=502, duration_ms=1234,
            response_excerpt="<html><body>Bad gateway " + "x" * 200 + "</body></html>",
            error="HTTPError: 502 Bad Gateway from " + LONG_URL))
        dbsession.add(Event(kind="comment.added", project_id=project.id, task_id=main.id,
                            data={}, attempts=8, parked_at=utcnow(),
                            last_error="ConnectTimeout: " + LONG_URL + " did not answer"))
        group = Group(name="mobile-team", description="The people who build the phone apps")
        dbsession.add(group)
        dbsession.flush()
        dbsession.add(GroupMember(group_id=group.id, user_id=ada.id))
        accounts.create_token(dbsession, ada, {"name": "CI pipeline on the build server",
                                               "scope": "write", "expires_in_days": 30})
        dbsession.add(Notification(
            user_id=ada.id, event_id=990_001, kind="comment.added", reason="mentioned",
            project_id=project.id, task_id=main.id, comment_id=comment.id, actor_id=rosa.id,
            data={}))
        dbsession.flush()  # the ids
        ids = {"hook": hook.id, "site_hook": site_hook.id, "comment": own.id,
               "group": group.id, "ada": ada.id}
    return ids


@pytest.fixture(scope="module")
def seeded(live_server: Site) -> dict[str, int]:
    return _seed(live_server)


def _user_pages(ids: dict[str, int]) -> list[tuple[str, str]]:
    project = f"/projects/{SLUG}"
    return [
        ("dashboard", "/"),
        ("projects", "/projects/"),
        ("project-new", "/projects/new"),
        ("tasks", f"{project}/"),
        ("tasks-filtered", f"{project}/?q=API&state=all&sort=due"),
        ("board", f"{project}/board"),
        ("charts", f"{project}/charts"),
        ("members", f"{project}/members/"),
        ("settings", f"{project}/settings"),
        ("webhooks", f"{project}/webhooks/"),
        ("webhook", f"{project}/webhooks/{ids['hook']}/"),
        ("task", f"{project}/tasks/1"),
        ("task-blocked", f"{project}/tasks/3"),
        ("task-edit", f"{project}/tasks/1/edit"),
        ("comment-edit", f"{project}/tasks/1/comments/{ids['comment']}/edit"),
        ("task-new", f"{project}/tasks/new"),
        ("task-delete", f"{project}/tasks/3/delete"),
        ("profile", "/me/"),
        ("tokens", "/me/tokens/"),
        ("notifications", "/me/notifications/"),
        ("error", "/projects/no-such-project/"),
    ]


def _admin_pages(ids: dict[str, int]) -> list[tuple[str, str]]:
    return [
        ("admin", "/admin/"),
        ("users", "/admin/users/"),
        ("user", f"/admin/users/{ids['ada']}"),
        ("user-new", "/admin/users/new"),
        ("groups", "/admin/groups/"),
        ("group", f"/admin/groups/{ids['group']}"),
        ("group-new", "/admin/groups/new"),
        ("site-webhooks", "/admin/webhooks/"),
        ("site-webhook", f"/admin/webhooks/{ids['site_hook']}/"),
        ("deliveries", "/admin/deliveries/"),
    ]


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=PHONE, locale="en-US", device_scale_factor=1)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _overflow(page: Any) -> int:
    """How far the page is wider than the window (0: nothing sticks out)."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return max(0, width - PHONE["width"])


def _visit_all(page: Any, site: Site, who: str, pages: list[tuple[str, str]],
               artifacts: Path) -> list[str]:
    """Visit every page in English and Chinese; the pages that overflow, with by how much."""
    wide = []
    for lang in ("en", "zh_CN"):
        page.goto(f"{site.url}/")
        choose_language(page, lang)
        for name, path in pages:
            response = page.goto(f"{site.url}{path}")
            assert response is not None
            assert response.status == (404 if name == "error" else 200), (path, response.status)
            page.screenshot(path=str(artifacts / f"small-{who}-{lang}-{name}.png"),
                            full_page=True)
            if extra := _overflow(page):
                wide.append(f"{lang} {path}: {extra} px too wide")
    return wide


def test_every_page_fits_a_phone(phone: Any, live_server: Site, seeded: dict[str, int],
                                 artifacts: Path) -> None:
    page = phone
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    wide = []
    page.goto(f"{live_server.url}/login")
    page.screenshot(path=str(artifacts / "small-guest-en-login.png"), full_page=True)
    wide += [f"/login: {extra} px too wide" for extra in [_overflow(page)] if extra]

    sign_in(page, live_server, live_server.username)
    wide += _visit_all(page, live_server, "user", _user_pages(seeded), artifacts)
    page.context.clear_cookies()
    sign_in(page, live_server, live_server.admin)
    wide += _visit_all(page, live_server, "admin", _admin_pages(seeded), artifacts)
    choose_language(page, "en")
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login")
    choose_language(page, "zh_CN")
    page.screenshot(path=str(artifacts / "small-guest-zh_CN-login.png"), full_page=True)
    wide += [f"zh /login: {extra} px too wide" for extra in [_overflow(page)] if extra]
    page.get_by_role("button", name="English").click()
    assert wide == []
    assert problems == []


def test_phone_navigation_filters_tables_and_board(phone: Any, live_server: Site,
                                                   seeded: dict[str, int],
                                                   artifacts: Path) -> None:
    page = phone
    sign_in(page, live_server, live_server.username)
    choose_language(page, "en")
    page.goto(f"{live_server.url}/projects/{SLUG}/")
    # The navigation hides behind the menu button, which opens it (a <details>: no script).
    projects_link = page.locator(".site-nav").get_by_role("link", name="Projects")
    expect(projects_link).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(projects_link).to_be_visible()
    page.screenshot(path=str(artifacts / "small-menu-en-open.png"))
    projects_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Projects")
    # The filters fold away until asked for.
    page.goto(f"{live_server.url}/projects/{SLUG}/")
    search = page.get_by_label("Search", exact=True)
    expect(search).to_be_hidden()
    page.locator(".filter-fold__button").click()
    expect(search).to_be_visible()
    page.screenshot(path=str(artifacts / "small-filters-en-open.png"), full_page=True)
    # Rows are cards with their column's name, and still rows and cells to a screen reader.
    card = page.get_by_role("row").filter(has_text="Build the offline cache")
    expect(card).to_have_count(1)
    # Seven cells, the assignee and the last change hidden on phones as before (and the
    # empty due date hidden from sight only).
    expect(card.get_by_role("cell")).to_have_count(5)
    label = card.locator("td[data-label='Priority']").evaluate(
        "cell => getComputedStyle(cell, '::before').content")
    assert label == '"Priority"'
    assert page.get_by_role("columnheader", name="Priority").count() == 1
    # The board scrolls inside its own area, not the page.
    page.goto(f"{live_server.url}/projects/{SLUG}/board")
    board = page.locator(".board")
    assert board.evaluate("b => b.scrollWidth > b.clientWidth")
    assert _overflow(page) == 0

    # On a wide screen the menu button and the filters' button are gone, their contents show.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/projects/{SLUG}/")
    expect(page.locator(".nav-menu__button")).to_be_hidden()
    expect(projects_link).to_be_visible()
    expect(page.locator(".filter-fold__button")).to_be_hidden()
    expect(page.get_by_label("Search", exact=True)).to_be_visible()
    page.screenshot(path=str(artifacts / "wide-en-tasks.png"))


def test_phone_navigation_without_script(chromium: Any, live_server: Site,
                                         seeded: dict[str, int]) -> None:
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server, live_server.username)
        page.goto(f"{live_server.url}/projects/{SLUG}/board")
        # The first navigation link, whatever language the user chose in an earlier test.
        link = page.locator(".site-nav a").first
        expect(link).to_be_hidden()
        page.locator(".nav-menu__button").click()
        expect(link).to_be_visible()
        page.locator(".filter-fold__button").click()
        expect(page.get_by_label("Label")).to_be_visible()
    finally:
        context.close()


DARK_PAGES = ["/", "/projects/", f"/projects/{SLUG}/", f"/projects/{SLUG}/board",
              f"/projects/{SLUG}/charts", f"/projects/{SLUG}/tasks/1",
              f"/projects/{SLUG}/tasks/1/edit", "/me/", "/me/notifications/"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1366"])
def test_dark_theme(chromium: Any, live_server: Site, seeded: dict[str, int],
                    artifacts: Path, viewport: dict[str, int]) -> None:
    context = chromium.new_context(viewport=viewport, color_scheme="dark")
    try:
        page = context.new_page()
        sign_in(page, live_server, live_server.username)
        for lang in ("en", "zh_CN"):
            choose_language(page, lang)
            for path in DARK_PAGES:
                page.goto(f"{live_server.url}{path}")
                colours = page.evaluate("""() => {
                    const style = getComputedStyle(document.body);
                    const card = document.querySelector('.card');
                    return [style.color, style.backgroundColor,
                            card ? getComputedStyle(card).backgroundColor : style.backgroundColor];
                }""")
                text, background, surface = (_hex(c) for c in colours)
                assert contrast(text, background) >= 4.5, (path, colours)
                assert contrast(text, surface) >= 4.5, (path, colours)
                assert background == "#0f141a"  # the dark theme is on
                name = path.strip("/").replace("/", "-") or "dashboard"
                page.screenshot(path=str(artifacts / f"dark-{viewport['width']}-{lang}-{name}.png"),
                                full_page=True)
        choose_language(page, "en")
    finally:
        context.close()


def _hex(css: str) -> str:
    """``rgb(15, 20, 26)`` as ``#0f141a``."""
    parts = css[css.index("(") + 1:css.index(")")].split(",")
    return "#" + "".join(f"{int(float(part)):02x}" for part in parts[:3])


def test_thumbnails_have_a_light_backing_in_the_dark(chromium: Any, live_server: Site,
                                                     seeded: dict[str, int], tmp_path: Path,
                                                     artifacts: Path) -> None:
    """An attached image's thumbnail sits on a light tile in the dark theme (a transparent
    drawing in dark ink stays legible)."""
    context = chromium.new_context(viewport=PHONE, color_scheme="dark")
    try:
        page = context.new_page()
        sign_in(page, live_server, live_server.username)
        choose_language(page, "en")
        page.goto(f"{live_server.url}/projects/{SLUG}/tasks/2")
        drawing = tmp_path / "diagram.png"
        drawing.write_bytes(png(320, 200, (20, 30, 40)))
        page.get_by_label("Attach files").first.set_input_files([str(drawing)])
        page.locator("form.attach-form button[type=submit]").click()
        thumb = page.locator(".attachment__thumb").first
        expect(thumb).to_be_visible()
        assert _hex(thumb.evaluate("t => getComputedStyle(t).backgroundColor")) == "#d0d7de"
        assert _overflow(page) == 0
        page.screenshot(path=str(artifacts / "dark-390-en-attachment.png"), full_page=True)
    finally:
        context.close()
