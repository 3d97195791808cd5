"""The board through the API: ``POST .../tasks/<n>/move``, ``sort=rank`` and the project's
``wip_limits``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from taskdesk.domain import ranks
from taskdesk.domain.board import move_task
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import Task
from tests.support.databases import recorded_statements

BASE = "/api/v1/projects/alpha"


@pytest.fixture
def statements(connection):
    with recorded_statements(connection) as seen:
        yield seen


@pytest.fixture
def member(client_for, people):
    return client_for(people["member"])


def _order(client, status):
    items = client.get(f"{BASE}/tasks?status={status}&sort=rank").json["items"]
    return [item["title"] for item in items]


def test_moves_order_a_column_and_change_status(member):
    made = [member.post(f"{BASE}/tasks", {"title": title}, status=201).json
            for title in ("A", "B", "C")]
    assert _order(member, "open") == ["C", "B", "A"]
    a, b, c = made
    moved = member.post(f"{a['url']}/move", {"before": c["number"]}, status=200).json
    assert moved["over_wip_limit"] is None
    assert moved["task"]["version"] == 1  # ordering is no change of the task
    assert _order(member, "open") == ["A", "C", "B"]
    member.post(f"{c['url']}/move", {"after": b["number"]}, status=200)
    assert _order(member, "open") == ["A", "B", "C"]
    # Another column: a status change, with its version check.
    member.post(f"{b['url']}/move", {"status": "done", "version": 7}, status=412)
    moved = member.post(f"{b['url']}/move", {"status": "done", "version": 1}, status=200).json
    assert (moved["task"]["status"], moved["task"]["version"]) == ("done", 2)
    member.post(f"{a['url']}/move", {"status": "done", "after": b["number"]}, status=200)
    assert _order(member, "done") == ["B", "A"]
    assert _order(member, "open") == ["C"]
    # Paging in board order.
    page = member.get(f"{BASE}/tasks?status=done&sort=rank&limit=1").json
    assert [item["title"] for item in page["items"]] == ["B"]
    assert [item["title"] for item in member.get(page["next"]).json["items"]] == ["A"]


def test_bad_moves_are_refused_with_the_field(member, client_for, people):
    task = member.post(f"{BASE}/tasks", {"title": "T"}, status=201).json
    done = member.post(f"{BASE}/tasks", {"title": "D", "status": "done"}, status=201).json
    for body, field in (({"after": done["number"]}, "after"), ({"before": 999}, "before"),
                        ({"after": task["number"]}, "after"),
                        ({"after": 1, "before": 2}, "before"), ({"rank": 3}, "rank"),
                        ({"status": "nope"}, "status"), ({"after": "1"}, "after")):
        answer = member.post(f"{task['url']}/move", body, status=422).json
        assert field in answer["error"]["fields"], body
    client_for(people["viewer"]).post(f"{task['url']}/move", {}, status=403)
    client_for(people["outsider"]).post(f"{task['url']}/move", {}, status=404)


def test_wip_limits_in_the_project_json_and_a_move_past_them(member, client_for, people):
    manager = client_for(people["manager"])
    project = manager.get(BASE).json
    assert project["wip_limits"] == {}
    for bad in ({"in_progress": 0}, {"in_progress": "3"}, {"nope": 3}, [3],
                {"in_progress": 10000}):
        manager.patch(BASE, {"wip_limits": bad}, status=422)
    changed = manager.patch(BASE, {"wip_limits": {"in_progress": 1, "open": None}},
                            status=200).json
    assert changed["wip_limits"] == {"in_progress": 1}
    member.patch(BASE, {"wip_limits": {}}, status=403)
    first = member.post(f"{BASE}/tasks", {"title": "1"}, status=201).json
    second = member.post(f"{BASE}/tasks", {"title": "2"}, status=201).json
    assert member.post(f"{first['url']}/move", {"status": "in_progress"},
                       status=200).json["over_wip_limit"] is None
    assert member.post(f"{second['url']}/move", {"status": "in_progress"},
                       status=200).json["over_wip_limit"] == 1
    assert _order(member, "in_progress") == ["2", "1"]


def test_a_full_gap_renumbers_the_column(dbsession, factory, people):
    """Twenty-odd moves into the same gap exhaust it: the column is renumbered, and every
    card stays where it was put."""
    project = people["project"]
    actor = people["manager"]
    bottom = factory.task(project, actor, title="low")
    top = factory.task(project, actor, title="high")
    expected = [top.title]
    for n in range(25):
        task = factory.task(project, actor, title=f"m{n}")
        move_task(dbsession, factory.settings, task, actor, {"before": bottom.number},
                  may=UNRESTRICTED, wip_limits={})
        expected.append(task.title)
    expected.append(bottom.title)
    dbsession.expire_all()
    order = dbsession.scalars(select(Task.title).where(Task.project_id == project.id)
                              .order_by(Task.rank, Task.id)).all()
    assert order == expected
    spread = dbsession.scalars(select(Task.rank).where(Task.project_id == project.id)
                               .order_by(Task.rank)).all()
    assert len(set(spread)) == len(spread)
    assert max(spread) - min(spread) <= len(spread) * ranks.RANK_GAP


@pytest.mark.parametrize("extra", [0, 30])
@pytest.mark.parametrize(("status", "expected"), [
    # traversal (the project; the task, its labels; identity: token, user); the anchor; its
    # neighbour; the rank's UPDATE; the task's blocked state for its JSON
    ("open", 9),
    # ...and to another column: the status change's UPDATE (the rank in it), its history
    # entry and event, the new column's bounded WIP count
    ("in_progress", 12),
])
def test_a_move_costs_the_same_in_a_long_column(client_for, factory, people, statements,
                                                status, expected, extra):
    project = people["project"]
    member = client_for(people["member"])
    project.wip_limits = {"in_progress": 50}
    for n in range(extra):
        factory.task(project, title=f"filler {n}", status=status, labels=["x"])
    moved = factory.task(project, title="moved")
    anchor = factory.task(project, title="anchor", status=status)
    member.get(f"{BASE}/tasks/{moved.number}")  # warm: token last-use stamp, caches
    statements.clear()
    member.post(f"{BASE}/tasks/{moved.number}/move", {"status": status,
                                                      "after": anchor.number}, status=200)
    assert len(statements) == expected, statements
