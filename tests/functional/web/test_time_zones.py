"""Times in the reader's zone: rendering, "today" and "overdue", the weekly chart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import webtest
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from taskdesk.domain.comments import add_comment
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.statistics import weekly_created_completed
from taskdesk.models import User
from tests.support.factories import Factory
from tests.support.web import login

#: Sunday evening in UTC, already Monday morning in Shanghai.
MOMENT = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
NNBSP = "\u202f"  # CLDR puts a narrow no-break space before AM/PM


@pytest.fixture
def dated_task(world: Any, make_task: Callable[..., Any], dbsession: Session) -> Any:
    """A task created, updated and commented on at MOMENT."""
    task = make_task(world.project, world.manager, title="Ship it")
    comment = add_comment(dbsession, task, world.member, {"body": "Done on my side."})
    task.created_at = task.updated_at = comment.created_at = MOMENT
    dbsession.flush()
    return task


def set_zone(dbsession: Session, user: User, zone: str | None) -> None:
    user.time_zone = zone
    dbsession.flush()


def test_task_page_shows_times_in_the_readers_zone(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any, dated_task: Any,
    dbsession: Session,
) -> None:
    set_zone(dbsession, world.member, "Asia/Shanghai")
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{dated_task.number}")
    created = page.html.find("dt", string="Created").find_next("dd").find("time")
    # Eight hours later than UTC, and so on the next day.
    assert created.get_text() == f"Mar 2, 2026, 4:30{NNBSP}AM"
    assert created["datetime"] == "2026-03-01T20:30:00+00:00"
    assert created["title"] == f"Mar 2, 2026, 4:30{NNBSP}AM UTC+08:00 · Asia/Shanghai"
    comment_time = page.html.select_one(".comment__head time")
    assert comment_time.get_text() == f"Mar 2, 2026, 4:30{NNBSP}AM"
    assert "Times are shown in Asia/Shanghai (UTC+08:00)." in page.html.footer.get_text()


def test_a_reader_without_a_zone_sees_the_site_zone(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any, dated_task: Any,
) -> None:
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{dated_task.number}")
    created = page.html.find("dt", string="Created").find_next("dd").find("time")
    assert created.get_text() == f"Mar 1, 2026, 8:30{NNBSP}PM"
    assert created["datetime"] == "2026-03-01T20:30:00+00:00"
    assert "Times are shown in UTC (UTC+00:00)." in page.html.footer.get_text()


def test_the_offset_shown_is_the_one_in_force_at_that_time(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any, dated_task: Any,
    dbsession: Session,
) -> None:
    dated_task.updated_at = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    set_zone(dbsession, world.member, "Europe/Berlin")
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{dated_task.number}").html
    created = page.find("dt", string="Created").find_next("dd").find("time")
    updated = page.find("dt", string="Updated").find_next("dd").find("time")
    assert created["title"] == f"Mar 1, 2026, 9:30{NNBSP}PM UTC+01:00 · Europe/Berlin"
    assert updated["title"] == f"Jul 1, 2026, 12:00{NNBSP}PM UTC+02:00 · Europe/Berlin"


def test_chinese_reader_sees_the_chinese_format_in_their_zone(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any, dated_task: Any,
    dbsession: Session,
) -> None:
    set_zone(dbsession, world.member, "Asia/Shanghai")
    world.member.locale = "zh_CN"
    dbsession.flush()
    login_as("mia")
    page = testapp.get(f"/projects/apollo/tasks/{dated_task.number}")
    assert page.html.select_one(".comment__head time").get_text() == "2026年3月2日 04:30"
    assert "时间按 Asia/Shanghai (UTC+08:00) 显示。" in page.html.footer.get_text()


def test_task_list_shows_the_date_of_a_timestamp_in_the_readers_zone(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any, dated_task: Any,
    dbsession: Session,
) -> None:
    login_as("mia")
    row = testapp.get("/projects/apollo/").html.find("time")
    assert (row.get_text(), row["datetime"]) == ("Mar 1, 2026", "2026-03-01T20:30:00+00:00")
    set_zone(dbsession, world.member, "Asia/Shanghai")
    row = testapp.get("/projects/apollo/").html.find("time")
    assert (row.get_text(), row["datetime"]) == ("Mar 2, 2026", "2026-03-01T20:30:00+00:00")
    assert row["title"] == f"Mar 2, 2026, 4:30{NNBSP}AM UTC+08:00 · Asia/Shanghai"


def test_token_last_use_and_admin_pages_follow_the_zone(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any, dbsession: Session,
) -> None:
    from taskdesk.domain import accounts

    token, _secret = accounts.create_token(dbsession, world.admin, {"name": "ci"})
    token.created_at = token.last_used_at = MOMENT
    world.member.created_at = MOMENT
    set_zone(dbsession, world.admin, "Asia/Shanghai")
    login_as("ada")
    tokens = testapp.get("/me/tokens/").html
    assert [t.get_text() for t in tokens.find_all("time")] == [
        "Mar 2, 2026", f"Mar 2, 2026, 4:30{NNBSP}AM"]
    user_page = testapp.get(f"/admin/users/{world.member.id}").html
    assert user_page.find("dt", string="Created").find_next("dd").get_text(strip=True) == (
        f"Mar 2, 2026, 4:30{NNBSP}AM")


# -- today, this week, overdue ---------------------------------------------------------------
def zone_on_another_day(now: datetime) -> tuple[str, int]:
    """A zone whose date differs from UTC's at ``now``, and by how many days: UTC+14 is a
    day ahead from 10:00 UTC, UTC-11 a day behind until 11:00 UTC (neither has summer
    time)."""
    return ("Pacific/Kiritimati", 1) if now.hour >= 10 else ("Pacific/Pago_Pago", -1)


def dashboard_groups(page: webtest.TestResponse) -> dict[str, list[str]]:
    section = page.html.find("section", attrs={"aria-labelledby": "my-tasks"})
    return {h3.get_text(" ", strip=True).split(" (")[0]:
            [a.get_text() for a in h3.find_next("ul").find_all("a")]
            for h3 in section.find_all("h3")}


def test_overdue_follows_the_readers_date(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any,
    make_task: Callable[..., Any], dbsession: Session,
) -> None:
    now = datetime.now(UTC)
    zone, days = zone_on_another_day(now)
    utc_today = now.date()
    make_task(world.project, world.manager, title="Due yesterday (UTC)", assignee="mia",
              due_date=str(utc_today - timedelta(days=1)))
    make_task(world.project, world.manager, title="Due today (UTC)", assignee="mia",
              due_date=str(utc_today))
    login_as("mia")
    assert dashboard_groups(testapp.get("/"))["Overdue"] == ["Due yesterday (UTC)"]

    set_zone(dbsession, world.member, zone)
    groups = dashboard_groups(testapp.get("/"))
    if days == 1:  # already tomorrow there: what is due today (UTC) is late
        assert groups["Overdue"] == ["Due yesterday (UTC)", "Due today (UTC)"]
    else:  # still yesterday there: nothing is late yet
        assert "Overdue" not in groups
        assert groups["Due this week"][0] == "Due yesterday (UTC)"


def test_weekly_chart_counts_weeks_in_the_readers_zone(
    dbsession: Session, world: Any, make_task: Callable[..., Any]
) -> None:
    task = make_task(world.project, world.manager, title="Sunday night")
    task.created_at = MOMENT  # Sunday in UTC, Monday in Shanghai
    dbsession.flush()
    monday = date(2026, 3, 2)
    in_utc = weekly_created_completed(dbsession, world.project.id, today=monday, zone=UTC,
                                      weeks=2)
    assert in_utc == [(date(2026, 2, 23), 1, 0), (monday, 0, 0)]
    in_shanghai = weekly_created_completed(dbsession, world.project.id, today=monday,
                                           zone=ZoneInfo("Asia/Shanghai"), weeks=2)
    assert in_shanghai == [(date(2026, 2, 23), 0, 0), (monday, 1, 0)]


def test_weekly_chart_weeks_across_a_summer_time_change(
    dbsession: Session, world: Any, make_task: Callable[..., Any]
) -> None:
    """Berlin moves to summer time on 2026-03-29: the week from Monday 30 March starts at
    22:00 UTC on Sunday, not 23:00."""
    task = make_task(world.project, world.manager, title="Sunday 22:30 UTC")
    task.created_at = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)
    dbsession.flush()
    weeks = weekly_created_completed(dbsession, world.project.id, today=date(2026, 3, 30),
                                     zone=ZoneInfo("Europe/Berlin"), weeks=3)
    assert [created for _monday, created, _completed in weeks] == [0, 0, 1]


# -- the site's zone -------------------------------------------------------------------------
@pytest.fixture
def shanghai_site(
    spare_app: Callable[..., webtest.TestApp], spare_engine: Engine,
) -> Iterator[tuple[webtest.TestApp, Session]]:
    """An app whose INI sets taskdesk.time_zone = Asia/Shanghai, on the spare database
    (its requests commit), with a session to add rows; what the test adds is removed."""
    app = spare_app(**{"taskdesk.time_zone": "Asia/Shanghai"})
    session = Session(spare_engine)
    added: list[int] = []
    session.info["added"] = added
    try:
        yield app, session
    finally:
        session.rollback()
        session.execute(delete(User).where(User.id.in_(added)))
        session.commit()
        session.close()


def test_site_zone_applies_to_visitors_and_to_people_without_a_zone(
    shanghai_site: tuple[webtest.TestApp, Session],
) -> None:
    app, session = shanghai_site
    footer = app.get("/login").html.footer.get_text()
    assert "Times are shown in Asia/Shanghai (UTC+08:00)." in footer

    factory = Factory(session, app.app.registry.taskdesk_settings)
    user = factory.user("site-zone-reader")
    session.info["added"].append(user.id)
    session.commit()
    assert login(app, "site-zone-reader").status_int == 303
    profile = app.get("/me/")
    zone = profile.html.find("select", attrs={"name": "time_zone"})
    assert zone.find("option", selected=True).get_text() == "Site default (Asia/Shanghai)"
    assert "Times are shown in Asia/Shanghai (UTC+08:00)." in profile.html.footer.get_text()


# -- date inputs -----------------------------------------------------------------------------
@pytest.mark.parametrize(("locale", "example"), [("en", "e.g. 2026-12-31"),
                                                  ("zh_CN", "例如 2026-12-31")])
def test_date_inputs_hint_the_format_they_accept(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any, dbsession: Session,
    locale: str, example: str,
) -> None:
    """A native date picker shows the browser's own format and sends ISO dates; only where
    the browser falls back to a text field does the placeholder show, with the ISO format
    the server parses (browsers ignore ``placeholder`` and ``pattern`` on date inputs)."""
    world.member.locale = locale
    dbsession.flush()
    login_as("mia")
    new_task = testapp.get("/projects/apollo/tasks/new").html
    task_list = testapp.get("/projects/apollo/").html
    inputs = [new_task.find("input", attrs={"name": "due_date"}),
              task_list.find("input", attrs={"name": "due_after"}),
              task_list.find("input", attrs={"name": "due_before"})]
    for field in inputs:
        assert field["type"] == "date"
        assert field["placeholder"] == example
        assert field["pattern"] == r"\d{4}-\d{2}-\d{2}"
    assert not new_task.find(id="due_date-hint")


def test_a_typed_date_in_the_hinted_format_is_accepted(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any,
) -> None:
    login_as("mia")
    page = testapp.get("/projects/apollo/tasks/new")
    form = next(f for f in page.forms.values() if (f.action or "").endswith("/tasks/new"))
    form["title"] = "Typed date"
    form["due_date"] = "2026-12-31"
    shown = form.submit(status=303).follow()
    assert shown.html.find("dt", string="Due date").find_next("dd").get_text() == (
        "Dec 31, 2026")
    listed = testapp.get("/projects/apollo/", params={"due_after": "2026-12-30"})
    assert "Typed date" in listed.text


def test_history_shows_changed_due_dates_in_the_locales_format(
    testapp: webtest.TestApp, login_as: Callable[..., Any], world: Any,
    make_task: Callable[..., Any], dbsession: Session, settings: Any,
) -> None:
    from taskdesk.domain.tasks import update_task

    task = make_task(world.project, world.manager, title="Moved", due_date="2026-12-30")
    update_task(dbsession, settings, task, world.manager, {"due_date": "2026-12-31"},
                may=UNRESTRICTED)
    dbsession.flush()
    login_as("mia")
    history = testapp.get(f"/projects/apollo/tasks/{task.number}").html.select_one(".history")
    assert "Due date: Dec 30, 2026 → Dec 31, 2026" in history.get_text(" ", strip=True)
