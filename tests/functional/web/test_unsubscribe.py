"""The one-click link of notification mails (RFC 8058): it works without signing in, asks
first on a GET, and refuses anything but a link we signed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from sqlalchemy.orm import Session

from taskdesk.domain import preferences
from taskdesk.domain.events import Reason
from taskdesk.models import User
from taskdesk.security.unsubscribe import read_unsubscribe_token, unsubscribe_token
from tests.support.factories import Factory
from tests.support.preferences import DEFAULTS, chosen
from tests.support.web import form


@pytest.fixture
def mei(factory: Factory) -> User:
    return factory.user("mei", display_name="Mei")


def link(settings: Any, user: User, *reasons: Reason) -> str:
    return "/unsubscribe/" + unsubscribe_token(settings.session_secret, user.id, reasons)


def test_the_link_asks_first_then_turns_mail_off_without_signing_in(
    mei: User, dbsession: Session, settings: Any, testapp: webtest.TestApp,
) -> None:
    url = link(settings, mei, Reason.ASSIGNED, Reason.MENTIONED)
    page = testapp.get(url, status=200)
    assert "Stop e-mail for:" in page.text
    assert [li.text for li in page.html.select("main li")] == ["Tasks assigned to me",
                                                               "Mentions of me"]
    assert chosen(dbsession, mei) == DEFAULTS  # a GET (a link scanner) changes nothing
    done = form(page, url).submit(status=200)
    assert "Done. You will no longer get e-mail for:" in done.text
    assert chosen(dbsession, mei) == {**DEFAULTS, "assigned": "inbox", "mentioned": "inbox"}


def test_one_click_post_from_a_mail_program(
    mei: User, dbsession: Session, settings: Any, testapp: webtest.TestApp,
) -> None:
    preferences.set_channels(dbsession, mei.id, {"watching": "digest", "due": "off"})
    testapp.post(link(settings, mei, Reason.WATCHING, Reason.DUE),
                 "List-Unsubscribe=One-Click",
                 content_type="application/x-www-form-urlencoded", status=200)
    # Digest becomes inbox only; a reason switched off stays off.
    assert chosen(dbsession, mei) == {**DEFAULTS, "watching": "inbox", "due": "off"}


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature
    lambda token: token.replace("-assigned-", "-watching-"),       # the reason
    lambda token: "1" + token,                                      # the user
    lambda token: token + "/extra",
    lambda token: "",
])
def test_a_tampered_link_is_refused(
    mei: User, dbsession: Session, settings: Any, testapp: webtest.TestApp,
    tamper: Callable[[str], str],
) -> None:
    token = unsubscribe_token(settings.session_secret, mei.id, [Reason.ASSIGNED])
    url = "/unsubscribe/" + tamper(token)
    assert "This link is not valid." in testapp.get(url, status=400).text
    testapp.post(url, "List-Unsubscribe=One-Click",
                 content_type="application/x-www-form-urlencoded", status=400)
    assert chosen(dbsession, mei) == DEFAULTS


def test_a_link_signed_with_another_secret_is_refused(settings: Any, mei: User) -> None:
    token = unsubscribe_token("another-secret-" + "y" * 40, mei.id, [Reason.DUE])
    assert read_unsubscribe_token(settings.session_secret, token) is None
    assert read_unsubscribe_token("another-secret-" + "y" * 40, token) == (mei.id,
                                                                         (Reason.DUE,))


def test_the_link_page_in_chinese(mei: User, settings: Any, testapp: webtest.TestApp) -> None:
    page = testapp.get(link(settings, mei, Reason.DUE), headers={"Accept-Language": "zh-CN"})
    assert "停止以下通知的邮件：" in page.text  # noqa: RUF001
    assert "我的任务的截止日期提醒" in page.text
