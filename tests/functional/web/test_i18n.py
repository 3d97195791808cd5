"""Both languages: negotiation, the language switcher, translated pages, Chinese text."""

from __future__ import annotations

import pytest
from pyramid.i18n import make_localizer
from sqlalchemy import select

from taskdesk.i18n import LOCALE_DIR
from taskdesk.models import User
from tests.support.web import find_form


@pytest.fixture(scope="module")
def chinese():
    localizer = make_localizer("zh_CN", [str(LOCALE_DIR)])
    return lambda message: localizer.translate(message, domain="taskdesk")


def _nav(page):
    return [a.get_text() for a in page.html.find("nav", class_="site-nav").find_all("a")]


def test_accept_language_chooses_chinese(testapp, login_as, world, chinese):
    login_as("mia")
    page = testapp.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert page.html.find("html")["lang"] == "zh-CN"
    assert chinese("Dashboard") != "Dashboard"  # the catalog translates it
    assert _nav(page) == [chinese("Dashboard"), chinese("Projects")]
    page = testapp.get("/", headers={"Accept-Language": "en-GB"})
    assert page.html.find("html")["lang"] == "en"
    assert _nav(page) == ["Dashboard", "Projects"]


def test_anonymous_language_switch_uses_a_cookie(testapp, chinese):
    page = testapp.get("/login")
    form = find_form(page, "/language")
    response = form.submit("locale", index=1)  # the 中文 button
    assert response.status_int == 303
    assert response.location == "http://taskdesk.test/login"
    assert "taskdesk_locale=zh_CN" in response.headers["Set-Cookie"]
    page = response.follow()
    assert page.html.find("html")["lang"] == "zh-CN"
    assert page.html.find("h1").get_text() == chinese("Sign in")
    # The cookie wins over the browser's Accept-Language.
    assert testapp.get("/login", headers={"Accept-Language": "en"}).html.find(
        "html")["lang"] == "zh-CN"


def test_signed_in_language_switch_is_stored_in_the_profile(testapp, login_as, world,
                                                            dbsession, chinese):
    login_as("mia")
    page = testapp.get("/projects")
    page = find_form(page, "/language").submit("locale", index=1).follow()
    assert page.request.path == "/projects"
    assert page.html.find("h1").get_text() == chinese("Projects")
    dbsession.expire_all()
    assert dbsession.scalar(select(User.locale).where(User.id == world.member.id)) == "zh_CN"
    # The preference beats Accept-Language, also in a fresh browser.
    testapp.reset()
    login_as("mia")
    assert testapp.get("/", headers={"Accept-Language": "en"}).html.find(
        "html")["lang"] == "zh-CN"


def test_language_switch_refuses_foreign_redirects_and_unknown_locales(testapp):
    from tests.support.web import csrf_token

    token = csrf_token(testapp)
    response = testapp.post("/language", {"locale": "fr", "next": "//evil.example/",
                                          "csrf_token": token})
    assert response.location == "http://taskdesk.test/"
    assert "taskdesk_locale" not in response.headers.get("Set-Cookie", "")


def test_chinese_pages_show_translated_workflow_and_errors(testapp, login_as, world,
                                                           make_task, chinese):
    make_task(world.project, world.manager, title="中文标题", status="in_progress")
    login_as("mia")
    zh = {"Accept-Language": "zh-CN"}
    page = testapp.get("/projects/apollo/", headers=zh)
    assert "中文标题" in page.text
    assert chinese("In progress") in page.html.select("tbody tr")[0].get_text()
    form = find_form(testapp.get("/projects/apollo/tasks/new", headers=zh), "/tasks/new")
    form["title"] = ""
    page = form.submit(headers=zh, status=400)
    assert chinese("This field is required.") != "This field is required."
    assert chinese("This field is required.") in page.text


def test_board_cards_in_chinese(testapp, login_as, world, make_task):
    task = make_task(world.project, world.manager, title="卡片", due_date="2030-05-06")
    login_as("mia")
    page = testapp.get("/projects/apollo/board", headers={"Accept-Language": "zh-CN"})
    card = page.html.find("li", id=f"card-{task.number}")
    assert "2030年5月6日 截止" in card.get_text(" ", strip=True)
    label = card.find("label", attrs={"for": f"move-{task.number}"})
    assert label.get_text() == f"#{task.number} 的状态"
    selected = card.find("option", selected=True)
    assert (selected["value"], selected.get_text()) == ("open", "待处理")
    assert card.find("button").get_text() == "移动"
