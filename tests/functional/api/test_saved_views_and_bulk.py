"""``.../views`` (saved views) and ``.../tasks/bulk`` over the JSON API; every answer is
checked against the OpenAPI document by the client."""

from __future__ import annotations

from sqlalchemy import select

from taskdesk.domain.bulk import MAX_BULK_TASKS
from taskdesk.models import Activity, SavedView
from tests.support.web import reload_task

VIEWS = "/api/v1/projects/alpha/views"
BULK = "/api/v1/projects/alpha/tasks/bulk"


def test_save_list_show_change_and_delete_views(client_for, people):
    member = client_for(people["member"])
    body = member.post(VIEWS, {"name": "Urgent", "shared": True,
                                     "filters": {"priority": "urgent", "state": "open"}},
                       status=201).json
    assert body["name"] == "Urgent"
    assert body["shared"] is True
    assert body["valid"] is True
    assert body["filters"] == {"priority": "urgent", "state": "open"}
    assert body["allowed"] == ["change_view"]
    assert body["tasks_url"].endswith("/projects/alpha/tasks?priority=urgent&state=open")
    private = member.post(VIEWS, {"name": "Mine"}, status=201).json
    assert private["shared"] is False
    assert [v["name"] for v in member.get(VIEWS).json["items"]] == ["Urgent", "Mine"]
    # The caller's private views in every project they may see.
    assert [v["url"] for v in member.get("/api/v1/me/views").json["items"]] == [
        private["url"]]
    # Others see the shared view only; the private one is a 404 to them.
    viewer = client_for(people["viewer"])
    assert [v["name"] for v in viewer.get(VIEWS).json["items"]] == ["Urgent"]
    assert viewer.get(body["url"]).json["allowed"] == []
    viewer.get(private["url"], status=404)
    assert viewer.get("/api/v1/me/views").json["items"] == []
    viewer.patch(body["url"], {"name": "Mine now"}, status=403)
    # The manager may rename and delete a shared view, not see a private one.
    manager = client_for(people["manager"])
    assert manager.patch(body["url"], {"name": "Hot"}, status=200).json["name"] == "Hot"
    manager.delete(private["url"], status=404)
    manager.delete(body["url"], status=204)
    member.get(body["url"], status=404)
    member.delete(private["url"], status=204)


def test_sharing_needs_edit_task(client_for, people, dbsession):
    viewer = client_for(people["viewer"])
    answer = viewer.post(VIEWS, {"name": "Team", "shared": True}, status=403).json
    assert answer["error"]["fields"] == {"shared": "You may not change this field."}
    made = viewer.post(VIEWS, {"name": "Mine"}, status=201).json
    viewer.patch(made["url"], {"shared": True}, status=403)
    outsider = client_for(people["outsider"])
    outsider.get(VIEWS, status=404)
    outsider.post(VIEWS, {"name": "X"}, status=404)
    assert dbsession.scalars(select(SavedView.name)).all() == ["Mine"]


def test_filters_are_checked_by_the_list_rules(client_for, people, dbsession):
    member = client_for(people["member"])
    error = member.post(VIEWS, {"name": "Bad", "filters": {
        "status": "nonsense", "colour": "red", "due_before": "soon"}}, status=422).json["error"]
    assert set(error["fields"]) == {"filters.status", "filters.colour", "filters.due_before"}
    assert error["fields"]["filters.colour"] == "Unknown parameter."
    member.post(VIEWS, {"name": "Bad", "filters": ["status"]}, status=422)
    member.post(VIEWS, {"name": ""}, status=422)
    # A stored filter that no longer holds (a status gone from the workflow) is shown as
    # invalid, never an error.
    view = SavedView(project_id=people["project"].id, owner_id=people["member"].id,
                     name="Stale", shared=False, params={"status": "vanished"})
    dbsession.add(view)
    dbsession.flush()
    assert member.get(f"{VIEWS}/{view.id}").json["valid"] is False


def _tasks(factory, people, count, **values):
    return [factory.task(people["project"], people["manager"], title=f"Task {i}", **values)
            for i in range(count)]


def _refs(tasks):
    return [{"number": t.number, "version": t.version} for t in tasks]


def test_bulk_change_per_task_results(client_for, factory, people, dbsession):
    tasks = _tasks(factory, people, 3)
    dbsession.flush()
    stale = _refs(tasks)
    stale[1]["version"] += 1
    member = client_for(people["member"])
    body = member.post(BULK, {"tasks": [*stale, {"number": 999, "version": 1}],
                              "status": "done", "priority": "high",
                              "add_labels": ["triaged"]}, status=200).json
    assert [(i["number"], i["outcome"], i["reason"]) for i in body["items"]] == [
        (tasks[0].number, "changed", None), (tasks[1].number, "refused", "version_conflict"),
        (tasks[2].number, "changed", None), (999, "refused", "not_found")]
    assert body["items"][0]["changes"] == {"status": ["open", "done"],
                                           "priority": ["normal", "high"],
                                           "labels": [[], ["triaged"]]}
    assert (body["changed"], body["refused"]) == (2, 2)
    assert reload_task(dbsession, people["project"], tasks[1].number).status == "open"
    entries = dbsession.scalars(select(Activity.task_id).where(
        Activity.action == "task.updated")).all()
    assert sorted(entries) == sorted([tasks[0].id, tasks[2].id])


def test_bulk_checks_each_fields_permission(client_for, factory, people, dbsession):
    tasks = _tasks(factory, people, 2)
    dbsession.flush()
    # A reporter may set the status, not the priority or the assignee.
    reporter = client_for(people["reporter"])
    body = reporter.post(BULK, {"tasks": _refs(tasks), "priority": "high"}, status=200).json
    assert {i["reason"] for i in body["items"]} == {"forbidden"}
    body = reporter.post(BULK, {"tasks": _refs(tasks), "status": "done"}, status=200).json
    assert {i["outcome"] for i in body["items"]} == {"changed"}
    member = client_for(people["member"])
    body = member.post(BULK, {"tasks": _refs([reload_task(dbsession, people["project"], t.number)
                                              for t in tasks]), "delete": True}).json
    assert {i["reason"] for i in body["items"]} == {"forbidden"}
    client_for(people["outsider"]).post(BULK, {"tasks": _refs(tasks), "status": "done"},
                                        status=404)


def test_bulk_assign_and_delete(client_for, factory, people, dbsession):
    tasks = _tasks(factory, people, 2)
    dbsession.flush()
    manager = client_for(people["manager"])
    body = manager.post(BULK, {"tasks": _refs(tasks), "assignee": "member",
                               "due_date": "2030-01-31"}).json
    assert {i["outcome"] for i in body["items"]} == {"changed"}
    row = reload_task(dbsession, people["project"], tasks[0].number)
    assert row.assignee_id == people["member"].id
    body = manager.post(BULK, {"tasks": _refs([row]), "assignee": "outsider"}).json
    assert body["items"][0]["reason"] == "invalid"
    assert "not a member" in body["items"][0]["message"]
    refs = _refs([reload_task(dbsession, people["project"], t.number) for t in tasks])
    body = manager.post(BULK, {"tasks": refs, "delete": True}).json
    assert {i["outcome"] for i in body["items"]} == {"deleted"}
    assert reload_task(dbsession, people["project"], tasks[1].number) is None


def test_bulk_refuses_bad_bodies_and_too_many_tasks(client_for, people):
    member = client_for(people["member"])
    too_many = [{"number": n, "version": 1} for n in range(1, MAX_BULK_TASKS + 2)]
    error = member.post(BULK, {"tasks": too_many, "status": "done"}, status=422).json["error"]
    assert error["fields"] == {"tasks": f"At most {MAX_BULK_TASKS} tasks at once."}
    error = member.post(BULK, {"tasks": [{"number": 1, "version": 1}]}, status=422).json
    assert error["error"]["fields"] == {"change": "Choose what to change."}
    error = member.post(BULK, {"tasks": [], "delete": True, "status": "done"},
                        status=422).json["error"]
    assert set(error["fields"]) == {"tasks", "delete"}
    member.post(BULK, {"tasks": "1:1", "status": "done"}, status=422)
    member.get(BULK, status=405)
