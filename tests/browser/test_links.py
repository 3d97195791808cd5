"""Links between tasks in a real browser: Ada links a task to the task blocking it and to a
task of another project (htmx swaps the Links section in place), is told why a self link is
refused, sees the "Blocked by" notice, the badge on the list and the board and the filter;
a link Rosa made to a task of a project Ada may not see never shows. In English, Chinese and
on a phone-sized screen.

Screenshots: tests/browser/artifacts/links-NN-*.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taskdesk.domain import projects
from taskdesk.domain.links import add_link
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import create_task
from tests.support.browser import Site, Steps, choose_language, sign_in, site_session

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect


def _seed(site: Site) -> None:
    """Rosa's project "links-demo" (Ada a member) with three tasks, "links-ops" (Ada a
    viewer) with one, and "links-secret" (Ada nothing) whose task blocks task #2."""
    with site_session(site) as (dbsession, settings, ada, rosa):
        made = {}
        for slug, name, role, titles in (
                ("links-demo", "Links demo", "member",
                 ("Design the API", "Build the mobile client", "Write the user guide")),
                ("links-ops", "Operations", "viewer", ("Provision the servers",)),
                ("links-secret", "Secret", None, ("Hidden vendor contract",))):
            project = projects.create_project(dbsession, rosa, {"slug": slug, "name": name})
            if role:
                projects.set_member(dbsession, settings, project, ada, rosa, {"role": role})
            made[slug] = [create_task(dbsession, settings, project, rosa, {"title": title},
                                      may=UNRESTRICTED) for title in titles]
        add_link(dbsession, made["links-demo"][1], rosa,
                 {"kind": "blocked_by", "task": "links-secret#1"})


def _add(page: Any, kind: str, reference: str) -> None:
    section = page.locator("#links")
    section.locator("select[name=kind]").select_option(kind)
    section.locator("input[name=task]").fill(reference)
    section.locator("form.link-form button[type=submit]").click()


def test_link_tasks_and_see_what_blocks(page: Any, problems: list[str], live_server: Site,
                                        artifacts: Path) -> None:
    _seed(live_server)
    steps = Steps(page, artifacts, "links")
    sign_in(page, live_server, live_server.username)
    choose_language(page, "en")
    url = f"{live_server.url}/projects/links-demo/tasks/2"
    page.goto(url)
    links = page.locator("#links")
    # Rosa's link to the secret task is not there, and blocks nothing Ada can see.
    expect(links).to_contain_text("No links to other tasks.")
    expect(page.locator(".notice--blocked")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Hidden vendor contract")

    _add(page, "blocked_by", "#1")
    expect(page.locator(".notice--blocked")).to_contain_text("Blocked by #1 Design the API")
    expect(page.locator("#flash")).to_contain_text("Link added.")
    _add(page, "relates_to", "links-ops#1")
    expect(links.locator(".link-list li")).to_have_count(2)
    expect(links).to_contain_text("links-ops#1 Provision the servers")
    # htmx swapped the section: the page was not reloaded (the URL has no #links).
    assert page.url == url
    _add(page, "blocks", "#2")
    expect(page.locator(".flash--error")).to_contain_text("A task cannot be linked to itself.")
    steps.shot("task")

    page.goto(f"{live_server.url}/projects/links-demo/")
    row = page.locator("tbody tr").filter(has_text="Build the mobile client")
    expect(row.locator(".badge--blocked")).to_have_text("Blocked by a task")
    expect(page.locator("tbody .badge--blocked")).to_have_count(1)
    page.get_by_label("Blocked by a task").select_option("true")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    steps.shot("list-blocked")
    page.goto(f"{live_server.url}/projects/links-demo/board")
    expect(page.locator("#card-2 .badge--blocked")).to_be_visible()
    steps.shot("board")

    # The blocker's side, then Chinese.
    page.goto(f"{live_server.url}/projects/links-demo/tasks/1")
    expect(page.locator("#links")).to_contain_text("Blocks #2 Build the mobile client")
    choose_language(page, "zh_CN")
    page.goto(url)
    expect(page.locator(".notice--blocked")).to_contain_text("受阻于")
    expect(page.locator("#links-heading")).to_contain_text("关联")
    steps.shot("task-zh")
    page.goto(f"{live_server.url}/projects/links-demo/")
    expect(page.locator("tbody .badge--blocked")).to_have_text("受其他任务阻塞")
    steps.shot("list-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    steps.shot("task-390")
    page.goto(f"{live_server.url}/projects/links-demo/board")
    steps.shot("board-390")

    # Remove a link (htmx), back in English.
    choose_language(page, "en")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(url)
    page.locator("#links li").filter(has_text="Design the API").get_by_role(
        "button", name="Remove").click()
    expect(page.locator(".notice--blocked")).to_have_count(0)
    expect(page.locator("#links .link-list li")).to_have_count(1)
    steps.shot("removed")
    assert not problems, problems
