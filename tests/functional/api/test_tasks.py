"""Tasks through the API: create, show, change, delete, with ETags and permissions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from taskdesk.models import Task

BASE = "/api/v1/projects/alpha/tasks"


@pytest.fixture
def member(client_for, people):
    return client_for(people["member"])


def test_simplest_client_creates_a_task_with_a_title(member, people):
    response = member.post(BASE, {"title": "写周报"}, status=201)
    task = response.json
    assert task["title"] == "写周报"
    assert task["status"] == "open"
    assert task["completed"] is False
    assert task["reporter"] == "member"
    assert task["project"] == {"slug": "alpha", "name": "Alpha 项目",
                               "url": "http://taskdesk.test/api/v1/projects/alpha"}
    assert response.headers["Location"] == task["url"]
    assert task["url"] == f"http://taskdesk.test{BASE}/{task['number']}"
    assert response.headers["ETag"].startswith(f'W/"task-{task["id"]}-1.')
    assert response.content_type == "application/json"
    # UTF-8 on the wire, not \u escapes.
    assert "写周报".encode() in response.body
    assert set(task["allowed"]) == {"view", "comment", "edit_task", "set_status", "assign"}


def test_completed_flag_maps_onto_the_workflow(member):
    done = member.post(BASE, {"title": "Already done", "completed": True}, status=201).json
    assert done["status"] == "done"
    assert done["completed"] is True
    assert done["completed_at"].endswith("Z")
    reopened = member.patch(done["url"], {"completed": False}, status=200).json
    assert reopened["status"] == "open"
    assert reopened["completed_at"] is None
    assert reopened["version"] == 2


def test_create_with_every_field(member, people):
    task = member.post(BASE, {
        "title": "Ship it", "description": "第一行\n第二行", "status": "in_progress",
        "priority": "high", "assignee": "member", "due_date": "2026-12-31",
        "labels": ["Release", "后端"],
    }, status=201).json
    assert task["description"] == "第一行\n第二行"
    assert task["assignee"] == "member"
    assert task["assignee_name"] == "张伟"
    assert task["due_date"] == "2026-12-31"
    assert task["labels"] == ["release", "后端"]
    assert task["priority"] == "high"


def test_validation_errors_are_422_with_translated_fields(member):
    response = member.post(BASE, {"title": "x" * 201, "priority": "meh", "bogus": 1},
                           status=422)
    error = response.json["error"]
    assert error["status"] == 422
    assert error["code"] == "validation_failed"
    assert error["fields"]["title"] == "Must be at most 200 characters."
    assert error["fields"]["priority"] == "Must be one of: low, normal, high, urgent."
    assert error["fields"]["bogus"] == "Unknown field."


def test_missing_title_is_422(member):
    response = member.post(BASE, {}, status=422)
    assert response.json["error"]["fields"] == {"title": "This field is required."}


def test_show_etag_and_if_none_match(member, factory, people):
    task = factory.task(people["project"], title="Read me")
    url = f"{BASE}/{task.number}"
    first = member.get(url, status=200)
    etag = first.headers["ETag"]
    assert first.json["title"] == "Read me"
    again = member.get(url, headers={"If-None-Match": etag}, status=304)
    assert again.body == b""
    assert again.headers["ETag"] == etag
    # Another caller (fewer permissions) gets another tag: "allowed" is part of the body.
    assert first.headers["Vary"] == "Authorization, Cookie"


def test_etag_changes_when_permissions_change(client_for, factory, people):
    task = factory.task(people["project"])
    url = f"{BASE}/{task.number}"
    as_member = client_for(people["member"]).get(url).headers["ETag"]
    as_viewer = client_for(people["viewer"]).get(url)
    assert as_viewer.json["allowed"] == ["view"]
    assert as_viewer.headers["ETag"] != as_member
    client_for(people["viewer"]).get(url, headers={"If-None-Match": as_member}, status=200)


def test_stale_if_match_is_412_and_changes_nothing(member, factory, people, dbsession):
    task = factory.task(people["project"], title="Original")
    url = f"{BASE}/{task.number}"
    etag = member.get(url).headers["ETag"]
    member.patch(url, {"title": "First change"}, headers={"If-Match": etag}, status=200)
    response = member.patch(url, {"title": "Second change"}, headers={"If-Match": etag},
                            status=412)
    assert response.json["error"]["code"] == "precondition_failed"
    current = member.get(url).json
    assert current["title"] == "First change"
    assert current["version"] == 2


def test_stale_version_in_body_is_412(member, factory, people):
    task = factory.task(people["project"], title="Original")
    url = f"{BASE}/{task.number}"
    member.patch(url, {"title": "v2", "version": 1}, status=200)
    response = member.patch(url, {"title": "v3", "version": 1}, status=412)
    assert response.json["error"]["code"] == "version_conflict"
    assert member.get(url).json["title"] == "v2"


def test_if_match_of_another_task_is_412(member, factory, people):
    task = factory.task(people["project"])
    other = factory.task(people["project"])
    etag = member.get(f"{BASE}/{other.number}").headers["ETag"]
    response = member.patch(f"{BASE}/{task.number}", {"title": "x"},
                            headers={"If-Match": etag}, status=412)
    assert response.json["error"]["code"] == "precondition_failed"


def test_current_if_match_with_a_stale_body_version_is_a_version_conflict(member, factory,
                                                                         people):
    task = factory.task(people["project"])
    url = f"{BASE}/{task.number}"
    member.patch(url, {"title": "v2"}, status=200)
    etag = member.get(url).headers["ETag"]
    response = member.patch(url, {"title": "v3", "version": 1}, headers={"If-Match": etag},
                            status=412)
    assert response.json["error"]["code"] == "version_conflict"
    assert member.get(url).json["title"] == "v2"


def test_a_patch_of_nothing_but_a_version_needs_edit_task(client_for, factory, people):
    task = factory.task(people["project"])
    url = f"{BASE}/{task.number}"
    refused = client_for(people["reporter"]).patch(url, {"version": 1}, status=403)
    assert refused.json["error"] == {"status": 403, "code": "forbidden",
                                     "message": "You do not have permission to do this."}
    assert client_for(people["member"]).patch(url, {"version": 1}, status=200).json[
        "version"] == 1


def test_if_match_with_current_tag_succeeds(member, factory, people):
    task = factory.task(people["project"])
    url = f"{BASE}/{task.number}"
    etag = member.get(url).headers["ETag"]
    updated = member.patch(url, {"priority": "urgent"}, headers={"If-Match": etag})
    assert updated.status_int == 200
    assert updated.json["priority"] == "urgent"
    assert updated.headers["ETag"] != etag


def test_reporter_may_set_status_but_not_edit(client_for, factory, people):
    task = factory.task(people["project"])
    url = f"{BASE}/{task.number}"
    reporter = client_for(people["reporter"])
    assert set(reporter.get(url).json["allowed"]) == {"view", "comment", "set_status"}
    assert reporter.patch(url, {"status": "in_progress"}, status=200).json["status"] == (
        "in_progress"
    )
    refused = reporter.patch(url, {"title": "Mine now", "status": "done"}, status=403)
    assert refused.json["error"]["fields"] == {"title": "You may not change this field."}
    assert reporter.get(url).json["status"] == "in_progress"


def test_viewer_cannot_create_or_change(client_for, factory, people):
    task = factory.task(people["project"])
    viewer = client_for(people["viewer"])
    assert viewer.post(BASE, {"title": "No"}, status=403).json["error"]["code"] == "forbidden"
    viewer.patch(f"{BASE}/{task.number}", {"title": "No"}, status=403)
    viewer.patch(f"{BASE}/{task.number}", {}, status=403)
    viewer.delete(f"{BASE}/{task.number}", status=403)


def test_read_only_token_reads_but_cannot_write(client_for, factory, people):
    task = factory.task(people["project"])
    reader = client_for(people["manager"], scope="read")
    shown = reader.get(f"{BASE}/{task.number}", status=200).json
    assert shown["allowed"] == ["view"]
    assert reader.post(BASE, {"title": "No"}, status=403).json["error"]["code"] == "forbidden"
    reader.delete(f"{BASE}/{task.number}", status=403)


def test_delete_with_if_match(client_for, factory, people, dbsession):
    task = factory.task(people["project"])
    manager = client_for(people["manager"])
    url = f"{BASE}/{task.number}"
    etag = manager.get(url).headers["ETag"]
    manager.patch(url, {"title": "changed"})
    manager.delete(url, headers={"If-Match": etag}, status=412)
    fresh = manager.get(url).headers["ETag"]
    manager.delete(url, headers={"If-Match": fresh}, status=204)
    manager.get(url, status=404)
    assert dbsession.scalar(select(Task.id).where(Task.id == task.id)) is None


def test_unknown_assignee_is_422(member):
    response = member.post(BASE, {"title": "x", "assignee": "nobody"}, status=422)
    assert response.json["error"]["fields"] == {"assignee": "No active user with this username."}


def test_activity_lists_the_history(member, people):
    task = member.post(BASE, {"title": "History"}).json
    member.patch(task["url"], {"status": "done"})
    activity = member.get(task["url"] + "/activity").json
    assert [entry["action"] for entry in activity["items"]] == ["task.created", "task.updated"]
    assert activity["items"][1]["changes"]["status"] == ["open", "done"]
    assert activity["items"][1]["actor"] == "member"
    assert activity["next"] is None
