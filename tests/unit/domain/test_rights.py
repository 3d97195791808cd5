"""The domain's one rule on which fields an actor may change, and its one version check."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from taskdesk.domain import comments, projects, tasks
from taskdesk.domain.errors import ConflictError, ForbiddenFieldsError
from taskdesk.domain.rights import UNRESTRICTED, May
from taskdesk.models import Project, User
from taskdesk.security.permissions import Permission
from taskdesk.settings import TaskdeskSettings
from tests.support.factories import Factory


def holding(*granted: Permission) -> tuple[May, list[Permission]]:
    """A predicate granting only ``granted``, and the list of what it was asked."""
    asked: list[Permission] = []

    def may(permission: Permission) -> bool:
        asked.append(permission)
        return permission in granted

    return may, asked


def test_update_refuses_every_field_the_actor_may_not_change_and_writes_nothing(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project, title="Original")
    may, asked = holding(Permission.SET_STATUS)
    with pytest.raises(ForbiddenFieldsError) as refused:
        tasks.update_task(dbsession, settings, task, owner,
                          {"title": "Mine", "labels": ["x"], "assignee": "", "status": "done"},
                          may=may)
    assert refused.value.fields == ("assignee", "labels", "title")
    assert sorted(asked) == sorted({Permission.EDIT_TASK, Permission.ASSIGN,
                                    Permission.SET_STATUS})  # each asked once
    assert (task.title, task.status, task.version) == ("Original", "open", 1)


def test_a_form_may_have_the_fields_left_out_instead(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project, title="Original")
    may, _asked = holding(Permission.EDIT_TASK)
    changes = tasks.update_task(dbsession, settings, task, owner,
                                {"title": "Mine", "status": "done"}, may=may,
                                drop_forbidden=True)
    assert changes == {"title": ["Original", "Mine"]}
    assert task.status == "open"


def test_a_change_of_nothing_but_the_version_needs_edit_task(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project)
    may, _asked = holding(Permission.SET_STATUS)
    with pytest.raises(ForbiddenFieldsError) as refused:
        tasks.update_task(dbsession, settings, task, owner, {"version": 1}, may=may)
    assert refused.value.fields == ()
    editor, _asked = holding(Permission.EDIT_TASK)
    assert tasks.update_task(dbsession, settings, task, owner, {"version": 1},
                             may=editor) == {}


def test_creating_needs_the_permission_of_status_and_assignee_only(
    dbsession: Session, settings: TaskdeskSettings, project: Project, owner: User,
) -> None:
    may, asked = holding()
    task = tasks.create_task(dbsession, settings, project, owner,
                             {"title": "Plain", "labels": ["a"]}, may=may)
    assert task.title == "Plain"
    assert asked == []  # no field needing more than create_task: the ACL is not asked
    with pytest.raises(ForbiddenFieldsError) as refused:
        tasks.create_task(dbsession, settings, project, owner,
                          {"title": "Done", "completed": True}, may=may)
    assert refused.value.fields == ("completed",)


def test_a_project_change_needs_each_fields_permission(
    dbsession: Session, project: Project, owner: User,
) -> None:
    may, _asked = holding(Permission.ARCHIVE_PROJECT)
    with pytest.raises(ForbiddenFieldsError) as refused:
        projects.update_project(dbsession, project, owner, {"name": "New", "archived": True},
                                may=may, partial=True)
    assert refused.value.fields == ("name",)
    assert projects.update_project(dbsession, project, owner, {"archived": True}, may=may,
                                   partial=True) == {"archived": [False, True]}


def test_a_comment_edit_or_deletion_based_on_an_old_version_is_refused(
    dbsession: Session, factory: Factory, project: Project, owner: User,
) -> None:
    task = factory.task(project)
    comment = comments.add_comment(dbsession, task, owner, {"body": "One"})
    assert comments.edit_comment(dbsession, comment, task, owner, {"body": "Two"},
                                 expected_version=1)
    assert comment.version == 2  # bumped by the ORM's version column
    with pytest.raises(ConflictError) as stale:
        comments.edit_comment(dbsession, comment, task, owner, {"body": "Three"},
                              expected_version=1)
    assert (stale.value.current_version, stale.value.raced) == (2, False)
    with pytest.raises(ConflictError):
        comments.delete_comment(dbsession, comment, task, owner, expected_version=1)
    assert comment.body == "Two"


def test_trusted_callers_may_change_everything(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project)
    changes = tasks.update_task(dbsession, settings, task, owner, {"status": "done"},
                                may=UNRESTRICTED)
    assert changes["status"] == ["open", "done"]
