"""My profile: details and language, password change, signing out other sessions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.models import AuthSession, User
from taskdesk.security.passwords import verify_password
from tests.support.factories import Factory
from tests.support.web import field_errors, flashes, form, is_signed_in, login, post

SignedIn = Callable[[str], webtest.TestApp]
NEW_PASSWORD = "my new long password"


@pytest.fixture
def user(factory: Factory) -> User:
    return factory.user("mei", display_name="Mei")


def fresh(dbsession: Session, user: User) -> User:
    dbsession.expire_all()
    row = dbsession.get(User, user.id)
    assert row is not None
    return row


def sessions_of(dbsession: Session, user: User) -> int:
    return dbsession.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)
    ) or 0


@pytest.mark.parametrize("path", ["/me/", "/me/tokens/"])
def test_anonymous_is_sent_to_sign_in(testapp: webtest.TestApp, path: str) -> None:
    response = testapp.get(path, status=303)
    assert response.location.startswith("http://taskdesk.test/login?next=")


def test_anonymous_post_is_refused(testapp: webtest.TestApp) -> None:
    post(testapp, "/me/profile", {"display_name": "Nobody"}, status=403)


def test_profile_page_shows_current_values(app: webtest.TestApp) -> None:
    profile = form(app.get("/me/"), "/me/profile")
    assert profile["display_name"].value == "Mei"
    assert profile["email"].value == "mei@example.com"
    assert profile["locale"].value == ""
    assert [value for value, _selected, _text in profile["locale"].options] == [
        "", "en", "zh_CN"]


def test_update_profile(user: User, dbsession: Session, app: webtest.TestApp) -> None:
    page = form(app.get("/me/"), "/me/profile")
    page["display_name"] = "Mei 美"
    page["email"] = "mei.new@example.com"
    response = page.submit(status=303)
    assert response.location == "http://taskdesk.test/me"
    assert flashes(response.follow()) == [("success", "Your profile was saved.")]
    user = fresh(dbsession, user)
    assert (user.display_name, user.email, user.locale) == ("Mei 美", "mei.new@example.com",
                                                            None)


def test_choosing_chinese_translates_the_next_page_and_its_message(
    user: User, dbsession: Session, app: webtest.TestApp
) -> None:
    page = form(app.get("/me/"), "/me/profile")
    page["locale"] = "zh_CN"
    shown = page.submit(status=303).follow()
    assert fresh(dbsession, user).locale == "zh_CN"
    assert shown.html.select_one("html")["lang"] == "zh-CN"
    assert shown.html.select_one("h1").contents[0].strip() == "个人资料"
    assert flashes(shown) == [("success", "个人资料已保存。")]
    back = form(shown, "/me/profile")
    back["locale"] = "en"
    shown = back.submit(status=303).follow()
    assert flashes(shown) == [("success", "Your profile was saved.")]
    assert shown.html.select_one("html")["lang"] == "en"


def test_invalid_profile_keeps_input_and_saves_nothing(
    user: User, dbsession: Session, app: webtest.TestApp
) -> None:
    page = form(app.get("/me/"), "/me/profile")
    page["display_name"] = "   "
    page["email"] = "mei at example"
    page["locale"] = "zh_CN"
    response = page.submit(status=400)
    assert field_errors(response) == {"display_name": "This field is required.",
                                      "email": "Must be an email address."}
    again = form(response, "/me/profile")
    assert (again["email"].value, again["locale"].value) == ("mei at example", "zh_CN")
    user = fresh(dbsession, user)
    assert (user.display_name, user.email, user.locale) == ("Mei", "mei@example.com", None)


def test_forged_locale_is_refused(user: User, dbsession: Session, app: webtest.TestApp) -> None:
    response = post(app, "/me/profile", {"display_name": "Mei", "locale": "fr"}, status=400)
    assert field_errors(response) == {"locale": "Must be one of: en, zh_CN."}
    assert fresh(dbsession, user).locale is None


def test_change_password_keeps_this_session_only(
    user: User, dbsession: Session, app: webtest.TestApp, signed_in: SignedIn,
    make_testapp: Callable[[], webtest.TestApp],
) -> None:
    other = signed_in("mei")
    page = form(app.get("/me/"), "/me/password")
    page["current_password"] = Factory.PASSWORD
    page["new_password"] = NEW_PASSWORD
    page["new_password_confirm"] = NEW_PASSWORD
    response = page.submit(status=303).follow()
    assert flashes(response) == [
        ("success", "Your password was changed; your other sessions have ended.")]
    assert is_signed_in(app)
    assert not is_signed_in(other)
    assert verify_password(fresh(dbsession, user).password_hash, NEW_PASSWORD)[0]
    assert login(make_testapp(), "mei", NEW_PASSWORD).status_int == 303


@pytest.mark.parametrize(("current", "new", "confirm", "errors"), [
    ("wrong password!", NEW_PASSWORD, NEW_PASSWORD,
     {"current_password": "The current password is wrong."}),
    (Factory.PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x",
     {"new_password_confirm": "The two new passwords are not the same."}),
    (Factory.PASSWORD, "short", "short", {"new_password": "Must be at least 10 characters."}),
])
def test_change_password_refused(
    user: User, dbsession: Session, app: webtest.TestApp, signed_in: SignedIn,
    current: str, new: str, confirm: str, errors: dict[str, str],
) -> None:
    other = signed_in("mei")
    page = form(app.get("/me/"), "/me/password")
    page["current_password"] = current
    page["new_password"] = new
    page["new_password_confirm"] = confirm
    response = page.submit(status=400)
    assert field_errors(response) == errors
    again = form(response, "/me/password")
    assert [again[name].value for name in
            ("current_password", "new_password", "new_password_confirm")] == ["", "", ""]
    assert verify_password(fresh(dbsession, user).password_hash, Factory.PASSWORD)[0]
    assert is_signed_in(other)


def test_sign_out_all_other_sessions(
    user: User, dbsession: Session, app: webtest.TestApp, signed_in: SignedIn
) -> None:
    others = [signed_in("mei"), signed_in("mei")]
    page = app.get("/me/")
    assert "You are signed in on 2 other browsers or devices." in page.text
    response = form(page, "/me/sessions").submit(status=303).follow()
    assert flashes(response) == [("success", "You were signed out of all other sessions.")]
    assert "You are signed in only here." in response.text
    assert not [f for f in response.forms.values() if f.action.endswith("/me/sessions")]
    assert not any(is_signed_in(other) for other in others)
    assert is_signed_in(app)
    assert sessions_of(dbsession, user) == 1


def test_one_other_session_is_singular(app: webtest.TestApp, signed_in: SignedIn) -> None:
    signed_in("mei")
    assert "You are signed in on 1 other browser or device." in app.get("/me/").text


def test_profile_in_chinese(factory: Factory, login_as: Callable[..., webtest.TestApp]) -> None:
    factory.user("wang", display_name="王芳", locale="zh_CN")
    app = login_as("wang")
    page = app.get("/me/")
    assert page.html.select_one("title").text == "个人资料 · Taskdesk"
    labels = [label.text.strip() for label in page.html.select("form label")]
    assert {"显示名称 *", "电子邮箱", "语言", "当前密码", "新密码"} <= set(labels)
    password = form(page, "/me/password")
    password["current_password"] = "wrong password!"
    password["new_password"] = password["new_password_confirm"] = NEW_PASSWORD
    assert field_errors(password.submit(status=400)) == {"current_password": "当前密码不正确。"}
