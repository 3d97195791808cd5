"""Admin: groups, creating them and adding and removing members."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import webtest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.models import Group, GroupMember, User
from tests.support.factories import Factory
from tests.support.web import confirm, field_errors, flashes, form, post


def member_names(dbsession: Session, group: Group) -> list[str]:
    dbsession.expire_all()
    return list(dbsession.scalars(
        select(User.username).join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id).order_by(User.username)
    ))


def group_count(dbsession: Session) -> int:
    return dbsession.scalar(select(func.count()).select_from(Group)) or 0


def test_ordinary_user_gets_403(
    factory: Factory, dbsession: Session, login_as: Callable[..., webtest.TestApp]
) -> None:
    group = factory.group("team")
    factory.user("mallory")
    app = login_as("mallory")
    for path in ("/admin/groups/", "/admin/groups/new", f"/admin/groups/{group.id}/"):
        app.get(path, status=403)
    post(app, f"/admin/groups/{group.id}/add-member", {"username": "mallory"}, status=403)
    post(app, "/admin/groups/new", {"name": "rogue"}, status=403)
    assert member_names(dbsession, group) == []
    assert group_count(dbsession) == 1


def test_list_groups_with_member_counts(factory: Factory, admin_app: webtest.TestApp) -> None:
    one, two = factory.user("one"), factory.user("two")
    factory.group("design", members=(one, two))
    factory.group("empty")
    page = admin_app.get("/admin/groups/")
    rows = [[td.text.strip() for td in tr.select("td")]
            for tr in page.html.select("table.data tbody tr")]
    assert rows == [["design", "", "2"], ["empty", "", "0"]]


def test_no_groups_yet(admin_app: webtest.TestApp) -> None:
    assert "There are no groups yet." in admin_app.get("/admin/groups/").text


def test_create_group(dbsession: Session, admin_app: webtest.TestApp) -> None:
    page = form(admin_app.get("/admin/groups/new"), "/admin/groups/new")
    page["name"] = "support"
    page["description"] = "First-line support 一线支持"
    response = page.submit(status=303)
    group = dbsession.scalar(select(Group).where(Group.name == "support"))
    assert group is not None
    assert group.description == "First-line support 一线支持"
    assert response.location == f"http://taskdesk.test/admin/groups/{group.id}/"
    shown = response.follow()
    assert flashes(shown) == [("success", "Group support was created.")]
    assert "This group has no members yet." in shown.text


@pytest.mark.parametrize(("name", "message"), [
    ("", "This field is required."),
    ("Bad Name", "Use lower-case letters, digits, dots, dashes."),
    ("taken", "This group name is taken."),
])
def test_create_group_invalid(factory: Factory, dbsession: Session,
                              admin_app: webtest.TestApp, name: str, message: str) -> None:
    factory.group("taken")
    page = form(admin_app.get("/admin/groups/new"), "/admin/groups/new")
    page["name"] = name
    page["description"] = "kept as typed"
    response = page.submit(status=400)
    assert field_errors(response) == {"name": message}
    again = form(response, "/admin/groups/new")
    assert (again["name"].value, again["description"].value) == (name, "kept as typed")
    assert group_count(dbsession) == 1


def test_add_and_remove_member(
    factory: Factory, dbsession: Session, admin_app: webtest.TestApp
) -> None:
    group = factory.group("ops")
    factory.user("nina", display_name="Nina")
    page = form(admin_app.get(f"/admin/groups/{group.id}/"), "/add-member")
    page["username"] = " Nina "
    page = page.submit(status=303).follow()
    assert flashes(page) == [("success", "Nina was added to the group.")]
    assert member_names(dbsession, group) == ["nina"]
    assert [a.text for a in page.html.select("table.data tbody td:first-child a")] == ["nina"]
    asked = form(page, "/remove-member").submit(status=200)
    assert asked.html.select_one("h1").text == "Remove Nina from the group ops?"
    assert member_names(dbsession, group) == ["nina"]  # nothing happens before confirming
    page = confirm(asked, status=303).follow()
    assert flashes(page) == [("success", "Nina was removed from the group.")]
    assert member_names(dbsession, group) == []


@pytest.mark.parametrize(("username", "message"), [
    ("", "This field is required."),
    ("nobody", "No one has the username or display name nobody."),
    ("olga", "This user is a member already."),
])
def test_add_member_invalid(factory: Factory, dbsession: Session, admin_app: webtest.TestApp,
                            username: str, message: str) -> None:
    group = factory.group("qa", members=(factory.user("olga"),))
    page = form(admin_app.get(f"/admin/groups/{group.id}/"), "/add-member")
    page["username"] = username
    response = page.submit(status=400)
    assert field_errors(response) == {"username": message}
    assert form(response, "/add-member")["username"].value == username
    assert member_names(dbsession, group) == ["olga"]


def test_remove_someone_who_is_not_a_member(
    factory: Factory, dbsession: Session, admin_app: webtest.TestApp
) -> None:
    group = factory.group("qa", members=(factory.user("olga"),))
    factory.user("pete")
    response = post(admin_app, f"/admin/groups/{group.id}/remove-member",
                    {"username": "pete", "confirmed": "yes"}, status=303).follow()
    assert flashes(response) == [("error", "That user is not a member of this group.")]
    assert member_names(dbsession, group) == ["olga"]


def test_group_page_in_chinese(factory: Factory, login_as: Callable[..., webtest.TestApp]) -> None:
    factory.user("zhang", admin=True, locale="zh_CN")
    group = factory.group("rnd")
    app = login_as("zhang")
    page = app.get(f"/admin/groups/{group.id}/")
    assert page.html.select_one("h1").text == f"用户组 {group.name}"
    assert "添加成员" in page.text
    page = form(page, "/add-member")
    page["username"] = "nobody"
    assert field_errors(page.submit(status=400)) == {
        "username": "没有用户名或显示名称为 nobody 的人。"}
