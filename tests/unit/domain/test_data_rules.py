"""The domain layer's data rules: versions, activity, completion, labels, slugs, managers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from taskdesk.domain import projects, tasks
from taskdesk.domain.errors import ConflictError, DomainError, DuplicateError, ValidationError
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import Activity, Project, ProjectMember, Task, TaskLabel, User
from taskdesk.settings import TaskdeskSettings
from tests.support.factories import Factory


def activity(dbsession: Session, task: Task) -> list[Activity]:
    dbsession.flush()
    return list(dbsession.scalars(
        select(Activity).where(Activity.task_id == task.id).order_by(Activity.id)
    ))


def stored(dbsession: Session, task: Task) -> Any:
    """The task's row as the database has it, bypassing the session's identity map."""
    return dbsession.execute(
        select(Task.__table__).where(Task.__table__.c.id == task.id)
    ).one()


# -- versions ------------------------------------------------------------------------------


def test_update_bumps_the_version(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project, title="First")
    assert task.version == 1
    tasks.update_task(dbsession, settings, task, owner, {"title": "Second", "version": 1},
                      may=UNRESTRICTED)
    assert task.version == 2
    assert stored(dbsession, task).version == 2


@pytest.mark.parametrize("how", ["in data", "keyword"])
def test_update_refuses_a_stale_version_and_changes_nothing(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User, how: str,
) -> None:
    task = factory.task(project, title="Original", priority="low")
    tasks.update_task(dbsession, settings, task, owner, {"priority": "high"}, may=UNRESTRICTED)
    entries_before = len(activity(dbsession, task))
    change: dict[str, Any] = {"title": "Overwritten", "labels": ["x"], "status": "done"}
    if how == "in data":
        change["version"] = 1
    expected_version = 1 if how == "keyword" else None
    with pytest.raises(ConflictError) as caught:
        tasks.update_task(dbsession, settings, task, owner, change,
                          expected_version=expected_version, may=UNRESTRICTED)
    assert caught.value.current_version == 2
    assert not caught.value.raced
    dbsession.flush()
    row = stored(dbsession, task)
    assert (row.title, row.priority, row.status, row.version) == ("Original", "high", "open", 2)
    assert row.completed_at is None
    assert task.labels == []
    assert len(activity(dbsession, task)) == entries_before


def test_update_refuses_a_row_changed_behind_its_back(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    """Another transaction bumped the version after this one loaded the task."""
    task = factory.task(project, title="Loaded")
    dbsession.execute(
        update(Task).where(Task.id == task.id).values(version=Task.version + 1, title="Theirs"),
        execution_options={"synchronize_session": False},
    )
    with pytest.raises(ConflictError) as caught, dbsession.begin_nested():
        tasks.update_task(dbsession, settings, task, owner, {"title": "Mine"}, may=UNRESTRICTED)
    assert caught.value.raced  # the loaded row is stale: only a fresh attempt can merge
    row = stored(dbsession, task)
    assert (row.title, row.version) == ("Theirs", 2)


# -- activity ------------------------------------------------------------------------------


def test_update_writes_one_activity_entry_with_exactly_the_changed_fields(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    member = factory.user("helper")
    projects.set_member(dbsession, settings, project, member, owner, {"role": "member"})
    task = factory.task(project, title="Draft", priority="normal", due_date="2030-01-31")
    before = activity(dbsession, task)
    assert [e.action for e in before] == ["task.created"]

    changes = tasks.update_task(dbsession, settings, task, owner, {
        "title": "Final",            # changed
        "priority": "normal",        # unchanged: not recorded
        "due_date": "2030-02-28",    # changed
        "assignee": "helper",        # changed
        "description": "",           # unchanged
    }, may=UNRESTRICTED)
    expected = {
        "title": ["Draft", "Final"],
        "due_date": ["2030-01-31", "2030-02-28"],
        "assignee": [None, "helper"],
    }
    assert changes == expected
    after = activity(dbsession, task)
    assert len(after) == 2
    entry = after[-1]
    assert entry.action == "task.updated"
    assert entry.actor_id == owner.id
    assert entry.project_id == project.id
    assert entry.changes == expected


def test_update_without_changes_writes_nothing(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project, title="Same", labels=["a"])
    assert tasks.update_task(dbsession, settings, task, owner,
                             {"title": "Same", "labels": ["a"], "status": "open"},
                             may=UNRESTRICTED) == {}
    assert task.version == 1
    assert len(activity(dbsession, task)) == 1


def test_update_validates_before_writing(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project, title="Valid")
    with pytest.raises(ValidationError) as caught:
        tasks.update_task(dbsession, settings, task, owner,
                          {"title": "", "status": "shipped", "priority": "meh"}, may=UNRESTRICTED)
    assert set(caught.value.fields) == {"title", "status", "priority"}
    assert stored(dbsession, task).title == "Valid"
    assert len(activity(dbsession, task)) == 1


# -- completed <-> status ------------------------------------------------------------------


def test_completed_true_and_false_map_onto_done_and_open(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project)
    assert (task.status, task.completed_at) == ("open", None)

    changes = tasks.update_task(dbsession, settings, task, owner, {"completed": True},
                                may=UNRESTRICTED)
    assert task.status == settings.workflow.first_done == "done"
    assert task.completed_at is not None
    assert changes == {"status": ["open", "done"]}

    tasks.update_task(dbsession, settings, task, owner, {"completed": False}, may=UNRESTRICTED)
    assert task.status == settings.workflow.initial_status == "open"
    assert task.completed_at is None
    row = stored(dbsession, task)
    assert (row.status, row.completed_at) == ("open", None)


def test_completed_true_on_a_done_task_changes_nothing(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project, status="done")
    completed_at = task.completed_at
    assert completed_at is not None
    assert tasks.update_task(dbsession, settings, task, owner, {"completed": True},
                             may=UNRESTRICTED) == {}
    assert task.completed_at == completed_at


def test_explicit_status_wins_over_completed(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project)
    tasks.update_task(dbsession, settings, task, owner,
                      {"completed": True, "status": "in_progress"}, may=UNRESTRICTED)
    assert (task.status, task.completed_at) == ("in_progress", None)


def test_completed_at_follows_the_done_category(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    created_done = factory.task(project, completed=True)
    assert (created_done.status, created_done.completed_at is not None) == ("done", True)

    task = factory.task(project, status="in_progress")
    assert task.completed_at is None
    tasks.update_task(dbsession, settings, task, owner, {"status": "done"}, may=UNRESTRICTED)
    assert task.completed_at is not None
    tasks.update_task(dbsession, settings, task, owner, {"status": "wont_do"}, may=UNRESTRICTED)
    assert task.completed_at is None  # cancelled is closed, but not completed


# -- labels ----------------------------------------------------------------------------------


def test_labels_are_cleaned_and_deduplicated(
    dbsession: Session, factory: Factory, project: Project,
) -> None:
    task = factory.task(project, labels=["Bug", "bug", "  UX ", "前端", ""])
    assert task.labels == ["bug", "ux", "前端"]
    dbsession.flush()
    rows = dbsession.scalars(select(TaskLabel.name).where(TaskLabel.task_id == task.id))
    assert sorted(rows) == sorted(["bug", "ux", "前端"])


def test_labels_from_a_form_are_comma_separated(
    factory: Factory, project: Project,
) -> None:
    task = factory.task(project, labels="backend, API\uff0c前端")  # a full-width comma
    assert task.labels == ["backend", "api", "前端"]


def test_label_changes_are_recorded(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    task = factory.task(project, labels=["a", "b"])
    changes = tasks.update_task(dbsession, settings, task, owner, {"labels": ["b", "c"]},
                                may=UNRESTRICTED)
    assert changes == {"labels": [["a", "b"], ["b", "c"]]}
    assert activity(dbsession, task)[-1].changes == {"labels": [["a", "b"], ["b", "c"]]}
    assert task.labels == ["b", "c"]


@pytest.mark.parametrize("labels", [[f"l{i}" for i in range(21)], ["x" * 41], [42]])
def test_bad_labels_are_refused(factory: Factory, project: Project, labels: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        factory.task(project, labels=labels)
    assert set(caught.value.fields) == {"labels"}


# -- numbering -----------------------------------------------------------------------------


def test_numbers_are_sequential_per_project(
    dbsession: Session, factory: Factory, project: Project, owner: User,
) -> None:
    other = factory.project(owner)
    numbers = [factory.task(project).number for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert factory.task(other).number == 1
    assert factory.task(project).number == 4
    dbsession.flush()
    assert dbsession.scalar(select(Project.task_counter).where(Project.id == project.id)) == 4


def test_assignee_must_be_able_to_see_a_private_project(
    factory: Factory, project: Project,
) -> None:
    factory.user("outsider")
    with pytest.raises(ValidationError) as caught:
        factory.task(project, assignee="outsider")
    assert set(caught.value.fields) == {"assignee"}


# -- projects and members --------------------------------------------------------------------


def test_create_project_makes_the_creator_manager(
    dbsession: Session, owner: User,
) -> None:
    project = projects.create_project(dbsession, owner, {"slug": "alpha", "name": "Alpha"})
    dbsession.flush()
    roles = dbsession.execute(
        select(ProjectMember.user_id, ProjectMember.role)
        .where(ProjectMember.project_id == project.id)
    ).all()
    assert [tuple(r) for r in roles] == [(owner.id, "manager")]
    assert project.visibility == "private"


def test_create_project_refuses_a_duplicate_slug(dbsession: Session, owner: User) -> None:
    projects.create_project(dbsession, owner, {"slug": "alpha", "name": "Alpha"})
    with pytest.raises(DuplicateError) as caught:
        projects.create_project(dbsession, owner, {"slug": "alpha", "name": "Another"})
    assert caught.value.field == "slug"
    assert dbsession.scalar(
        select(func.count()).select_from(Project).where(Project.slug == "alpha")
    ) == 1


@pytest.mark.parametrize("slug", ["Alpha", "-alpha", "alpha-", "al pha", "\u03b1", "a" * 65])
def test_create_project_refuses_a_bad_slug(dbsession: Session, owner: User, slug: str) -> None:
    with pytest.raises(ValidationError) as caught:
        projects.create_project(dbsession, owner, {"slug": slug, "name": "X"})
    assert set(caught.value.fields) == {"slug"}


def test_the_last_manager_cannot_be_demoted_or_removed(
    dbsession: Session, settings: TaskdeskSettings, project: Project, owner: User,
) -> None:
    with pytest.raises(DomainError):
        projects.set_member(dbsession, settings, project, owner, owner, {"role": "member"})
    with pytest.raises(DomainError):
        projects.remove_member(dbsession, project, owner, owner)
    dbsession.flush()
    assert dbsession.scalar(
        select(ProjectMember.role).where(ProjectMember.project_id == project.id,
                                         ProjectMember.user_id == owner.id)
    ) == "manager"


def test_a_manager_can_step_down_once_another_manager_exists(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    team = factory.group("leads")
    projects.set_member(dbsession, settings, project, team, owner, {"role": "manager"})
    _membership, created = projects.set_member(dbsession, settings, project, owner, owner,
                                               {"role": "member"})
    assert created is False
    # The group is now the only manager: it cannot be removed either.
    with pytest.raises(DomainError):
        projects.remove_member(dbsession, project, team, owner)
    assert projects.remove_member(dbsession, project, owner, owner) is True


def test_set_member_accepts_only_configured_roles(
    dbsession: Session, settings: TaskdeskSettings, factory: Factory, project: Project,
    owner: User,
) -> None:
    member = factory.user()
    with pytest.raises(ValidationError):
        projects.set_member(dbsession, settings, project, member, owner, {"role": "overlord"})
    assert "reporter" in settings.roles  # configured by the test settings
    _membership, created = projects.set_member(dbsession, settings, project, member, owner,
                                               {"role": "reporter"})
    assert created is True
