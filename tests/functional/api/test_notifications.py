"""``/api/v1/me/notifications`` and ``.../watchers/me`` (every answer checked against the
OpenAPI document by the client)."""

from __future__ import annotations

from sqlalchemy import select

from taskdesk.domain.projects import remove_member
from taskdesk.models import Notification, ProjectWatcher, TaskWatcher

BASE = "/api/v1/me/notifications"


def _unread(dbsession, user) -> set[int]:
    return set(dbsession.scalars(select(Notification.id).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))))


def test_list_pages_newest_first_with_a_cursor(client_for, factory, people):
    member, manager = people["member"], people["manager"]
    task = factory.task(people["project"], title="Watched")
    made = [factory.notification(member, task, actor=manager,
                                 data={"changes": {"status": ["open", "done"]}},
                                 kind="task.updated") for _ in range(5)]
    factory.notification(manager, task, actor=member)  # not the caller's
    client = client_for(member)
    seen, url = [], f"{BASE}?limit=2"
    while url:
        body = client.get(url, status=200).json
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
    assert seen == [n.id for n in reversed(made)]
    item = client.get(f"{BASE}?limit=1", status=200).json["items"][0]
    assert item["task"]["number"] == task.number
    assert item["task"]["title"] == "Watched"
    assert item["actor"] == {"username": "manager", "display_name": "Manager"}
    assert item["kind"] == "task.updated"
    assert item["reason"] == "watching"
    assert item["changes"] == {"status": ["open", "done"]}
    assert item["read_at"] is None
    assert item["links"]["task"].endswith(f"/api/v1/projects/alpha/tasks/{task.number}")


def test_unread_filter_and_bad_parameters(client_for, factory, people):
    member = people["member"]
    task = factory.task(people["project"])
    read = factory.notification(member, task, read=True)
    unread = factory.notification(member, task)
    client = client_for(member)
    assert [i["id"] for i in client.get(f"{BASE}?unread=true", status=200).json["items"]] == [
        unread.id]
    assert {i["id"] for i in client.get(BASE, status=200).json["items"]} == {read.id, unread.id}
    error = client.get(f"{BASE}?unread=yes&colour=red", status=400).json["error"]
    assert set(error["fields"]) == {"unread", "colour"}
    client.get(f"{BASE}?cursor=garbage", status=400)


def test_mark_read_by_id_then_all(client_for, factory, people, dbsession):
    member, manager = people["member"], people["manager"]
    task = factory.task(people["project"])
    first, second, third = (factory.notification(member, task) for _ in range(3))
    theirs = factory.notification(manager, task)
    client = client_for(member)
    body = client.post(f"{BASE}/read", {"ids": [first.id, theirs.id]}, status=200).json
    assert body == {"marked": 1}
    assert _unread(dbsession, member) == {second.id, third.id}
    assert _unread(dbsession, manager) == {theirs.id}
    assert client.post(f"{BASE}/read", {}, status=200).json == {"marked": 2}
    assert not _unread(dbsession, member)
    error = client.post(f"{BASE}/read", {"ids": ["x"]}, status=422).json["error"]
    assert "ids" in error["fields"]
    client.post(f"{BASE}/read", {"ids": [1], "all": True}, status=422)
    client.get(f"{BASE}/read", status=405)
    # A read-only token changes nothing.
    client_for(member, scope="read").post(f"{BASE}/read", {}, status=403)


def test_no_leak_after_leaving_a_private_project(client_for, factory, people, dbsession):
    member = people["member"]
    task = factory.task(people["project"], title="Secret")
    factory.notification(member, task)
    client = client_for(member)
    assert len(client.get(BASE, status=200).json["items"]) == 1
    remove_member(dbsession, people["project"], member, people["manager"])
    dbsession.flush()
    assert client.get(BASE, status=200).json["items"] == []


def test_watch_and_unwatch_over_the_api(client_for, factory, people, dbsession):
    viewer = people["viewer"]
    task = factory.task(people["project"])
    url = f"/api/v1/projects/alpha/tasks/{task.number}/watchers/me"
    client = client_for(viewer)
    assert client.get(url, status=200).json == {"watching": False, "watchers": 1}
    assert client.put(url, status=200).json == {"watching": True, "watchers": 2}
    assert client.put(url, status=200).json == {"watching": True, "watchers": 2}
    assert dbsession.get(TaskWatcher, (task.id, viewer.id)) is not None
    client.delete(url, status=204)
    dbsession.expire_all()
    assert dbsession.get(TaskWatcher, (task.id, viewer.id)) is None
    project_url = "/api/v1/projects/alpha/watchers/me"
    assert client.put(project_url, status=200).json == {"watching": True, "watchers": 1}
    assert dbsession.get(ProjectWatcher, (people["project"].id, viewer.id)) is not None
    client.delete(project_url, status=204)
    client.get("/api/v1/projects/alpha/watchers/someone", status=404)


def test_who_may_not_view_may_not_watch(client_for, factory, people, dbsession):
    task = factory.task(people["project"])
    outsider = client_for(people["outsider"])
    outsider.put(f"/api/v1/projects/alpha/tasks/{task.number}/watchers/me", status=404)
    outsider.put("/api/v1/projects/alpha/watchers/me", status=404)
    client_for(None).get(BASE, status=401)
    assert dbsession.get(TaskWatcher, (task.id, people["outsider"].id)) is None
