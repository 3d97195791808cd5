"""End-to-end fixtures: Debian's Chromium driven by Playwright, and the real app served by
Waitress on a free loopback port over a fresh, migrated SQLite database.

* ``chromium`` finds /usr/bin/chromium, installing it and a CJK font with apt-get when it is
  missing (root only); it skips with the reason when that cannot work. Playwright's own
  browser download (``playwright install``) is never used.
* ``live_server`` serves the app from a thread and stops it at the end of the session.
* Screenshots go to ``tests/browser/artifacts/`` (git-ignored), one per step.
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
from tests.support.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    LiveServer,
    Site,
    install_browser,
)
from tests.support.databases import create_database, migrated_engine


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium, launched by Playwright."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
    )
    reason = install_browser()
    if reason is not None:
        pytest.skip(reason)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app on a fresh SQLite database with an employee and a site admin."""
    for url in create_database("sqlite", tmp_path_factory):
        engine = migrated_engine(url)
        with Session(engine) as dbsession:
            accounts.create_user(dbsession, {"username": "ada", "password": PASSWORD,
                                             "display_name": "Ada Lovelace",
                                             "email": "ada@example.com"})
            accounts.create_user(dbsession, {"username": "root", "password": PASSWORD,
                                             "display_name": "Rosa Admin",
                                             "is_site_admin": True})
            dbsession.commit()
        engine.dispose()
        app = main({}, **app_settings(url, **{"taskdesk.projects.creators": "everyone"}))
        server = LiveServer(app)
        server.start()
        try:
            yield Site(server.url, username="ada", admin="root", database_url=url)
        finally:
            server.stop()
            app.registry["dbbinds"].engine.dispose()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The screenshot folder (emptied at the start of a run: tests/conftest.py)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies), English first, desktop-sized."""
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def problems(page: Any) -> list[str]:
    """What went wrong in the browser: script errors, console errors (e.g. a
    Content-Security-Policy violation) and failed requests with their URL."""
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(f"page error: {error}"))
    page.on("console", lambda message: found.append(f"console: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None)
    page.on("response", lambda response: found.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    return found
