"""Activity feeds in a real browser: Ada reads the project's feed (Rosa's quick changes to one
task folded into one entry), filters it by person and kind, reads her own feed, makes her
secret Atom feed address on her profile and opens it. In English, Chinese and on a
phone-sized screen.

Screenshots: tests/browser/artifacts/activity-NN-*.png.
"""

from __future__ import annotations

import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from taskdesk.domain.comments import add_comment
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import create_task, update_task
from tests.support.browser import Site, Steps, choose_language, seeded_project, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def _seed(site: Site) -> None:
    """Rosa's project "feed-demo" (Ada a member): two tasks, three quick changes by Rosa to
    the first, a comment by Ada."""
    with seeded_project(site, "feed-demo", "Feed demo 动态") as seed:
        dbsession, settings, ada, rosa, project = seed
        first, second = (create_task(dbsession, settings, project, rosa, {"title": title},
                                     may=UNRESTRICTED)
                         for title in ("Prepare the launch plan", "Book the venue"))
        dbsession.flush()
        for values in ({"status": "in_progress"}, {"priority": "high"},
                       {"assignee": site.username}):
            update_task(dbsession, settings, first, rosa, values, may=UNRESTRICTED)
            dbsession.flush()
        add_comment(dbsession, second, ada, {"body": "I will call them tomorrow."})


def test_read_filter_and_subscribe(page: Any, problems: list[str], live_server: Site,
                                   artifacts: Path) -> None:
    _seed(live_server)
    steps = Steps(page, artifacts, "activity")
    sign_in(page, live_server, live_server.username)
    choose_language(page, "en")
    page.set_viewport_size({"width": 1366, "height": 860})
    page.goto(f"{live_server.url}/projects/feed-demo/")
    page.get_by_role("link", name="Activity").click()
    entries = page.locator(".activity-feed__entry")
    folded = entries.filter(has_text="Rosa Admin changed #1 Prepare the launch plan")
    expect(folded).to_have_count(1)
    expect(folded).to_contain_text("3 changes")
    expect(folded).to_contain_text("Priority")
    steps.shot("project")

    page.get_by_label("Person").fill("ada")
    page.get_by_label("Kind").select_option("comments")
    page.get_by_role("button", name="Apply").click()
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Ada Lovelace commented on #2 Book the venue")
    steps.shot("project-filtered")

    page.goto(f"{live_server.url}/me/activity")
    expect(page.locator(".activity-feed__entry").first).to_contain_text("Feed demo 动态")
    steps.shot("mine")

    page.get_by_role("link", name="Follow it in a feed reader").click()
    page.get_by_role("button", name="Create a feed address").click()
    address = page.locator("#feed-url").input_value()
    steps.shot("address")
    with urllib.request.urlopen(address) as answer:  # noqa: S310 - the local test server
        assert answer.headers["Content-Type"].startswith("application/atom+xml")
        feed = ET.fromstring(answer.read())  # noqa: S314 - our own feed, from our server
    titles = [e.text for e in feed.iter("{http://www.w3.org/2005/Atom}title")]
    assert "Ada Lovelace commented on #2 Book the venue" in titles
    page.goto(f"{live_server.url}/me/")
    expect(page.locator("#feed-heading")).to_be_visible()
    page.locator("#feed-heading").scroll_into_view_if_needed()
    steps.shot("profile")

    choose_language(page, "zh_CN")
    page.goto(f"{live_server.url}/projects/feed-demo/activity")
    expect(page.locator(".activity-feed__folded").first).to_contain_text("3 处修改")
    steps.shot("project-zh")
    page.goto(f"{live_server.url}/me/activity")
    steps.shot("mine-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/projects/feed-demo/activity")
    steps.shot("project-zh-390")
    choose_language(page, "en")
    page.goto(f"{live_server.url}/me/activity")
    steps.shot("mine-390")
    page.goto(f"{live_server.url}/projects/feed-demo/activity")
    steps.shot("project-390")
    assert not problems, problems
