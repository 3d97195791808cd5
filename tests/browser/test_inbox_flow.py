"""The inbox in a real browser: the bell shows an unread entry, the inbox groups two changes
of one task, opening it leads to the comment and marks it read; the task page shows its
watchers, and the comment box suggests people as one types "@李" (the keyboard chooses).
In English, Chinese and on a phone-sized screen.

Screenshots: tests/browser/artifacts/inbox-NN-*.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from taskdesk.domain import accounts, projects
from taskdesk.domain.comments import add_comment
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import create_task
from taskdesk.models import Notification, User
from taskdesk.settings import parse_settings
from tests.support.apps import app_settings
from tests.support.browser import Site, Steps, choose_language, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def _seed(site: Site) -> tuple[str, int, int]:
    """An internal project of Rosa's with a task Ada watches, a comment that mentions her,
    two unread notifications of Ada's about it, and 李雷 to mention."""
    engine = create_engine(site.database_url)
    with Session(engine) as dbsession:
        ada = dbsession.scalar(select(User).where(User.username == site.username))
        rosa = dbsession.scalar(select(User).where(User.username == site.admin))
        assert ada is not None
        assert rosa is not None
        accounts.create_user(dbsession, {"username": "lilei", "password": site.password,
                                         "display_name": "李雷"})
        settings = parse_settings(app_settings(site.database_url))
        project = projects.create_project(dbsession, rosa, {
            "slug": "inbox-demo", "name": "Inbox demo", "visibility": "internal"})
        projects.set_member(dbsession, settings, project, ada, rosa, {"role": "member"})
        task = create_task(dbsession, settings, project, rosa,
                           {"title": "Prepare the launch", "description": "Owner: @ada"},
                           may=UNRESTRICTED)
        comment = add_comment(dbsession, task, rosa,
                              {"body": "@ada could you check the `@ada` checklist?"})
        dbsession.flush()
        for index, (kind, data, comment_id) in enumerate((
                ("task.updated", {"changes": {"status": ["open", "in_progress"]}}, None),
                ("comment.added", {}, comment.id))):
            dbsession.add(Notification(
                user_id=ada.id, event_id=900_000 + index, kind=kind,
                reason="mentioned" if comment_id else "watching", project_id=project.id,
                task_id=task.id, comment_id=comment_id, actor_id=rosa.id, data=data))
        dbsession.commit()
        result = (project.slug, task.number, comment.id)
    engine.dispose()
    return result


def _notify(site: Site, kind: str, reason: str) -> None:
    """One more unread notification of Ada's about the task (as the consumer writes it)."""
    engine = create_engine(site.database_url)
    with Session(engine) as dbsession:
        ada = dbsession.scalar(select(User).where(User.username == site.username))
        rosa = dbsession.scalar(select(User).where(User.username == site.admin))
        notification = dbsession.scalar(select(Notification).where(
            Notification.user_id == ada.id).order_by(Notification.id.desc()).limit(1))
        assert notification is not None
        dbsession.add(Notification(
            user_id=ada.id, event_id=notification.event_id + 1, kind=kind, reason=reason,
            project_id=notification.project_id, task_id=notification.task_id,
            actor_id=rosa.id if rosa else None,
            data={"changes": {"priority": ["normal", "high"]}}))
        dbsession.commit()
    engine.dispose()


def _deactivate(site: Site, username: str) -> None:
    """Leave the shared site as other flows expect it (their searches for "李")."""
    engine = create_engine(site.database_url)
    with Session(engine) as dbsession:
        user = dbsession.scalar(select(User).where(User.username == username))
        if user is not None:
            user.is_active = False
            dbsession.commit()
    engine.dispose()


def test_bell_inbox_task_and_mention(page: Any, problems: list[str], live_server: Site,
                                     artifacts: Path) -> None:
    slug, number, comment_id = _seed(live_server)
    try:
        _flow(page, problems, live_server, artifacts, slug, number, comment_id)
    finally:
        _deactivate(live_server, "lilei")


def _flow(page: Any, problems: list[str], live_server: Site, artifacts: Path, slug: str,
          number: int, comment_id: int) -> None:
    steps = Steps(page, artifacts, "inbox")
    sign_in(page, live_server, live_server.username)
    choose_language(page, "en")
    bell = page.locator("a.bell")
    expect(bell.locator(".bell__count")).to_have_text("1")
    steps.shot("bell")

    bell.click()
    entry = page.locator("li.inbox__entry")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Prepare the launch")
    expect(entry).to_contain_text("mentioned you")
    expect(entry).to_contain_text("changed the status to In progress")
    steps.shot("inbox")

    entry.locator("a.inbox__link").click()
    expect(page).to_have_url(f"{live_server.url}/projects/{slug}/tasks/{number}"
                             f"#comment-{comment_id}")
    expect(page.locator("a.bell .bell__count")).to_have_count(0)
    mention = page.locator(f"#comment-{comment_id} a.mention")
    expect(mention).to_have_text("@ada")
    expect(page.locator(f"#comment-{comment_id} code")).to_have_text("@ada")
    # Watching: htmx swaps the card in place.
    watch = page.locator("#watch")
    expect(watch).to_contain_text("Rosa Admin")
    watch.get_by_role("button", name="Watch").click()
    expect(page.locator("#watch")).to_contain_text("Ada Lovelace")
    expect(page.locator("#watch").get_by_role("button", name="Unwatch")).to_be_visible()

    # The comment box suggests people who may see the task, Chinese names too.
    box = page.get_by_label("Add a comment")
    box.click()
    box.type("Thanks @李")
    listbox = page.locator("#f-body-listbox")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option").filter(has_text="李雷")).to_have_count(1)
    steps.shot("mention-suggestions")
    for _ in range(listbox.get_by_role("option").count()):
        box.press("ArrowDown")
        if "李雷" in page.locator(f"#{box.get_attribute('aria-activedescendant')}").inner_text():
            break
    box.press("Enter")
    expect(box).to_have_value("Thanks @lilei ")
    expect(listbox).to_be_hidden()
    steps.shot("task-watchers")

    # Chinese, then a phone-sized screen, with something new in the inbox.
    _notify(live_server, "task.updated", "watching")
    page.locator(".lang-switch button[value='zh_CN']").click()
    expect(page.locator("a.bell .bell__count")).to_have_text("1")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#watch")).to_contain_text("关注者")
    steps.shot("task-zh")
    box = page.get_by_label("添加评论")
    box.click()
    box.type("@李")
    expect(page.locator("#f-body-listbox")).to_be_visible()
    steps.shot("mention-zh")
    page.goto(f"{live_server.url}/me/notifications")
    expect(page.locator("h1")).to_have_text("通知")
    expect(page.locator("li.inbox__entry")).to_contain_text("修改了优先级\uff1b提到了你")
    steps.shot("inbox-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    steps.shot("inbox-390")
    page.goto(f"{live_server.url}/projects/{slug}/tasks/{number}")
    box = page.get_by_label("添加评论")
    box.click()
    box.type("@李")
    expect(page.locator("#f-body-listbox")).to_be_visible()
    steps.shot("task-390")
    choose_language(page, "en")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(f"{live_server.url}/projects/{slug}/")
    page.get_by_role("button", name="Watch project").click()
    expect(page.get_by_role("button", name="Unwatch project")).to_be_visible()
    steps.shot("project-watch")
    assert not problems, problems
