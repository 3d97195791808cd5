"""Sub-tasks and checklists through the API: ``parent`` and ``checklist`` on tasks, PATCH of
the parent, ``…/subtasks``, list filters, and the hostile cases (cycles, other projects)."""

from __future__ import annotations

import pytest

from taskdesk.models import Activity, Task

BASE = "/api/v1/projects/alpha/tasks"


@pytest.fixture
def member(client_for, people):
    return client_for(people["member"])


def test_a_task_gets_and_loses_a_parent(member, dbsession):
    parent = member.post(BASE, {"title": "Release 2.0"}, status=201).json
    assert parent["parent"] is None
    assert parent["checklist"] == {"done": 0, "total": 0}
    child = member.post(BASE, {"title": "Write notes", "parent": parent["number"]},
                        status=201).json
    assert child["parent"] == parent["number"]
    assert member.get(child["url"]).json["parent"] == parent["number"]

    cleared = member.patch(child["url"], {"parent": None, "version": 1}, status=200).json
    assert cleared["parent"] is None
    assert cleared["version"] == 2
    again = member.patch(child["url"], {"parent": parent["number"]}, status=200).json
    assert again["parent"] == parent["number"]
    # Each change is in the history, as any field's.
    changes = [row.changes for row in dbsession.query(Activity).filter(
        Activity.task_id == child["id"], Activity.action == "task.updated")
        .order_by(Activity.id)]
    assert changes == [{"parent": [parent["number"], None]},
                       {"parent": [None, parent["number"]]}]


def test_subtasks_collection_lists_the_children_by_number(member):
    parent = member.post(BASE, {"title": "Parent"}, status=201).json
    other = member.post(BASE, {"title": "Unrelated"}, status=201).json
    first = member.post(BASE, {"title": "One", "parent": parent["number"]}, status=201).json
    second = member.post(BASE, {"title": "Two", "parent": parent["number"]}, status=201).json
    listed = member.get(f"{parent['url']}/subtasks").json
    assert [t["number"] for t in listed["items"]] == [first["number"], second["number"]]
    assert listed["next"] is None
    paged = member.get(f"{parent['url']}/subtasks?limit=1").json
    assert [t["number"] for t in paged["items"]] == [first["number"]]
    assert paged["next"]
    assert member.get(f"{other['url']}/subtasks").json["items"] == []
    error = member.get(f"{parent['url']}/subtasks?parent=3", status=400).json["error"]
    assert error["fields"] == {"parent": "Unknown parameter."}


def test_list_filters_by_parent_and_hides_subtasks(member):
    parent = member.post(BASE, {"title": "Parent"}, status=201).json
    child = member.post(BASE, {"title": "Child", "parent": parent["number"]}, status=201).json
    lone = member.post(BASE, {"title": "Lone"}, status=201).json

    def numbers(query: str) -> list[int]:
        return sorted(t["number"] for t in member.get(f"{BASE}?{query}").json["items"])

    assert numbers("") == sorted([parent["number"], child["number"], lone["number"]])
    assert numbers("subtasks=hide") == sorted([parent["number"], lone["number"]])
    assert numbers("subtasks=only") == [child["number"]]
    assert numbers(f"parent={parent['number']}") == [child["number"]]
    assert numbers(f"parent={lone['number']}") == []
    error = member.get(f"{BASE}?subtasks=maybe&parent=x", status=400).json["error"]
    assert set(error["fields"]) == {"subtasks", "parent"}


def test_a_cycle_is_refused(member):
    a = member.post(BASE, {"title": "A"}, status=201).json
    b = member.post(BASE, {"title": "B", "parent": a["number"]}, status=201).json
    # B is A's sub-task: A cannot become B's.
    error = member.patch(a["url"], {"parent": b["number"]}, status=422).json["error"]
    assert error["fields"] == {"parent": f"#{b['number']} is a sub-task itself; sub-tasks "
                               "cannot have sub-tasks."}
    # Nor its own.
    error = member.patch(a["url"], {"parent": a["number"]}, status=422).json["error"]
    assert error["fields"] == {"parent": "A task cannot be its own sub-task."}
    # A task with sub-tasks cannot become one.
    c = member.post(BASE, {"title": "C"}, status=201).json
    error = member.patch(a["url"], {"parent": c["number"]}, status=422).json["error"]
    assert error["fields"] == {"parent": "This task has sub-tasks of its own, so it "
                               "cannot become a sub-task."}
    # Nothing changed.
    assert member.get(a["url"]).json["version"] == 1
    assert member.get(a["url"]).json["parent"] is None


def test_a_parent_in_another_project_is_refused(member, factory, people, dbsession):
    other = factory.project(people["manager"], slug="beta", name="Beta",
                            members={people["member"]: "member"})
    elsewhere = factory.task(other, people["manager"], title="Beta's task")
    alone = [factory.task(other, people["manager"]) for _ in range(3)]
    assert elsewhere.number == 1
    assert alone[-1].number == 4
    mine = member.post(BASE, {"title": "Mine"}, status=201).json
    # A number names a task of the task's own project: #4 exists only in Beta.
    error = member.patch(mine["url"], {"parent": 4}, status=422).json["error"]
    assert error["fields"] == {"parent": "There is no task #4 in this project."}
    error = member.post(BASE, {"title": "x", "parent": 4}, status=422).json["error"]
    assert error["fields"] == {"parent": "There is no task #4 in this project."}
    assert dbsession.query(Task).filter(Task.parent_id.is_not(None)).count() == 0


def test_parent_needs_edit_rights(client_for, people, member):
    parent = member.post(BASE, {"title": "Parent"}, status=201).json
    task = member.post(BASE, {"title": "Task"}, status=201).json
    reporter = client_for(people["reporter"])
    error = reporter.patch(task["url"], {"parent": parent["number"]}, status=403).json
    assert error["error"]["fields"] == {"parent": "You may not change this field."}


def test_stale_parent_change_is_412(member):
    parent = member.post(BASE, {"title": "Parent"}, status=201).json
    task = member.post(BASE, {"title": "Task"}, status=201).json
    member.patch(task["url"], {"title": "Renamed"}, status=200)
    member.patch(task["url"], {"parent": parent["number"]}, status=412,
                 headers={"If-Match": member.get(task["url"]).headers["ETag"].replace(
                     "-2.", "-1.")})
    assert member.get(task["url"]).json["parent"] is None


def test_checklist_counts_follow_the_description(member):
    task = member.post(BASE, {"title": "Checklist", "description":
                              "Steps:\n\n- [x] one\n- [ ] two\n- [X] three\n\n"
                              "```\n- [ ] not an item\n```"}, status=201).json
    assert task["checklist"] == {"done": 2, "total": 3}
    changed = member.patch(task["url"], {"description": "- [x] only"}, status=200).json
    assert changed["checklist"] == {"done": 1, "total": 1}
    listed = member.get(BASE).json["items"]
    assert listed[0]["checklist"] == {"done": 1, "total": 1}


def test_deleting_a_parent_deletes_its_subtasks(member, client_for, people, dbsession):
    parent = member.post(BASE, {"title": "Parent"}, status=201).json
    child = member.post(BASE, {"title": "Child", "parent": parent["number"]}, status=201).json
    member.post(f"{child['url']}/comments", {"body": "A note"}, status=201)
    manager = client_for(people["manager"])
    manager.delete(parent["url"], status=204)
    manager.get(child["url"], status=404)
    # Each deletion is in the project's history.
    deleted = sorted(tuple(row.changes["task"]) for row in dbsession.query(Activity).filter(
        Activity.action == "task.deleted"))
    assert deleted == [(f"#{parent['number']} Parent", None),
                       (f"#{child['number']} Child", None)]


def test_closing_a_parent_leaves_its_subtasks_as_they_are(member):
    parent = member.post(BASE, {"title": "Parent"}, status=201).json
    child = member.post(BASE, {"title": "Child", "parent": parent["number"]}, status=201).json
    member.patch(parent["url"], {"status": "done"}, status=200)
    still = member.get(child["url"]).json
    assert still["status"] == "open"
    assert still["version"] == 1
    assert still["parent"] == parent["number"]
