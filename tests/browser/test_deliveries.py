"""A site admin looks at event deliveries: counts, parked events, a retry; in English,
Chinese and on a phone-sized screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain import projects, tasks
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import Event, User, get_engine
from taskdesk.models.meta import utcnow
from taskdesk.settings import parse_settings
from tests.support.browser import Site, Steps, choose_language, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def park_two(site: Site) -> None:
    settings = parse_settings({"taskdesk.environment": "development"})
    engine = get_engine(site.database_url)
    try:
        with Session(engine) as dbsession:
            owner = dbsession.scalar(select(User).where(User.username == site.username))
            assert owner is not None
            project = projects.create_project(dbsession, owner, {
                "slug": "pumps", "name": "水泵维修", "visibility": "private"})
            task = tasks.create_task(dbsession, settings, project, owner,
                                     {"title": "更换二号泵的密封圈"}, may=UNRESTRICTED)
            for kind, error in (
                ("comment.added", "SMTPRecipientsRefused: {'li.na@example.com': (550, "
                 "b'5.1.1 Mailbox unavailable')}"),
                ("task.updated", "ConnectTimeout: webhook https://ci.example.com/hooks/"
                 "taskdesk did not answer within 5 s"),
            ):
                dbsession.add(Event(kind=kind, project_id=project.id, task_id=task.id,
                                    data={}, attempts=8, last_error=error,
                                    parked_at=utcnow()))
            dbsession.commit()
    finally:
        engine.dispose()


def test_deliveries_page(page: Any, problems: list[str], live_server: Site,
                         artifacts: Path) -> None:
    park_two(live_server)
    steps = Steps(page, artifacts, "deliveries")
    sign_in(page, live_server, live_server.admin)
    choose_language(page, "en")  # the admin flow leaves the site admin in Chinese
    page.goto(f"{live_server.url}/admin/deliveries/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Deliveries")
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(2)
    steps.shot("parked")

    rows.first.get_by_role("button", name="Retry").click()
    expect(page.locator(".flash--success")).to_have_text(
        "The event will be delivered again in a moment.")
    expect(rows).to_have_count(1)
    steps.shot("retried")

    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("通知投递")
    expect(rows.first.get_by_role("button", name="重试")).to_be_visible()
    steps.shot("chinese")

    page.set_viewport_size({"width": 390, "height": 844})
    steps.shot("phone")
    assert problems == []
