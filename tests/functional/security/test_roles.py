"""Roles from the INI, the union of direct and group roles, and who may create projects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import webtest
from sqlalchemy.orm import Session

from taskdesk.domain import accounts, projects
from taskdesk.models import User
from taskdesk.settings import SettingsError, parse_settings
from tests.support.apps import app_settings
from tests.support.factories import Factory


def with_token(
    dbsession: Session, factory: Factory, username: str, **user: Any
) -> tuple[User, dict[str, str]]:
    """A new user ``username`` and the header of a write token of theirs."""
    owner = factory.user(username, **user)
    _, secret = accounts.create_token(dbsession, owner, {"name": "t", "scope": "write"})
    return owner, {"Authorization": f"Bearer {secret}"}


def test_a_role_defined_in_the_ini_grants_exactly_its_permissions(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    """The test settings define ``reporter = view comment set_status``."""
    manager = factory.user("boss")
    rita, headers = with_token(dbsession, factory, "rita")
    project = factory.project(manager, slug="reports", members={rita: "reporter"})
    task = factory.task(project, manager)
    app: webtest.TestApp = browser()
    url = f"/api/v1/projects/reports/tasks/{task.number}/"

    def patch(body: dict[str, Any]) -> int:
        return app.patch_json(url, body, headers=headers, expect_errors=True).status_int  # type: ignore[no-any-return]

    assert app.get(url, headers=headers).status_int == 200
    assert app.post_json(f"{url}comments/", {"body": "Seen it"}, headers=headers
                         ).status_int == 201
    assert patch({"status": "in_progress"}) == 200
    assert patch({"title": "Renamed"}) == 403
    assert patch({"assignee": "rita"}) == 403
    assert app.post_json("/api/v1/projects/reports/tasks/", {"title": "New"}, headers=headers,
                         expect_errors=True).status_int == 403
    assert app.delete(url, headers=headers, expect_errors=True).status_int == 403


def test_direct_and_group_roles_add_up(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    manager = factory.user("boss")
    gina, headers = with_token(dbsession, factory, "gina")
    team = factory.group("team", members=(gina,))
    project = factory.project(manager, slug="union", members={gina: "viewer", team: "member"})
    task = factory.task(project, manager)
    response = browser().patch_json(f"/api/v1/projects/union/tasks/{task.number}/",
                                    {"title": "Edited by the group's role"}, headers=headers)
    assert response.status_int == 200

    accounts.remove_group_member(dbsession, team, gina)
    dbsession.flush()
    refused = browser().patch_json(f"/api/v1/projects/union/tasks/{task.number}/",
                                   {"title": "Again"}, headers=headers, expect_errors=True)
    assert refused.status_int == 403, "leaving the group must take effect at once"


def test_only_admins_create_projects_when_the_ini_says_so(
    factory: Factory, dbsession: Session, app_with: Callable[..., webtest.TestApp]
) -> None:
    settings = {"taskdesk.projects.creators": "admins"}
    _, employee = with_token(dbsession, factory, "emma")
    _, admin = with_token(dbsession, factory, "root", admin=True)
    app = app_with(**settings)
    body = {"slug": "new-one", "name": "New one"}
    assert app.post_json("/api/v1/projects/", body, headers=employee, expect_errors=True
                         ).status_int == 403
    assert app.get("/projects/new", headers=employee, expect_errors=True).status_int == 403
    assert app.post_json("/api/v1/projects/", body, headers=admin).status_int == 201

    everyone = app_with()
    assert everyone.post_json("/api/v1/projects/", {"slug": "other", "name": "Other"},
                              headers=employee).status_int == 201


@pytest.mark.parametrize("value", ["view fly", "", "VIEW", "administer"])
def test_start_up_rejects_a_role_with_an_unknown_permission(value: str) -> None:
    raw = app_settings("sqlite://", **{"taskdesk.roles.pilot": value})
    with pytest.raises(SettingsError, match=r"taskdesk\.roles\.pilot"):
        parse_settings(raw)


def test_comment_authors_lose_their_edit_right_with_their_comment_right(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    manager = factory.user("boss")
    carl, headers = with_token(dbsession, factory, "carl")
    project = factory.project(manager, slug="talk", members={carl: "member"})
    task = factory.task(project, manager)
    app: webtest.TestApp = browser()
    comments = f"/api/v1/projects/talk/tasks/{task.number}/comments/"
    comment_url = app.post_json(comments, {"body": "First"}, headers=headers).json["url"]
    path = comment_url.split("taskdesk.test", 1)[-1]
    assert app.patch_json(path, {"body": "Second"}, headers=headers).status_int == 200

    projects.set_member(dbsession, factory.settings, project, carl, manager, {"role": "viewer"})
    dbsession.flush()
    assert app.patch_json(path, {"body": "Third"}, headers=headers,
                          expect_errors=True).status_int == 403
    assert app.delete(path, headers=headers, expect_errors=True).status_int == 403

    projects.remove_member(dbsession, project, carl, manager)
    dbsession.flush()
    assert app.patch_json(path, {"body": "Fourth"}, headers=headers,
                          expect_errors=True).status_int == 404


def test_roles_through_any_of_several_groups(
    factory: Factory, dbsession: Session, browser: Callable[[], Any]
) -> None:
    manager = factory.user("boss")
    gus, headers = with_token(dbsession, factory, "gus")
    groups = [factory.group(f"g{i}", members=(gus,)) for i in range(3)]
    for index, group in enumerate(groups):
        factory.project(manager, slug=f"via-{index}", members={group: "member"})
    app: webtest.TestApp = browser()
    for index in range(3):
        response = app.post_json(f"/api/v1/projects/via-{index}/tasks/", {"title": "Mine"},
                                 headers=headers)
        assert response.status_int == 201
    listed = app.get("/api/v1/projects/", headers=headers).json["items"]
    assert {item["slug"] for item in listed} == {"via-0", "via-1", "via-2"}
