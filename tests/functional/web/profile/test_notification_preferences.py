"""The profile's notification section: one channel per kind of notification."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest
from sqlalchemy.orm import Session

from taskdesk.models import User
from tests.support.factories import Factory
from tests.support.preferences import CHANNELS, DEFAULTS, chosen
from tests.support.web import field_errors, flashes, form


@pytest.fixture
def mei(factory: Factory) -> User:
    return factory.user("mei", display_name="Mei")


def test_profile_shows_and_saves_the_choices(
    mei: User, dbsession: Session, login_as: Callable[..., webtest.TestApp],
) -> None:
    app = login_as("mei")
    page = app.get("/me/")
    section = page.html.find(id="notifications")
    assert "Inbox only" in section.text
    assert "Daily e-mail digest" in section.text
    assert "Not at all, not even in your inbox." in section.text
    # No mail host in this app: the page says e-mail choices wait in the inbox.
    assert "This site sends no e-mail at the moment" in section.text
    choices = form(page, "/me/notification-preferences")
    assert {name: choices[name].value for name in DEFAULTS} == DEFAULTS
    assert [value for value, _s, _t in choices["watching"].options] == CHANNELS
    assert section.find("label", attrs={"for": "f-watching"}).text == (
        "Changes to tasks and projects I watch")

    choices["watching"] = "digest"
    choices["assigned"] = "inbox"
    choices["member"] = "off"
    saved = choices.submit()
    assert saved.status_int == 303
    assert saved.location.endswith("/me/#notifications")
    assert flashes(saved.follow()) == [("success", "Your notification choices were saved.")]
    assert chosen(dbsession, mei) == {**DEFAULTS, "watching": "digest", "assigned": "inbox",
                                      "member": "off"}
    again = form(app.get("/me/"), "/me/notification-preferences")
    assert again["watching"].value == "digest"


def test_a_bad_choice_is_refused_on_the_form(
    mei: User, dbsession: Session, login_as: Callable[..., webtest.TestApp],
) -> None:
    app = login_as("mei")
    choices = form(app.get("/me/"), "/me/notification-preferences")
    choices["watching"].force_value("loud")
    choices["assigned"] = "digest"
    refused = choices.submit(status=400)
    assert field_errors(refused) == {"watching": "Must be one of: inbox, email, digest, off."}
    assert chosen(dbsession, mei) == DEFAULTS


def test_the_section_in_chinese(mei: User, dbsession: Session,
                                login_as: Callable[..., webtest.TestApp]) -> None:
    mei.locale = "zh_CN"
    dbsession.flush()
    section = login_as("mei").get("/me/").html.find(id="notifications")
    assert section.find("h2").text == "通知"
    assert "每日邮件摘要" in section.text
    assert "仅收件箱" in section.text
    assert section.find("label", attrs={"for": "f-due"}).text == "我的任务的截止日期提醒"


