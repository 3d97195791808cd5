"""Company sign-in in a real browser: the sign-in page offers "Sign in with Example SSO";
one click goes through the OpenID provider (a real one on a loopback port, which signs the
person in at once) and lands signed in, with the account made from the provider's profile.
The sign-in page in English and Chinese, at 1366 and 390 px.

Screenshots: tests/browser/artifacts/company-sign-in-NN-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taskdesk import main
from tests.support.apps import app_settings
from tests.support.browser import LiveServer, Steps
from tests.support.databases import create_database, migrated_engine
from tests.support.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    Person,
    Provider,
    openid_provider,
)

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with openid_provider() as running:
        yield running


@pytest.fixture(scope="module")
def sso_site(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the provider set up, on its own SQLite database; its address."""
    for url in create_database("sqlite", tmp_path_factory):
        migrated_engine(url).dispose()
        app = main({}, **app_settings(url, **{
            "taskdesk.oidc.issuer": provider.issuer, "taskdesk.oidc.name": "Example SSO",
            "taskdesk.oidc.client_id": CLIENT_ID, "taskdesk.oidc.client_secret": CLIENT_SECRET,
            "taskdesk.oidc.groups_claim": "groups",
            "taskdesk.directory.groups": "engineering -> developers",
        }))
        server = LiveServer(app)
        server.start()
        try:
            yield server.url
        finally:
            server.stop()
            app.registry["dbbinds"].engine.dispose()


def open_login(chromium: Any, site: str, locale: str, width: int) -> Any:
    context = chromium.new_context(viewport={"width": width, "height": 860}, locale=locale)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{site}/login")
    return page


def test_sign_in_with_the_company_provider(
    chromium: Any, sso_site: str, provider: Provider, artifacts: Path
) -> None:
    provider.user = Person("sub-browser", "mei.chen", "Mei Chen", "mei@example.com",
                           locale="en", groups=["engineering"])
    page = open_login(chromium, sso_site, "en-US", 1366)
    steps = Steps(page, artifacts, "company-sign-in")
    button = page.get_by_role("button", name="Sign in with Example SSO")
    expect(button).to_be_visible()
    expect(page.get_by_text("or with a password")).to_be_visible()
    steps.shot("login-en-1366")
    button.click()
    page.wait_for_url(f"{sso_site}/")
    expect(page.get_by_text("Mei Chen").first).to_be_visible()
    steps.shot("signed-in-en-1366")
    page.context.close()

    for locale, width, label, name in (
            ("zh-CN", 1366, "使用 Example SSO 登录", "login-zh-1366"),
            ("zh-CN", 390, "使用 Example SSO 登录", "login-zh-390"),
            ("en-US", 390, "Sign in with Example SSO", "login-en-390")):
        page = open_login(chromium, sso_site, locale, width)
        steps.page = page
        button = page.get_by_role("button", name=label)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width
        steps.shot(name)
        page.context.close()
