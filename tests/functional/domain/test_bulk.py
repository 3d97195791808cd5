"""A bulk change, written in a fixed number of statements, leaves every task as a single
edit of it would: version, completion date, board rank, labels, watchers, one history
entry and one event per task; refusals per task; deletion with sub-tasks."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from taskdesk.domain.bulk import apply_bulk_change, read_bulk_change
from taskdesk.domain.errors import ConflictError
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import delete_task
from taskdesk.models import Activity, Event, Task, TaskLabel, TaskWatcher


@pytest.fixture
def team(factory):
    owner, mia = factory.user("owner"), factory.user("mia")
    project = factory.project(owner, slug="bulk", members={mia: "member"})
    return owner, mia, project


def _apply(dbsession, settings, project, actor, tasks, **data):
    change = read_bulk_change(settings.workflow, {
        "tasks": [{"number": t.number, "version": t.version} for t in tasks], **data})
    results = apply_bulk_change(dbsession, settings, project, actor, change, may=UNRESTRICTED)
    dbsession.expire_all()
    return {r.number: r for r in results}


def _history(dbsession, action):
    return dbsession.scalars(select(Activity).where(Activity.action == action)
                             .order_by(Activity.id)).all()


def test_a_status_change_sets_completion_rank_version_and_history(dbsession, settings, team,
                                                                   factory):
    owner, _mia, project = team
    in_column = factory.task(project, owner, title="Already in progress", status="in_progress")
    was_done = factory.task(project, owner, title="Done once", status="done")
    was_open = factory.task(project, owner, title="Open")
    versions = {t.number: t.version for t in (was_done, was_open)}
    results = _apply(dbsession, settings, project, owner, [was_done, was_open],
                     status="in_progress")
    assert {n: r.outcome for n, r in results.items()} == {
        was_done.number: "changed", was_open.number: "changed"}
    assert results[was_done.number].changes == {"status": ["done", "in_progress"]}
    rows = {t.number: dbsession.get(Task, t.id) for t in (was_done, was_open, in_column)}
    for number, version in versions.items():
        assert rows[number].version == version + 1
        assert rows[number].status == "in_progress"
    assert rows[was_done.number].completed_at is None
    # Both go on top of their new column, above the task already there.
    assert rows[was_done.number].rank < rows[in_column.number].rank
    assert rows[was_open.number].rank < rows[in_column.number].rank
    entries = _history(dbsession, "task.updated")
    assert sorted(e.task_id for e in entries) == sorted([was_done.id, was_open.id])
    events = dbsession.scalars(select(Event).where(Event.kind == "task.updated")).all()
    assert sorted(e.task_id for e in events) == sorted([was_done.id, was_open.id])
    assert all(e.data["changes"]["status"][1] == "in_progress" for e in events)

    results = _apply(dbsession, settings, project, owner, [rows[was_open.number]],
                     status="done")
    assert dbsession.get(Task, was_open.id).completed_at is not None


def test_assignee_labels_and_due_date_in_one_go(dbsession, settings, team, factory):
    owner, mia, project = team
    tasks = [factory.task(project, owner, title=f"Bug {i}", labels=["bug", "old"])
             for i in range(3)]
    already = factory.task(project, owner, title="Done already", labels=["bug", "triaged"],
                           assignee="mia", due_date="2030-01-31", priority="high")
    results = _apply(dbsession, settings, project, owner, [*tasks, already],
                     assignee="mia", add_labels=["triaged"], remove_labels=["old"],
                     due_date="2030-01-31", priority="high")
    assert [results[t.number].outcome for t in tasks] == ["changed"] * 3
    assert results[already.number].outcome == "unchanged"
    assert results[tasks[0].number].changes == {
        "priority": ["normal", "high"], "assignee": [None, "mia"],
        "due_date": [None, "2030-01-31"], "labels": [["bug", "old"], ["bug", "triaged"]]}
    for task in tasks:
        assert sorted(dbsession.scalars(select(TaskLabel.name).where(
            TaskLabel.task_id == task.id))) == ["bug", "triaged"]
        assert dbsession.get(Task, task.id).assignee_id == mia.id
    watched = set(dbsession.scalars(select(TaskWatcher.task_id).where(
        TaskWatcher.user_id == mia.id)))
    assert {t.id for t in tasks} <= watched
    events = dbsession.scalars(select(Event).where(Event.kind == "task.updated")).all()
    assert len(events) == 3
    assert all(e.data["assignee_id"] == mia.id for e in events)


def test_refusals_leave_the_other_tasks_changed(dbsession, settings, team, factory):
    owner, _mia, project = team
    stale = factory.task(project, owner, title="Stale")
    full = factory.task(project, owner, title="Full", labels=[f"l{i}" for i in range(20)])
    fine = factory.task(project, owner, title="Fine")
    shown = [{"number": stale.number, "version": stale.version},
             {"number": full.number, "version": full.version},
             {"number": fine.number, "version": fine.version},
             {"number": 999, "version": 1}]
    stale.title = "Changed meanwhile"
    dbsession.flush()
    change = read_bulk_change(settings.workflow, {"tasks": shown, "add_labels": ["new"]})
    results = {r.number: r for r in apply_bulk_change(
        dbsession, settings, project, owner, change, may=UNRESTRICTED)}
    assert {n: (r.outcome, r.reason) for n, r in results.items()} == {
        stale.number: ("refused", "version_conflict"),
        full.number: ("refused", "invalid"),
        fine.number: ("changed", None),
        999: ("refused", "not_found")}
    assert [e.task_id for e in _history(dbsession, "task.updated")] == [fine.id]


def test_a_field_refused_refuses_every_task_and_writes_nothing(dbsession, settings, team,
                                                                factory):
    owner, _mia, project = team
    tasks = [factory.task(project, owner, title=f"Task {i}") for i in range(2)]
    change = read_bulk_change(settings.workflow, {
        "tasks": [{"number": t.number, "version": t.version} for t in tasks],
        "status": "done", "assignee": "nobody-here"})
    results = apply_bulk_change(dbsession, settings, project, owner, change,
                                may=UNRESTRICTED)
    assert {(r.outcome, r.reason) for r in results} == {("refused", "invalid")}
    assert _history(dbsession, "task.updated") == []
    dbsession.expire_all()
    assert {dbsession.get(Task, t.id).status for t in tasks} == {"open"}


def test_deleting_a_parent_and_others_records_each_task_and_sub_task(dbsession, settings,
                                                                     team, factory):
    owner, _mia, project = team
    parent = factory.task(project, owner, title="Parent")
    child = factory.task(project, owner, title="Child", parent=parent.number)
    selected_child = factory.task(project, owner, title="Picked child", parent=parent.number)
    other = factory.task(project, owner, title="Other")
    keep = factory.task(project, owner, title="Kept")
    results = _apply(dbsession, settings, project, owner, [parent, selected_child, other],
                     delete=True)
    assert {r.outcome for r in results.values()} == {"deleted"}
    left = dbsession.scalars(select(Task.number).where(Task.project_id == project.id)).all()
    assert left == [keep.number]
    entries = {e.changes["task"][0]: e for e in _history(dbsession, "task.deleted")}
    assert set(entries) == {f"#{t.number} {t.title}"
                            for t in (parent, child, selected_child, other)}
    assert dbsession.scalars(select(Event).where(Event.kind == "task.deleted")).all()[
        0].data["number"] == child.number
    assert entries[f"#{child.number} Child"].task_id is None


def test_a_delete_that_lost_a_race_deletes_nothing(dbsession, team, factory):
    owner, _mia, project = team
    task = factory.task(project, owner, title="Raced")
    # Another transaction's change, as the row would be after it committed.
    dbsession.execute(update(Task).where(Task.id == task.id)
                      .values(version=Task.version + 1),
                      execution_options={"synchronize_session": False})
    with pytest.raises(ConflictError) as raised:
        delete_task(dbsession, task, owner)
    assert raised.value.raced
    assert raised.value.current_version == task.version + 1
    assert dbsession.scalar(select(Task.id).where(Task.id == task.id)) == task.id
    assert _history(dbsession, "task.deleted") == []
