"""Webhooks in a real browser: a manager refuses an internal address, adds a hook for a real
receiver on 127.0.0.1 (this server's allow-list admits it), reads the secret, sees a failed
delivery in the log and redelivers it; the pages in Chinese and on a phone-sized screen,
and the site admin's all-projects page.

Screenshots: tests/browser/artifacts/webhooks-NN-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from taskdesk import main
from taskdesk.domain import accounts
from tests.support.apps import app_settings
from tests.support.browser import PASSWORD, LiveServer, Site, Steps, choose_language, sign_in
from tests.support.databases import create_database, migrated_engine
from tests.support.receiver import Answer, Receiver, readme_verifier, run_jobs

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


@pytest.fixture(scope="module")
def hooks_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Any]]:
    """The app on its own SQLite database, allowed to deliver to 127.0.0.1, and the app
    object (its memory queue holds the jobs the test runs)."""
    for url in create_database("sqlite", tmp_path_factory):
        engine = migrated_engine(url)
        with Session(engine) as dbsession:
            accounts.create_user(dbsession, {"username": "manny", "password": PASSWORD,
                                             "display_name": "Manny 经理"})
            accounts.create_user(dbsession, {"username": "root", "password": PASSWORD,
                                             "display_name": "Rosa Admin",
                                             "is_site_admin": True})
            dbsession.commit()
        engine.dispose()
        app = main({}, **app_settings(url, **{"taskdesk.webhooks.allow": "127.0.0.1",
                                              "taskdesk.webhooks.timeout": "2"}))
        server = LiveServer(app)
        server.start()
        try:
            yield Site(server.url, username="manny", admin="root", database_url=url), app
        finally:
            server.stop()
            app.registry["dbbinds"].engine.dispose()


def in_english(page: Any, site: Site, username: str) -> None:
    sign_in(page, site, username)
    choose_language(page, "en")


def test_webhooks(page: Any, problems: list[str], hooks_site: tuple[Site, Any],
                  artifacts: Path) -> None:
    site, app = hooks_site
    steps = Steps(page, artifacts, "webhooks")
    flash = page.locator(".flash--success")
    in_english(page, site, "manny")
    page.goto(f"{site.url}/projects/new")
    page.get_by_role("textbox", name="Name", exact=True).fill("Apollo 阿波罗")
    page.get_by_label("URL name").fill("apollo")
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Add a webhook")).to_be_visible()

    # The cloud metadata address is refused where it is typed.
    page.get_by_label("Payload URL").fill("http://169.254.169.254/latest/meta-data/")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#payload_url-error")).to_contain_text("internal address")
    steps.shot("refused")

    verify = readme_verifier()
    with Receiver(Answer(500, b"receiver is restarting"), Answer(200, b"ok")) as receiver:
        page.get_by_label("Payload URL").fill(receiver.url("/taskdesk"))
        page.get_by_label("Description").fill("CI 构建")
        page.get_by_label("A task is created").check()
        page.get_by_role("button", name="Add webhook").click()
        expect(flash).to_contain_text("Webhook added")
        page.get_by_text("Show secret").click()
        secret = page.locator("#webhook-secret").inner_text()
        assert len(secret) == 64
        steps.shot("added")

        page.goto(f"{site.url}/projects/apollo/tasks/new")
        page.get_by_label("Title").fill("Launch 发射")
        page.get_by_role("button", name="Create task").click()
        run_jobs(app)
        page.goto(f"{site.url}/projects/apollo/webhooks/")
        page.get_by_role("link", name=receiver.url("/taskdesk")).click()
        log = page.locator(".delivery-log tbody tr")
        expect(log).to_have_count(1)
        expect(log.first).to_contain_text("Pending")
        expect(log.first).to_contain_text("500")
        page.get_by_text("Response body").click()
        steps.shot("failed-delivery")
        page.get_by_role("button", name="Redeliver").click()
        expect(flash).to_contain_text("Delivery queued")
        run_jobs(app)
        page.reload()
        expect(log.first).to_contain_text("Delivered")
        expect(log.first).to_contain_text("200")
        steps.shot("delivered")
    assert len(receiver.arrivals) == 2
    assert all(verify(secret, a.headers["X-Taskdesk-Signature"], a.body)
               for a in receiver.arrivals)

    # The same page in Chinese, then on a phone.
    page.locator(".lang-switch button[value='zh_CN']").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="最近的投递")).to_be_visible()
    steps.shot("hook-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    steps.shot("hook-390")
    page.goto(f"{site.url}/projects/apollo/webhooks/")
    steps.shot("list-390")
    page.set_viewport_size({"width": 1280, "height": 860})
    choose_language(page, "en")

    # Deleting asks first (a dialog with JavaScript).
    page.get_by_role("link", name=receiver.url("/taskdesk")).click()
    page.get_by_role("button", name="Delete webhook").click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    steps.shot("delete-asks")
    dialog.get_by_role("button", name="Delete webhook").click()
    expect(flash).to_have_text("Webhook deleted.")

    # The site admin's hooks for every project.
    page.context.clear_cookies()
    in_english(page, site, "root")
    page.goto(f"{site.url}/admin/")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks for all projects")).to_be_visible()
    steps.shot("admin")
    # The refused form's answer is a 400 (with the form and its error), and nothing else.
    assert problems == [f"400 {site.url}/projects/apollo/webhooks/"]
