"""Webhook pages: a project's managers keep its hooks, site admins the all-projects hooks;
adding, editing, the secret, deleting with confirmation, and the delivery log's Redeliver."""

from __future__ import annotations

from typing import Any

import pytest
import webtest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.models import Webhook, WebhookDelivery
from tests.functional.web.conftest import World
from tests.support.apps import HOST
from tests.support.receiver import Answer, Receiver, run_jobs
from tests.support.web import confirm, field_errors, flashes, form, login

HOOKS = "/projects/apollo/webhooks/"


@pytest.fixture
def browser(hooks: Any) -> webtest.TestApp:
    """A browser on the app whose allow-list admits 127.0.0.1."""
    return webtest.TestApp(hooks, extra_environ={"HTTP_HOST": HOST})


def signed_in(app: webtest.TestApp, username: str) -> webtest.TestApp:
    assert login(app, username).status_int == 303
    return app


def hooks_of(dbsession: Session, project_id: int | None) -> list[Webhook]:
    dbsession.expire_all()
    condition = (Webhook.project_id.is_(None) if project_id is None
                 else Webhook.project_id == project_id)
    return list(dbsession.scalars(select(Webhook).where(condition).order_by(Webhook.id)))


def add(page: webtest.TestResponse, url: str, *events: str, **kw: Any) -> Any:
    add_form = form(page, page.request.path)
    add_form["payload_url"] = url
    add_form["description"] = "CI 构建"
    for box in add_form.fields.get("events", []):
        box.checked = box._value in events
    return add_form.submit(**kw)


def test_a_manager_adds_a_hook_and_sees_its_secret(
        browser: webtest.TestApp, world: World, dbsession: Session) -> None:
    signed_in(browser, "manny")
    settings_page = browser.get("/projects/apollo/settings")
    assert settings_page.html.find("a", href=lambda h: h and h.endswith(HOOKS))
    page = browser.get(HOOKS)
    assert "No webhooks yet." in page.text
    answer = add(page, "http://127.0.0.1:9/ci", "task.created", "comment.added")
    assert answer.status_int == 303
    [hook] = hooks_of(dbsession, world.project.id)
    assert hook.events == ["task.created", "comment.added"]
    assert hook.description == "CI 构建"
    assert hook.created_by_id == world.manager.id
    shown = answer.follow()
    assert ("success", "Webhook added. Configure the receiver with the secret below.") in (
        flashes(shown))
    assert shown.html.find(id="webhook-secret").get_text() == hook.secret
    listing = browser.get(HOOKS)
    assert "http://127.0.0.1:9/ci" in listing.text


def test_a_loopback_url_is_refused_with_a_form_error_by_default(
        testapp: webtest.TestApp, world: World, dbsession: Session) -> None:
    signed_in(testapp, "manny")
    page = testapp.get(HOOKS)
    answer = add(page, "http://127.0.0.1:9/ci", status=400)
    assert "internal address" in field_errors(answer)["payload_url"]
    assert form(answer, answer.request.path)["payload_url"].value == "http://127.0.0.1:9/ci"
    answer = add(page, "ftp://example.com/", status=400)
    assert "http://" in field_errors(answer)["payload_url"]
    assert hooks_of(dbsession, world.project.id) == []


def test_editing_switching_off_regenerating_and_deleting(
        browser: webtest.TestApp, world: World, dbsession: Session) -> None:
    signed_in(browser, "manny")
    page = add(browser.get(HOOKS), "http://127.0.0.1:9/ci").follow()
    [hook] = hooks_of(dbsession, world.project.id)
    old_secret = hook.secret
    edit = form(page, f"/{hook.id}/")
    edit["payload_url"] = "http://127.0.0.1:9/other"
    edit["active"] = False
    saved = edit.submit().follow()
    assert ("success", "Webhook saved.") in flashes(saved)
    [hook] = hooks_of(dbsession, world.project.id)
    assert (hook.url, hook.is_active) == ("http://127.0.0.1:9/other", False)
    asked = form(saved, "/regenerate").submit()
    assert "Regenerate the secret?" in asked.text
    assert hooks_of(dbsession, world.project.id)[0].secret == old_secret
    confirm(asked).follow()
    assert hooks_of(dbsession, world.project.id)[0].secret != old_secret
    page = browser.get(f"{HOOKS}{hook.id}/")
    asked = form(page, "/delete").submit()
    assert "Delete this webhook?" in asked.text
    assert hooks_of(dbsession, world.project.id) != []
    gone = confirm(asked)
    assert gone.location.endswith(HOOKS)
    assert hooks_of(dbsession, world.project.id) == []


def test_the_delivery_log_shows_attempts_and_redelivers(
        browser: webtest.TestApp, hooks: Any, world: World, dbsession: Session,
        factory: Any) -> None:
    signed_in(browser, "manny")
    with Receiver(Answer(503, b"maintenance"), Answer(201, b"created")) as receiver:
        add(browser.get(HOOKS), receiver.url(), "task.created")
        factory.task(world.project, world.manager, title="Log me")
        run_jobs(hooks)
        [hook] = hooks_of(dbsession, world.project.id)
        page = browser.get(f"{HOOKS}{hook.id}/")
        [row] = page.html.select(".delivery-log tbody tr")
        text = " ".join(row.get_text(" ").split())
        assert "task.created" in text
        assert "Pending" in text
        assert "503" in text
        assert "maintenance" in text
        assert "1 attempt" in text
        redeliver = form(page, "/redeliver").submit()
        assert ("success", "Delivery queued: it is sent again in a moment.") in flashes(
            redeliver.follow())
        run_jobs(hooks)
    assert len(receiver.arrivals) == 2
    page = browser.get(f"{HOOKS}{hook.id}/")
    text = " ".join(page.html.select(".delivery-log tbody tr")[0].get_text(" ").split())
    assert "Delivered" in text
    assert "201" in text


def test_the_delivery_log_pages_newest_first(
        browser: webtest.TestApp, world: World, dbsession: Session) -> None:
    signed_in(browser, "manny")
    add(browser.get(HOOKS), "http://127.0.0.1:9/ci")
    [hook] = hooks_of(dbsession, world.project.id)
    for event_id in range(1, 31):
        dbsession.add(WebhookDelivery(webhook_id=hook.id, event_id=event_id,
                                      event_kind=f"task.e{event_id:02d}"))
    dbsession.flush()
    page = browser.get(f"{HOOKS}{hook.id}/")
    kinds = [c.get_text() for c in page.html.select(".delivery-log tbody tr td:nth-of-type(2)")]
    assert kinds[0] == "task.e30"
    assert len(kinds) == 25
    older = browser.get(page.html.find("a", rel="next")["href"])
    rest = [c.get_text() for c in older.html.select(".delivery-log tbody tr td:nth-of-type(2)")]
    assert rest == [f"task.e{n:02d}" for n in range(5, 0, -1)]


@pytest.mark.parametrize("username", ["mia", "vic", "olga"])
def test_people_who_do_not_manage_the_project_cannot_see_or_change_its_hooks(
        browser: webtest.TestApp, world: World, dbsession: Session, username: str) -> None:
    signed_in(browser, "manny")
    add(browser.get(HOOKS), "http://127.0.0.1:9/ci")
    [hook] = hooks_of(dbsession, world.project.id)
    other = webtest.TestApp(browser.app, extra_environ={"HTTP_HOST": HOST})
    signed_in(other, username)
    expected = 404 if username == "olga" else 403
    assert other.get(HOOKS, status="*").status_int == expected
    assert other.get(f"{HOOKS}{hook.id}/", status="*").status_int == expected
    project_page = other.get("/projects/apollo/", status="*")
    if username != "olga":
        assert not project_page.html.find("a", href=lambda h: h and h.endswith(HOOKS))


def test_a_site_admin_keeps_the_all_projects_hooks(
        browser: webtest.TestApp, world: World, dbsession: Session) -> None:
    signed_in(browser, "ada")
    admin = browser.get("/admin/")
    page = browser.get(admin.html.find("a", string="Webhooks")["href"])
    assert "Webhooks for all projects" in page.text
    add(page, "http://127.0.0.1:9/all").follow()
    [hook] = hooks_of(dbsession, None)
    assert hook.events == []
    assert browser.get(f"/admin/webhooks/{hook.id}/").status_int == 200
    # The project's own list does not show it, and a project's hook is not under /admin.
    assert "127.0.0.1:9/all" not in browser.get(HOOKS).text
    manager = webtest.TestApp(browser.app, extra_environ={"HTTP_HOST": HOST})
    signed_in(manager, "manny")
    assert manager.get("/admin/webhooks/", status="*").status_int == 403
    assert manager.get(f"{HOOKS}{hook.id}/", status="*").status_int == 404


def test_the_pages_are_translated(browser: webtest.TestApp, world: World) -> None:
    signed_in(browser, "manny")
    page = browser.get(HOOKS, headers={"Accept-Language": "zh-CN"})
    assert "添加" in page.text
    assert "Add a webhook" not in page.text
