"""``GET /api/v1/projects/<slug>/activity``: the project's feed with the web page's filters,
folding and visibility, paged by cursor, in a fixed number of statements."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest

from taskdesk.domain.attachments import Upload, add_attachments
from taskdesk.domain.comments import add_comment, delete_comment
from taskdesk.domain.links import add_link
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.tasks import delete_task, update_task
from taskdesk.storage import store_for
from tests.support.databases import recorded_statements
from tests.support.files import png

URL = "/api/v1/projects/alpha/activity"


def _change(factory, task, actor, **values):
    update_task(factory.dbsession, factory.settings, task, actor, values, may=UNRESTRICTED)
    factory.dbsession.flush()


def test_feed_filters_and_folds(client_for, factory, people):
    project, member, manager = people["project"], people["member"], people["manager"]
    task = factory.task(project, manager, title="Plan")
    _change(factory, task, member, status="in_progress")
    _change(factory, task, member, status="done")
    add_comment(factory.dbsession, task, manager, {"body": "Thanks"})
    factory.dbsession.flush()
    client = client_for(people["viewer"])
    items = client.get(URL).json["items"]
    assert [item["action"] for item in items[:3]] == ["comment.added", "task.updated",
                                                       "task.created"]
    folded = items[1]
    assert folded["count"] == 2
    assert folded["oldest_id"] < folded["id"]
    assert folded["changes"] == {"status": ["open", "done"]}
    assert folded["actor"] == "member"
    assert folded["task"] == task.number
    assert folded["task_url"].endswith(f"/api/v1/projects/alpha/tasks/{task.number}")
    only = client.get(URL + "?person=member&kind=status,comments").json
    assert [item["count"] for item in only["items"]] == [2]
    mine = client_for(manager).get(URL + "?person=me&kind=comments").json
    assert [item["action"] for item in mine["items"]] == ["comment.added"]


def test_bad_parameters_are_a_400(client_for, people):
    client = client_for(people["member"])
    body = client.get(URL + "?kind=gossip&colour=red&cursor=nope", status=400).json
    assert set(body["error"]["fields"]) == {"kind", "colour", "cursor"}
    assert "offset" in client.get(URL + "?offset=2", status=400).json["error"][
        "fields"]


def test_pages_by_cursor_and_hides_what_the_caller_may_not_see(client_for, factory, people):
    project, manager = people["project"], people["manager"]
    hidden = factory.project(manager, slug="hidden")
    secret = factory.task(hidden, manager, title="Secret")
    tasks = [factory.task(project, manager, title=f"T{n}") for n in range(5)]
    add_link(factory.dbsession, tasks[0], manager, {"kind": "blocks",
                                                     "task": f"hidden#{secret.number}"})
    factory.dbsession.flush()
    client = client_for(people["member"])
    seen: list[Any] = []
    url: str | None = URL + "?kind=created,links&limit=2"
    while url:
        page = client.get(url).json
        seen += page["items"]
        url = page["next"]
    assert [item["task"] for item in seen] == [5, 4, 3, 2, 1]
    assert "link.added" not in [item["action"] for item in seen]
    manager_view = client_for(manager).get(URL + "?kind=links").json["items"]
    assert [item["action"] for item in manager_view] == ["link.added"]
    client_for(people["outsider"]).get(URL, status=404)


@pytest.fixture
def statements(connection: Any) -> Iterator[list[str]]:
    with recorded_statements(connection) as seen:
        yield seen


def test_statement_count_does_not_grow(client_for, factory, people, statements):
    """identity (token, user, groups); the project with its memberships; the feed."""
    client = client_for(people["member"])

    def grow(number: int) -> int:
        for _ in range(number):
            task = factory.task(people["project"], people["manager"])
            _change(factory, task, people["member"], status="in_progress")
        client.get(URL)
        statements.clear()
        client.get(URL + "?kind=changed,created&person=member")
        return len(statements)

    assert grow(2) == grow(20) == 3


def test_each_kind_selects_its_entries(client_for, factory, people):
    """Every kind against every action the domain records (JSON keys on both databases)."""
    project, manager, member = people["project"], people["manager"], people["member"]
    task = factory.task(project, manager, title="Kinds")
    other = factory.task(project, manager, title="Other")
    _change(factory, task, member, status="in_progress")
    _change(factory, task, member, assignee="member")
    _change(factory, other, manager, title="Renamed")
    comment = add_comment(factory.dbsession, task, member, {"body": "Note"})
    factory.dbsession.flush()
    delete_comment(factory.dbsession, comment, task, member)
    add_link(factory.dbsession, task, manager, {"kind": "relates_to", "task": f"#{other.number}"})
    add_attachments(factory.dbsession, store_for(factory.settings), factory.settings, task,
                    member, [Upload("a.png", io.BytesIO(png()))])
    delete_task(factory.dbsession, other, manager)
    factory.dbsession.flush()
    client = client_for(manager)

    def actions(kind: str) -> set[str]:
        items = client.get(f"{URL}?kind={kind}&limit=100").json["items"]
        return {item["action"] for item in items}

    assert actions("created") == {"task.created"}
    assert actions("changed") == {"task.updated"}
    status = client.get(f"{URL}?kind=status").json["items"]
    assert [set(item["changes"]) for item in status] == [{"status"}]
    assignee = client.get(f"{URL}?kind=assignee").json["items"]
    assert [set(item["changes"]) for item in assignee] == [{"assignee"}]
    assert actions("comments") == {"comment.added", "comment.deleted"}
    assert actions("links") == {"link.added"}
    assert actions("attachments") == {"attachment.added"}
    assert actions("deleted") == {"task.deleted"}
    assert actions("members") == {"member.added"}
    assert actions("project") == {"project.created"}
    assert actions("status,comments") == {"task.updated", "comment.added", "comment.deleted"}
