"""My profile's time zone: chosen from a grouped list, cleared back to the site's, checked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest
from sqlalchemy.orm import Session

from taskdesk.models import User
from tests.support.factories import Factory
from tests.support.web import field_errors, flashes, form, post


@pytest.fixture
def user(factory: Factory) -> User:
    return factory.user("mei", display_name="Mei")


def stored_zone(dbsession: Session, user: User) -> str | None:
    dbsession.expire_all()
    row = dbsession.get(User, user.id)
    assert row is not None
    return row.time_zone


def footer(page: webtest.TestResponse) -> str:
    return str(page.html.footer.get_text(" ", strip=True))


def test_the_list_starts_with_the_site_default_then_the_common_zones(
    app: webtest.TestApp,
) -> None:
    select = app.get("/me/").html.find("select", attrs={"name": "time_zone"})
    first = select.find("option")
    assert (first["value"], first.get_text()) == ("", "Site default (UTC)")
    assert first.has_attr("selected")
    groups = [group["label"] for group in select.find_all("optgroup")]
    assert groups[0] == "Common time zones"
    assert groups[-1] == "Other time zones"
    assert {"Asia", "Europe", "Americas", "Pacific Ocean"} <= set(groups)
    common = {option["value"]: option.get_text()
              for option in select.find("optgroup").find_all("option")}
    assert common["Asia/Shanghai"] == "Shanghai (UTC+08:00)"
    assert common["UTC"] == "UTC"
    asia = select.find("optgroup", label="Asia").find_all("option")
    assert "Asia/Kathmandu" in [option["value"] for option in asia]


def test_choose_and_clear_my_zone(user: User, dbsession: Session, app: webtest.TestApp) -> None:
    page = form(app.get("/me/"), "/me/profile")
    page["time_zone"] = "Asia/Shanghai"
    shown = page.submit(status=303).follow()
    assert flashes(shown) == [("success", "Your profile was saved.")]
    assert stored_zone(dbsession, user) == "Asia/Shanghai"
    assert "Times are shown in Asia/Shanghai (UTC+08:00)." in footer(shown)
    # The page offers Shanghai twice (common, Asia); it is selected once.
    selected = shown.html.find("select", attrs={"name": "time_zone"}).find_all(
        "option", selected=True)
    assert [option["value"] for option in selected] == ["Asia/Shanghai"]

    again = form(shown, "/me/profile")
    assert again["time_zone"].value == "Asia/Shanghai"
    again["time_zone"] = ""
    shown = again.submit(status=303).follow()
    assert stored_zone(dbsession, user) is None
    assert "Times are shown in UTC (UTC+00:00)." in footer(shown)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "asia/shanghai", "+08:00", "x" * 300])
def test_unknown_zone_is_a_form_error(
    user: User, dbsession: Session, app: webtest.TestApp, zone: str
) -> None:
    page = form(app.get("/me/"), "/me/profile")
    page["display_name"] = "Mei Li"
    page["time_zone"].force_value(zone)
    response = page.submit(status=400)
    assert field_errors(response) == {
        "time_zone": "Choose a time zone from the list, e.g. Asia/Shanghai."}
    select = response.html.find("select", attrs={"name": "time_zone"})
    assert select["aria-invalid"] == "true"
    dbsession.expire_all()
    row = dbsession.get(User, user.id)
    assert row is not None
    assert (row.display_name, row.time_zone) == ("Mei", None)


def test_every_listed_zone_is_accepted(user: User, dbsession: Session,
                                       app: webtest.TestApp) -> None:
    """What the list offers and what the profile accepts are the same names."""
    select = app.get("/me/").html.find("select", attrs={"name": "time_zone"})
    offered = {option["value"] for option in select.find_all("option")} - {""}
    assert len(offered) > 300
    for zone in ("Etc/GMT-8", "America/Argentina/Buenos_Aires", "Pacific/Chatham"):
        assert zone in offered
        post(app, "/me/profile", {"time_zone": zone}, status=303)
        assert stored_zone(dbsession, user) == zone


def test_time_zone_list_in_chinese(factory: Factory,
                                   login_as: Callable[..., webtest.TestApp]) -> None:
    factory.user("wang", display_name="王芳", locale="zh_CN", time_zone="Asia/Shanghai")
    page = login_as("wang").get("/me/")
    select = page.html.find("select", attrs={"name": "time_zone"})
    assert page.html.find("label", attrs={"for": "f-time_zone"}).get_text() == "时区"
    assert select.find("option").get_text() == "站点默认（UTC）"  # noqa: RUF001
    assert select.find("optgroup")["label"] == "常用时区"
    assert select.find("option", selected=True).get_text() == "上海 (UTC+08:00)"
    assert "亚洲" in [group["label"] for group in select.find_all("optgroup")]
    assert "时间按 Asia/Shanghai (UTC+08:00) 显示。" in footer(page)
    response = post(login_as("wang"), "/me/profile",
                    {"display_name": "王芳", "time_zone": "Beijing"}, status=400)
    assert field_errors(response) == {
        "time_zone": "请从列表中选择时区，例如 Asia/Shanghai。"}  # noqa: RUF001
