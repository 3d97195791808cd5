"""/admin/deliveries: pending and parked events for site admins, and retrying a parked one."""

from __future__ import annotations

from typing import Any

import webtest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain.events import DISPATCH_JOB
from taskdesk.models import Event, User
from taskdesk.models.meta import utcnow
from taskdesk.queue import queue_of
from tests.support.factories import Factory
from tests.support.web import find_form, flashes


def park(dbsession: Session, factory: Factory, admin: User) -> tuple[Event, Event]:
    project = factory.project(admin, slug="relay", name="Relay")
    task = factory.task(project, admin, title="Fix the pump")
    parked = Event(kind="task.updated", project_id=project.id, task_id=task.id, data={},
                   attempts=8, last_error="SMTPServerDisconnected: Connection unexpectedly "
                   "closed <b>", parked_at=utcnow())
    pending = Event(kind="comment.added", project_id=project.id, task_id=task.id, data={})
    dbsession.add_all([parked, pending])
    dbsession.flush()
    return parked, pending


def test_an_admin_sees_parked_events_and_retries_one(
    admin_app: webtest.TestApp, admin: User, dbsession: Session, factory: Factory,
    wsgi_app: Any
) -> None:
    parked, _pending = park(dbsession, factory, admin)
    page = admin_app.get("/admin/deliveries/")
    assert "Deliveries" in page.text
    text = " ".join(page.html.select_one("dl.task-meta").get_text(" ").split())
    assert "Parked 1" in text
    assert "Pending" in text
    row = page.html.select_one("table.data tbody tr")
    assert row.select_one("code").get_text() == "task.updated"
    assert row.select_one("a")["href"].endswith("/projects/relay/tasks/1")
    assert "Connection unexpectedly closed <b>" in row.get_text()  # escaped, shown as text
    assert "<b>" not in str(row.select_one("code.error-text"))

    huey = queue_of(wsgi_app.registry).huey
    huey.flush()
    response = find_form(page, "retry").submit()  # the row's Retry button, with its CSRF token
    assert response.status_int == 303
    assert flashes(response.follow()) == [
        ("success", "The event will be delivered again in a moment.")]
    again = dbsession.execute(select(Event.parked_at, Event.attempts).where(
        Event.id == parked.id)).one()
    assert tuple(again) == (None, 0)
    assert [task.name for task in huey.pending()] == [
        queue_of(wsgi_app.registry).jobs[DISPATCH_JOB].name]
    huey.flush()

    response = admin_app.post("/admin/deliveries/retry", {
        "event": str(parked.id), "csrf_token": find_form(page, "retry")["csrf_token"].value})
    assert flashes(response.follow())[0][0] == "error"  # not parked any more
    assert huey.pending() == []


def test_retry_without_a_valid_token_changes_nothing(
    admin_app: webtest.TestApp, admin: User, dbsession: Session, factory: Factory
) -> None:
    parked, _pending = park(dbsession, factory, admin)
    admin_app.post("/admin/deliveries/retry", {"event": str(parked.id)}, status=400)
    assert dbsession.scalar(select(Event.parked_at).where(Event.id == parked.id)) is not None


def test_nothing_parked_says_so_in_chinese(admin_app: webtest.TestApp) -> None:
    page = admin_app.get("/admin/deliveries/", headers={"Accept-Language": "zh-CN"})
    assert "投递" in page.text
    assert "没有" in page.text
