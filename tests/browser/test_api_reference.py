"""The API reference in a real browser: linked from the tokens page, its operations grouped
by tag, rendered by the vendored Swagger UI under the site's Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taskdesk.api.openapi import TAGS
from tests.support.browser import Site, Steps, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def test_api_reference_is_linked_and_grouped_by_tag(page: Any, problems: list[str],
                                                    live_server: Site,
                                                    artifacts: Path) -> None:
    steps = Steps(page, artifacts, "api-reference")
    sign_in(page, live_server, live_server.username)
    page.goto(f"{live_server.url}/me/tokens")
    expect(page.locator("footer").get_by_role("link", name="API reference")).to_be_visible()
    steps.shot("tokens")
    page.get_by_role("main").get_by_role("link", name="API reference").click()
    expect(page).to_have_url(f"{live_server.url}/api/docs")
    sections = page.locator(".opblock-tag-section h3")
    expect(sections).to_have_count(len(TAGS))
    for index, (name, _text) in enumerate(TAGS):
        expect(sections.nth(index)).to_contain_text(name)
    expect(page.locator("#operations-Tasks-task_list")).to_be_visible()
    steps.shot("grouped")
    assert problems == []
