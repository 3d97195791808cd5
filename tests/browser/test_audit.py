"""A site admin reads the audit log (filtered) and asks the permission explainer why Ada
may not edit a task, and what if she were a member; in English and Chinese, on a desktop
and at 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import create_task
from tests.support.browser import Site, Steps, choose_language, seeded_project, sign_in

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
expect = sync_api.expect

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _seed(site: Site) -> None:
    """Rosa's project "audit-demo" with one task; Ada is a viewer there."""
    with seeded_project(site, "audit-demo", "Audit demo", "viewer") as seed:
        dbsession, settings, rosa, project = seed.dbsession, seed.settings, seed.admin, seed.project
        create_task(dbsession, settings, project, rosa, {"title": "Rotate the keys"},
                    may=UNRESTRICTED)


def _both_widths(page: Any, steps: Steps, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    steps.shot(f"{name}-1366")
    page.set_viewport_size(PHONE)
    steps.shot(f"{name}-390")
    page.set_viewport_size(DESKTOP)


def test_audit_log_and_explainer(page: Any, problems: list[str], live_server: Site,
                                 artifacts: Path) -> None:
    _seed(live_server)
    steps = Steps(page, artifacts, "audit")
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, live_server.admin)
    choose_language(page, "en")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    rows = page.locator("table.audit-log tbody tr")
    expect(rows.first).to_contain_text("Signed in")
    _both_widths(page, steps, "log")

    page.get_by_label("Kind").select_option("membership.changed")
    page.get_by_role("button", name="Filter").click()
    # Only role changes are left (other browser tests on this server add their own), the
    # newest first: Ada's, in the project seeded above.
    expect(rows.filter(has_not_text="Project role changed")).to_have_count(0)
    expect(rows.first).to_contain_text("user:ada")
    steps.shot("log-filtered")

    page.get_by_role("link", name="Explain permissions").click()
    page.get_by_label("User (username)").fill(live_server.username)
    page.get_by_label("Project or task").fill("audit-demo#1")
    page.get_by_label("Permission").select_option("edit_task")
    page.get_by_label("Their own role in the project").select_option("member")
    page.get_by_role("button", name="Explain").click()
    cards = page.locator("section.explain-answer")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(
        "Ada Lovelace may not “edit_task” on /projects/audit-demo/tasks/1.")
    expect(cards.nth(1)).to_contain_text(
        "Ada Lovelace may “edit_task” on /projects/audit-demo/tasks/1.")
    _both_widths(page, steps, "explain")

    choose_language(page, "zh_CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("权限解释")
    expect(cards.first).to_contain_text("默认拒绝")
    _both_widths(page, steps, "explain-zh")
    page.get_by_role("link", name="审计日志").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("审计日志")
    expect(page.locator("table.audit-log")).to_contain_text("已登录")
    _both_widths(page, steps, "log-zh")
    choose_language(page, "en")
    assert not problems, problems
