"""The whole loop as people live it, on SQLite and PostgreSQL: a comment written in the web UI
that @mentions a colleague reaches their bell, inbox and API through the real dispatcher, and
a private task never reaches someone who may not see it."""

from __future__ import annotations

from collections.abc import Callable

import webtest
from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.models import Notification
from tests.support.factories import Factory
from tests.support.web import find_form, login


def _comment(browser: webtest.TestApp, slug: str, number: int, text: str) -> None:
    page = browser.get(f"/projects/{slug}/tasks/{number}")
    form = find_form(page, "/comments/")
    form["body"] = text
    assert form.submit().status_int == 303


def test_a_mention_in_a_comment_reaches_the_bell_the_inbox_and_the_api(
    make_testapp: Callable[[], webtest.TestApp], factory: Factory,
    dispatch: Callable[[], None],
) -> None:
    writer = factory.user("lina", display_name="李娜")
    reader = factory.user("wei", display_name="Wei Zhang")
    project = factory.project(writer, slug="rocket", members={reader: "member"})
    task = factory.task(project, writer, title="Fuel valve check")
    factory.dbsession.flush()

    lina, wei = make_testapp(), make_testapp()
    assert login(lina, "lina").status_int == 303
    assert login(wei, "wei").status_int == 303
    dispatch()  # Wei hears that he was added to the project; he reads it
    inbox = wei.get("/me/notifications/")
    assert len(inbox.html.select("li.inbox__entry--unread")) == 1
    mark_all = next(f for f in inbox.forms.values()
                    if (f.action or "").endswith("/read") and "entry" not in f.fields)
    assert mark_all.submit().status_int == 303
    assert wei.get("/projects/").html.select_one("a.bell .bell__count") is None

    _comment(lina, "rocket", task.number, "@wei can you look at the valve today?")
    assert wei.get("/projects/").html.select_one("a.bell .bell__count") is None
    dispatch()  # what the worker does after the comment's commit

    count = wei.get("/projects/").html.select_one("a.bell .bell__count")
    assert count is not None
    assert count.get_text(strip=True) == "1"
    inbox = wei.get("/me/notifications/")
    unread = [" ".join(li.get_text(" ", strip=True).split())
              for li in inbox.html.select("li.inbox__entry--unread")]
    assert len(unread) == 1
    assert "Fuel valve check" in unread[0]
    assert "李娜" in unread[0]
    items = wei.get("/api/v1/me/notifications?unread=true").json["items"]
    assert [(i["kind"], i["reason"], i["task"]["title"]) for i in items] == [
        ("comment.added", "mentioned", "Fuel valve check")]
    # The writer hears nothing of her own comment.
    assert lina.get("/api/v1/me/notifications").json["items"] == []


def test_a_mention_of_someone_outside_a_private_project_tells_them_nothing(
    make_testapp: Callable[[], webtest.TestApp], factory: Factory,
    dispatch: Callable[[], None], dbsession: Session,
) -> None:
    writer = factory.user("lina")
    outsider = factory.user("olga")
    project = factory.project(writer, slug="secret")
    task = factory.task(project, writer, title="Salary review")
    factory.dbsession.flush()

    lina, olga = make_testapp(), make_testapp()
    assert login(lina, "lina").status_int == 303
    assert login(olga, "olga").status_int == 303
    _comment(lina, "secret", task.number, "@olga should not hear of this")
    dispatch()

    assert olga.get("/api/v1/me/notifications").json["items"] == []
    assert olga.get("/me/notifications/").html.select("li.inbox__entry") == []
    assert outsider.id not in set(dbsession.scalars(select(Notification.user_id)))
