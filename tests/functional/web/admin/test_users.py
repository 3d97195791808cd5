"""Admin: the users list, search, creation and the actions on one user."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.models import AuthSession, User
from taskdesk.security.passwords import verify_password
from tests.support.factories import Factory
from tests.support.web import confirm, field_errors, flashes, form, is_signed_in, login, post

SignedIn = Callable[[str], webtest.TestApp]


def usernames_listed(page: webtest.TestResponse) -> list[str]:
    return [a.text for a in page.html.select("table.data tbody td:first-child a")]


def meta(page: webtest.TestResponse) -> dict[str, str]:
    """The term -> description pairs of the first description list on ``page``."""
    terms = page.html.select("dl.task-meta dt")
    return {dt.text.strip(): dt.find_next_sibling("dd").text.strip() for dt in terms}


def fresh(dbsession: Session, user: User) -> User:
    """``user`` as the database has it now (the app changed it in its own session)."""
    dbsession.expire_all()
    row = dbsession.get(User, user.id)
    assert row is not None
    return row


# -- access -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/admin/", "/admin/users/", "/admin/users/new",
                                  "/admin/groups/", "/admin/groups/new"])
def test_anonymous_is_sent_to_sign_in(testapp: webtest.TestApp, path: str) -> None:
    response = testapp.get(path, status=303)
    assert response.location == f"http://taskdesk.test/login?next={path.replace('/', '%2F')}"


def test_anonymous_post_is_refused(
    factory: Factory, dbsession: Session, testapp: webtest.TestApp
) -> None:
    target = factory.user("target")
    page = post(testapp, f"/admin/users/{target.id}/deactivate", {}, status=403)
    assert "Please sign in" in page.text
    assert fresh(dbsession, target).is_active


def test_ordinary_user_gets_403_everywhere(
    factory: Factory, dbsession: Session, login_as: Callable[..., webtest.TestApp]
) -> None:
    target = factory.user("target")
    factory.user("mallory")
    app = login_as("mallory")
    for path in ("/admin/", "/admin/users/", "/admin/users/new", f"/admin/users/{target.id}/"):
        page = app.get(path, status=403)
        assert "You do not have permission to do this." in page.text
    for action, data in (("deactivate", {}), ("admin", {"is_site_admin": "true"}),
                         ("password", {"password": "a brand new password"}),
                         ("end-sessions", {})):
        post(app, f"/admin/users/{target.id}/{action}", data, status=403)
    post(app, "/admin/users/new", {"username": "sneaky", "display_name": "Sneaky",
                                   "password": "long enough password"}, status=403)
    target = fresh(dbsession, target)
    assert target.is_active
    assert not target.is_site_admin
    assert verify_password(target.password_hash, Factory.PASSWORD)[0]
    assert dbsession.scalar(select(User).where(User.username == "sneaky")) is None


def test_admin_nav_link_only_for_admins(
    factory: Factory, admin_app: webtest.TestApp, signed_in: SignedIn
) -> None:
    assert 'href="http://taskdesk.test/admin"' in admin_app.get("/me/").text
    factory.user("plain")
    assert 'href="http://taskdesk.test/admin"' not in signed_in("plain").get("/me/").text


def test_unknown_user_is_404(admin_app: webtest.TestApp) -> None:
    admin_app.get("/admin/users/999999/", status=404)
    admin_app.get("/admin/users/abc/", status=404)


# -- list and search ----------------------------------------------------------------------------

def test_overview_counts(factory: Factory, admin_app: webtest.TestApp) -> None:
    factory.user("gone", active=False)
    page = admin_app.get("/admin/")
    assert meta(page) == {"All users": "2", "Active": "1", "Site admins": "1", "All groups": "0"}


def test_search_by_username_and_display_name(
    factory: Factory, admin_app: webtest.TestApp
) -> None:
    factory.user("alice", display_name="Alice Wong")
    factory.user("bob", display_name="王小波")
    factory.user("carol_x", display_name="Carol")
    page = admin_app.get("/admin/users/")
    assert usernames_listed(page) == ["alice", "bob", "carol_x", "root"]
    assert usernames_listed(admin_app.get("/admin/users/", {"q": "WONG"})) == ["alice"]
    assert usernames_listed(admin_app.get("/admin/users/", {"q": "小波"})) == ["bob"]
    # LIKE wildcards typed by the admin are literal characters.
    assert usernames_listed(admin_app.get("/admin/users/", {"q": "_"})) == ["carol_x"]
    nothing = admin_app.get("/admin/users/", {"q": "%"})
    assert usernames_listed(nothing) == []
    assert "0 users match “%”." in nothing.text


def test_search_form_keeps_the_query(factory: Factory, admin_app: webtest.TestApp) -> None:
    factory.user("alice")
    page = form(admin_app.get("/admin/users/"), "/admin/users/")
    page["q"] = "ali"
    result = page.submit()
    assert result.html.select_one("#f-q")["value"] == "ali"
    assert "1 user matches “ali”." in result.text


def test_users_are_paged(factory: Factory, admin_app: webtest.TestApp) -> None:
    for number in range(30):
        factory.user(f"member{number:02d}")
    first = admin_app.get("/admin/users/")
    assert len(usernames_listed(first)) == 25
    assert "Page 1 of 2" in first.text
    second = first.click(linkid=None, href="page=2")
    listed = usernames_listed(second)
    assert listed == ["member25", "member26", "member27", "member28", "member29", "root"]
    assert "Page 2 of 2" in second.text
    # Nonsense page numbers show the first page instead of failing.
    assert usernames_listed(admin_app.get("/admin/users/", {"page": "x"}))[0] == "member00"


# -- create -----------------------------------------------------------------------------------

def test_create_user(dbsession: Session, admin_app: webtest.TestApp,
                     make_testapp: Callable[[], webtest.TestApp]) -> None:
    page = form(admin_app.get("/admin/users/new"), "/admin/users/new")
    page["username"] = "Dana"
    page["display_name"] = "Dana 李"
    page["email"] = "dana@example.com"
    page["password"] = "a sound password"
    response = page.submit(status=303)
    user = dbsession.scalar(select(User).where(User.username == "dana"))
    assert user is not None
    assert (user.display_name, user.email, user.is_site_admin) == (
        "Dana 李", "dana@example.com", False)
    assert response.location == f"http://taskdesk.test/admin/users/{user.id}/"
    shown = response.follow()
    assert flashes(shown) == [("success", "User dana was created.")]
    assert "Dana 李" in shown.html.select_one("h1").text
    assert login(make_testapp(), "dana", "a sound password").status_int == 303


def test_create_site_admin(dbsession: Session, admin_app: webtest.TestApp) -> None:
    page = form(admin_app.get("/admin/users/new"), "/admin/users/new")
    page["username"] = "eve"
    page["display_name"] = "Eve"
    page["password"] = "a sound password"
    page["is_site_admin"] = True
    page.submit(status=303)
    user = dbsession.scalar(select(User).where(User.username == "eve"))
    assert user is not None
    assert user.is_site_admin


def test_create_user_invalid_keeps_input_and_saves_nothing(
    dbsession: Session, admin_app: webtest.TestApp
) -> None:
    before = dbsession.scalar(select(func.count()).select_from(User))
    page = form(admin_app.get("/admin/users/new"), "/admin/users/new")
    page["username"] = "no spaces allowed"
    page["display_name"] = "Frank 弗兰克"
    page["email"] = "not-an-email"
    page["password"] = "short"
    response = page.submit(status=400)
    assert field_errors(response) == {
        "username": "Use 2-63 lower-case letters, digits, dots, dashes.",
        "email": "Must be an email address.",
        "password": "Must be at least 10 characters.",
    }
    again = form(response, "/admin/users/new")
    assert again["username"].value == "no spaces allowed"
    assert again["display_name"].value == "Frank 弗兰克"
    assert again["email"].value == "not-an-email"
    assert again["password"].value == ""  # a password is never sent back
    assert response.html.select_one("#f-username")["aria-invalid"] == "true"
    assert dbsession.scalar(select(func.count()).select_from(User)) == before


def test_create_user_with_taken_username(
    factory: Factory, dbsession: Session, admin_app: webtest.TestApp
) -> None:
    factory.user("gina")
    page = form(admin_app.get("/admin/users/new"), "/admin/users/new")
    page["username"] = "GINA"
    page["display_name"] = "Another Gina"
    page["password"] = "a sound password"
    response = page.submit(status=400)
    assert field_errors(response) == {"username": "This username is taken."}
    assert dbsession.scalar(
        select(func.count()).select_from(User).where(User.display_name == "Another Gina")
    ) == 0


# -- actions on a user --------------------------------------------------------------------------

def test_deactivate_ends_sessions_at_once_and_reactivate(
    factory: Factory, dbsession: Session, admin_app: webtest.TestApp, signed_in: SignedIn
) -> None:
    target = factory.user("henry", display_name="Henry")
    browser = signed_in("henry")
    assert is_signed_in(browser)
    page = admin_app.get(f"/admin/users/{target.id}/")
    asked = form(page, "/deactivate").submit(status=200)
    assert asked.html.select_one("h1").text == "Deactivate Henry?"
    assert fresh(dbsession, target).is_active  # nothing happens before confirming
    assert is_signed_in(browser)
    response = confirm(asked, status=303).follow()
    assert flashes(response) == [("success", "Henry was deactivated; their sessions have ended.")]
    assert not fresh(dbsession, target).is_active
    assert not is_signed_in(browser)
    assert login(browser, "henry").status_int == 200  # refused: the form again
    response = form(response, "/reactivate").submit(status=303).follow()
    assert flashes(response) == [("success", "Henry was reactivated and may sign in again.")]
    assert fresh(dbsession, target).is_active
    assert login(browser, "henry").status_int == 303


def test_admin_cannot_deactivate_or_demote_themselves(
    dbsession: Session, admin: User, admin_app: webtest.TestApp
) -> None:
    page = admin_app.get(f"/admin/users/{admin.id}/")
    assert page.html.select_one(f'form[action$="/{admin.id}/deactivate"] button').has_attr(
        "disabled")
    response = post(admin_app, f"/admin/users/{admin.id}/deactivate", {"confirmed": "yes"},
                    status=303).follow()
    assert flashes(response) == [("error", "You cannot deactivate your own account.")]
    response = post(admin_app, f"/admin/users/{admin.id}/admin", {"is_site_admin": "false"},
                    status=303).follow()
    assert flashes(response) == [("error", "You cannot remove your own site admin rights.")]
    admin = fresh(dbsession, admin)
    assert admin.is_active
    assert admin.is_site_admin
    assert is_signed_in(admin_app)


def test_make_and_unmake_site_admin(
    factory: Factory, dbsession: Session, admin_app: webtest.TestApp, signed_in: SignedIn
) -> None:
    target = factory.user("ida", display_name="Ida")
    browser = signed_in("ida")
    browser.get("/admin/", status=403)
    page = admin_app.get(f"/admin/users/{target.id}/")
    page = form(page, "/admin").submit(status=303).follow()
    assert flashes(page) == [("success", "Ida is now a site admin.")]
    assert fresh(dbsession, target).is_site_admin
    browser.get("/admin/", status=200)  # at once, in the session they already had
    page = form(page, "/admin").submit(status=303).follow()
    assert flashes(page) == [("success", "Ida is no longer a site admin.")]
    assert not fresh(dbsession, target).is_site_admin
    browser.get("/admin/", status=403)


def test_reset_password(
    factory: Factory, dbsession: Session, admin_app: webtest.TestApp, signed_in: SignedIn,
    make_testapp: Callable[[], webtest.TestApp],
) -> None:
    target = factory.user("jack", display_name="Jack")
    browser = signed_in("jack")
    page = form(admin_app.get(f"/admin/users/{target.id}/"), "/password")
    page["password"] = "reset by the admin"
    response = page.submit(status=303).follow()
    assert flashes(response) == [
        ("success", "The password of Jack was reset; their other sessions have ended.")]
    assert not is_signed_in(browser)
    assert login(make_testapp(), "jack", Factory.PASSWORD).status_int == 200
    assert login(make_testapp(), "jack", "reset by the admin").status_int == 303


def test_reset_password_too_short(
    factory: Factory, dbsession: Session, admin_app: webtest.TestApp, signed_in: SignedIn
) -> None:
    target = factory.user("kate")
    browser = signed_in("kate")
    page = form(admin_app.get(f"/admin/users/{target.id}/"), "/password")
    page["password"] = "tiny"
    response = page.submit(status=400)
    assert field_errors(response) == {"password": "Must be at least 10 characters."}
    assert verify_password(fresh(dbsession, target).password_hash, Factory.PASSWORD)[0]
    assert is_signed_in(browser)


def test_end_all_sessions(
    factory: Factory, dbsession: Session, admin_app: webtest.TestApp, signed_in: SignedIn
) -> None:
    target = factory.user("liam", display_name="Liam")
    browsers = [signed_in("liam"), signed_in("liam")]
    page = admin_app.get(f"/admin/users/{target.id}/")
    assert meta(page)["Signed-in sessions"] == "2"
    response = form(page, "/end-sessions").submit(status=303).follow()
    assert flashes(response) == [("success", "All sessions of Liam have ended.")]
    assert not any(is_signed_in(browser) for browser in browsers)
    assert dbsession.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.user_id == target.id)
    ) == 0
    assert fresh(dbsession, target).is_active  # only signed out, not deactivated


# -- Chinese ------------------------------------------------------------------------------------

def test_admin_pages_in_chinese(factory: Factory, dbsession: Session,
                                login_as: Callable[..., webtest.TestApp]) -> None:
    factory.user("zhang", admin=True, locale="zh_CN", display_name="张三")
    target = factory.user("li", display_name="李四")
    app = login_as("zhang")
    users = app.get("/admin/users/")
    assert users.html.select_one("html")["lang"] == "zh-CN"
    assert users.html.select_one("h1").text == "用户"
    assert "新建用户" in users.text
    page = form(app.get("/admin/users/new"), "/admin/users/new")
    page["username"] = "x"
    page["display_name"] = ""
    page["password"] = "short"
    errors = field_errors(page.submit(status=400))
    assert errors == {"username": "请使用 2 到 63 个小写字母、数字、点或短横线。",
                      "display_name": "此项为必填项。",
                      "password": "至少需要 10 个字符。"}
    asked = form(app.get(f"/admin/users/{target.id}/"), "/deactivate").submit()
    assert asked.html.select_one("h1").text == "停用 李四？"  # noqa: RUF001
    response = confirm(asked).follow()
    assert flashes(response) == [("success", "李四 已被停用，其所有会话均已结束。")]  # noqa: RUF001


def test_names_are_escaped_in_pages_and_messages(
    factory: Factory, admin_app: webtest.TestApp
) -> None:
    target = factory.user("mark", display_name="<script>alert(1)</script>")
    page = admin_app.get(f"/admin/users/{target.id}/")
    asked = form(page, "/deactivate").submit(status=200)
    assert "<script>alert(1)</script>" not in asked.text
    response = confirm(asked, status=303).follow()
    assert "<script>alert(1)</script>" not in response.text
    assert flashes(response) == [("success", "&lt;script&gt;alert(1)&lt;/script&gt; was "
                                             "deactivated; their sessions have ended.")]
    assert "&lt;script&gt;" in admin_app.get("/admin/users/").text
