"""Every list page carries a weak ETag of its whole representation; If-None-Match with it
answers 304, so integrations can poll cheaply."""

from __future__ import annotations

import pytest

from taskdesk.domain.comments import add_comment
from taskdesk.domain.projects import set_member
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import update_task

LISTS = (
    "/api/v1/projects",
    "/api/v1/projects/alpha/tasks",
    "/api/v1/tasks",
    "/api/v1/projects/alpha/members",
    "/api/v1/projects/alpha/tasks/1/comments",
    "/api/v1/projects/alpha/tasks/1/activity",
    "/api/v1/me/tokens",
)


@pytest.fixture
def task(factory, people):
    task = factory.task(people["project"], title="Watched")
    add_comment(factory.dbsession, task, people["manager"], {"body": "first"})
    factory.dbsession.flush()
    return task


def _poll(client, url, tag, status):
    return client.get(url, headers={"If-None-Match": tag}, status=status)


@pytest.mark.parametrize("url", LISTS)
def test_list_answers_304_to_its_own_etag(client_for, people, task, url):
    client = client_for(people["member"])
    first = client.get(url, status=200)
    tag = first.headers["ETag"]
    assert tag.startswith('W/"list-')
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in first.headers["Vary"]
    again = _poll(client, url, tag, 304)
    assert again.body == b""
    assert again.headers["ETag"] == tag
    assert _poll(client, url, f'"other", {tag[2:]}', 304).headers["ETag"] == tag
    assert _poll(client, url, 'W/"list-0"', 200).json == first.json
    head = client.request("HEAD", url, headers={"If-None-Match": tag})
    assert head.status_int == 304


def test_a_change_to_a_task_changes_the_lists_showing_it(client_for, people, task, factory,
                                                        settings):
    client = client_for(people["member"])
    urls = ("/api/v1/projects/alpha/tasks", "/api/v1/tasks",
            "/api/v1/projects/alpha/tasks/1/activity")
    tags = {url: client.get(url).headers["ETag"] for url in urls}
    update_task(factory.dbsession, settings, task, people["manager"], {"priority": "high"},
                may=UNRESTRICTED)
    factory.dbsession.flush()
    for url in urls:
        assert _poll(client, url, tags[url], 200).headers["ETag"] != tags[url], url


def test_a_new_comment_changes_the_comment_list(client_for, people, task, factory):
    client = client_for(people["member"])
    url = "/api/v1/projects/alpha/tasks/1/comments"
    tag = client.get(url).headers["ETag"]
    add_comment(factory.dbsession, task, people["manager"], {"body": "second"})
    factory.dbsession.flush()
    assert len(_poll(client, url, tag, 200).json["items"]) == 2


def test_a_role_change_changes_allowed_and_so_the_etag(client_for, people, task, factory,
                                                       settings):
    """Same rows, other permissions: the representation differs, so must the tag."""
    client = client_for(people["viewer"])
    url = "/api/v1/projects/alpha/tasks"
    before = client.get(url)
    set_member(factory.dbsession, settings, people["project"], people["viewer"],
               people["manager"], {"role": "member"})
    factory.dbsession.flush()
    after = _poll(client, url, before.headers["ETag"], 200)
    assert after.json["items"][0]["allowed"] != before.json["items"][0]["allowed"]


def test_callers_with_other_permissions_get_other_tags(client_for, people, task):
    url = "/api/v1/projects/alpha/tasks"
    viewer_tag = client_for(people["viewer"]).get(url).headers["ETag"]
    member = client_for(people["member"])
    assert member.get(url).headers["ETag"] != viewer_tag
    _poll(member, url, viewer_tag, 200)


def test_every_page_has_its_own_tag(client_for, people, task, factory):
    factory.task(people["project"], title="Another")
    client = client_for(people["member"])
    url = "/api/v1/projects/alpha/tasks"
    first = client.get(f"{url}?limit=1")
    second = client.get(first.json["next"])
    whole = client.get(url)
    tags = {first.headers["ETag"], second.headers["ETag"], whole.headers["ETag"]}
    assert len(tags) == 3
    _poll(client, first.json["next"], first.headers["ETag"], 200)


def test_openapi_documents_list_etags_and_304(openapi_document):
    for path in ("/projects", "/projects/{slug}/tasks", "/tasks", "/projects/{slug}/members",
                 "/projects/{slug}/tasks/{number}/comments",
                 "/projects/{slug}/tasks/{number}/activity", "/me/tokens"):
        operation = openapi_document["paths"][path]["get"]
        assert "ETag" in operation["responses"]["200"]["headers"], path
        assert "content" not in operation["responses"]["304"], path
        assert "If-None-Match" in [p["name"] for p in operation["parameters"]], path
