"""Projects, comments, members, tokens and the caller's account through the API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from taskdesk.models import ApiToken, Project

PROJECT = "/api/v1/projects/alpha"


@pytest.fixture
def manager(client_for, people):
    return client_for(people["manager"])


def test_me(client_for, people):
    me = client_for(people["member"]).get("/api/v1/me", status=200)
    assert me.json["username"] == "member"
    assert me.json["display_name"] == "张伟"
    assert me.json["allowed"] == ["create_project"]
    assert me.headers["ETag"].startswith('W/"user-')


def test_project_list_create_show_update_archive(client_for, people, dbsession):
    member = client_for(people["member"])
    listed = member.get("/api/v1/projects", status=200).json
    assert [p["slug"] for p in listed["items"]] == ["alpha"]
    assert listed["items"][0]["allowed"] == ["view", "create_task"]

    created = member.post("/api/v1/projects", {"slug": "beta", "name": "Beta 测试"}, status=201)
    beta = created.json
    assert created.headers["Location"] == beta["url"] == "http://taskdesk.test/api/v1/projects/beta"
    assert beta["visibility"] == "private"
    assert beta["allowed"] == ["view", "create_task", "manage_project", "manage_members",
                               "archive_project"]

    etag = member.get(beta["url"]).headers["ETag"]
    renamed = member.patch(beta["url"], {"name": "Beta 2"}, headers={"If-Match": etag}).json
    assert renamed["name"] == "Beta 2"
    member.patch(beta["url"], {"name": "stale"}, headers={"If-Match": etag}, status=412)

    archived = member.delete(beta["url"], status=200).json
    assert archived["archived"] is True
    assert archived["allowed"] == ["view", "archive_project"]
    assert dbsession.scalar(select(Project.is_archived).where(Project.slug == "beta")) is True
    member.post(beta["url"] + "/tasks", {"title": "too late"}, status=403)


def test_archived_project_is_read_only_for_site_admins_too(client_for, people, dbsession):
    """Only taking it out of the archive is allowed, to its managers and site admins."""
    manager = client_for(people["member"])
    url = manager.post("/api/v1/projects", {"slug": "gamma", "name": "Gamma"},
                       status=201).json["url"]
    manager.delete(url, status=200)
    admin = client_for(people["admin"])
    assert admin.get(url).json["allowed"] == ["view", "archive_project"]
    admin.post(url + "/tasks", {"title": "too late"}, status=403)
    refused = admin.patch(url, {"name": "Renamed", "archived": False}, status=403).json
    assert list(refused["error"]["fields"]) == ["name"]
    outsider = client_for(people["outsider"])
    outsider.patch(url, {"archived": False}, status=404)  # a private project it cannot see
    back = manager.patch(url, {"archived": False}, status=200).json
    assert back["archived"] is False
    assert "create_task" in back["allowed"]
    admin.patch(url, {"archived": True}, status=200)
    assert admin.patch(url, {"archived": False}, status=200).json["archived"] is False


def test_project_list_pages_by_cursor(client_for, factory, people):
    for n in range(3):
        factory.project(people["member"], slug=f"p-{n}")
    member = client_for(people["member"])
    first = member.get("/api/v1/projects?limit=2").json
    second = member.get(first["next"]).json
    assert second["next"] is None
    slugs = [p["slug"] for p in first["items"] + second["items"]]
    assert sorted(slugs) == ["alpha", "p-0", "p-1", "p-2"]
    member.get("/api/v1/projects?cursor=garbage", status=400)
    member.get("/api/v1/projects?visibility=private", status=400)


def test_comments_lifecycle(client_for, factory, people):
    task = factory.task(people["project"])
    base = f"{PROJECT}/tasks/{task.number}/comments"
    member = client_for(people["member"])
    created = member.post(base, {"body": "看起来不错 👍"}, status=201)
    comment = created.json
    assert comment["body"] == "看起来不错 👍"
    assert comment["author"] == "member"
    assert comment["allowed"] == ["edit_comment", "delete_comment"]
    assert created.headers["Location"] == comment["url"]

    viewer = client_for(people["viewer"])
    listed = viewer.get(base).json
    assert [c["body"] for c in listed["items"]] == ["看起来不错 👍"]
    assert listed["items"][0]["allowed"] == []
    viewer.post(base, {"body": "no"}, status=403)
    viewer.patch(comment["url"], {"body": "mine?"}, status=403)

    manager = client_for(people["manager"])
    assert manager.get(comment["url"]).json["allowed"] == ["delete_comment"]
    manager.patch(comment["url"], {"body": "not yours"}, status=403)

    etag = member.get(comment["url"]).headers["ETag"]
    edited = member.patch(comment["url"], {"body": "edited"}, headers={"If-Match": etag}).json
    assert edited["version"] == 2
    member.patch(comment["url"], {"body": "again"}, headers={"If-Match": etag}, status=412)
    member.delete(comment["url"], headers={"If-Match": etag}, status=412)
    manager.delete(comment["url"], status=204)
    member.get(comment["url"], status=404)


def test_comment_list_pages(client_for, factory, people):
    task = factory.task(people["project"])
    base = f"{PROJECT}/tasks/{task.number}/comments"
    member = client_for(people["member"])
    for n in range(5):
        member.post(base, {"body": f"c{n}"})
    seen, url = [], f"{base}?limit=2"
    while url:
        page = member.get(url).json
        seen += [c["body"] for c in page["items"]]
        url = page["next"]
    assert seen == [f"c{n}" for n in range(5)]


def test_members(client_for, factory, people):
    manager = client_for(people["manager"])
    listed = manager.get(f"{PROJECT}/members").json
    assert {(m["principal"], m["role"]) for m in listed["items"]} == {
        ("user:manager", "manager"), ("user:member", "member"), ("user:viewer", "viewer"),
        ("user:reporter", "reporter")}
    assert listed["items"][0]["allowed"] == ["view", "manage_members"]

    newcomer = factory.user("newcomer")
    added = manager.put(f"{PROJECT}/members/user:newcomer", {"role": "viewer"}, status=201)
    assert added.json["principal"] == "user:newcomer"
    assert added.headers["Location"] == added.json["url"]
    etag = manager.get(f"{PROJECT}/members/user:newcomer").headers["ETag"]
    changed = manager.put(f"{PROJECT}/members/user:newcomer", {"role": "member"},
                          headers={"If-Match": etag}, status=200)
    assert changed.json["role"] == "member"
    manager.put(f"{PROJECT}/members/user:newcomer", {"role": "viewer"},
                headers={"If-Match": etag}, status=412)
    assert client_for(newcomer).get(PROJECT, status=200).json["slug"] == "alpha"

    group = factory.group("ops", members=(people["outsider"],))
    manager.put(f"{PROJECT}/members/group:{group.name}", {"role": "viewer"}, status=201)
    assert client_for(people["outsider"]).get(PROJECT).status_int == 200

    manager.put(f"{PROJECT}/members/user:newcomer", {"role": "boss"}, status=422)
    manager.delete(f"{PROJECT}/members/user:newcomer", status=204)
    manager.delete(f"{PROJECT}/members/user:newcomer", status=404)
    manager.get(f"{PROJECT}/members/user:nobody", status=404)
    last_manager = manager.delete(f"{PROJECT}/members/user:manager", status=409)
    assert last_manager.json["error"]["message"] == "A project needs at least one manager."
    client_for(people["member"]).put(f"{PROJECT}/members/user:viewer", {"role": "manager"},
                                     status=403)


def test_tokens(client_for, people, dbsession):
    member = client_for(people["member"])
    created = member.post("/api/v1/me/tokens", {"name": "CI 机器人", "scope": "read",
                                                 "expires_in_days": 30}, status=201)
    token = created.json
    assert token["secret"].startswith("td_")
    assert token["name"] == "CI 机器人"
    assert created.headers["Cache-Control"] == "no-store"
    stored = dbsession.get(ApiToken, token["id"])
    assert token["secret"] not in (stored.token_hash, stored.prefix)

    listed = member.get("/api/v1/me/tokens").json["items"]
    assert {t["name"] for t in listed} == {"tests", "CI 机器人"}
    assert all("secret" not in t for t in listed)

    from tests.support.api import ApiClient

    new_client = ApiClient(member.app, member.checker, token["secret"])
    assert new_client.get("/api/v1/me").json["username"] == "member"
    member.delete(token["url"], status=204)
    new_client.get("/api/v1/me", status=401)
    assert member.get(token["url"]).json["revoked_at"] is not None
    client_for(people["viewer"]).get(token["url"], status=404)
