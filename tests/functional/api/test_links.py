"""``.../tasks/<n>/links``: links between tasks over the JSON API (every answer checked against
the OpenAPI document by the client)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from taskdesk.models import Activity, TaskLink

BASE = "/api/v1/projects/alpha/tasks"


def _links(client, number, status=200):
    return client.get(f"{BASE}/{number}/links", status=status).json["items"]


def _seen(items):
    return [(item["kind"], item["task"]["project"], item["task"]["number"]) for item in items]


@pytest.mark.parametrize(("kind", "inverse"), [
    ("blocks", "blocked_by"),
    ("blocked_by", "blocks"),
    ("relates_to", "relates_to"),
    ("duplicates", "duplicated_by"),
    ("duplicated_by", "duplicates"),
])
def test_each_kind_shows_its_inverse_on_the_other_task(client_for, factory, people, dbsession,
                                                       kind, inverse):
    one, two = factory.task(people["project"]), factory.task(people["project"])
    member = client_for(people["member"])
    answer = member.post(f"{BASE}/{one.number}/links",
                         {"kind": kind, "task": f"#{two.number}"}, status=201)
    body = answer.json
    assert body["kind"] == kind
    assert body["task"]["number"] == two.number
    assert body["task"]["project"] == "alpha"
    assert body["allowed"] == ["edit_task"]
    assert answer.headers["Location"] == body["url"]
    assert _seen(_links(member, one.number)) == [(kind, "alpha", two.number)]
    assert _seen(_links(member, two.number)) == [(inverse, "alpha", one.number)]
    # Stored once, whichever side added it.
    assert dbsession.scalar(select(func.count()).select_from(TaskLink)) == 1
    assert member.get(body["url"], status=200).json == body
    # Both histories say so, each from its own side.
    entries = {row.task_id: row.changes for row in dbsession.scalars(
        select(Activity).where(Activity.action == "link.added"))}
    project_id = people["project"].id
    assert entries == {
        one.id: {"kind": kind, "task": f"#{two.number}", "project_id": project_id},
        two.id: {"kind": inverse, "task": f"#{one.number}", "project_id": project_id}}


def test_remove_from_either_side_and_history(client_for, factory, people, dbsession):
    one, two = factory.task(people["project"]), factory.task(people["project"])
    member = client_for(people["member"])
    url = member.post(f"{BASE}/{one.number}/links",
                      {"kind": "blocks", "task": {"project": "alpha", "number": two.number}},
                      status=201).json["url"]
    link_id = url.rsplit("/", 1)[1]
    member.delete(f"{BASE}/{two.number}/links/{link_id}", status=204)
    assert _links(member, one.number) == []
    assert _links(member, two.number) == []
    member.delete(url, status=404)
    removed = dbsession.scalars(select(Activity.task_id).where(
        Activity.action == "link.removed")).all()
    assert sorted(removed) == sorted([one.id, two.id])


def test_self_duplicate_and_bad_input(client_for, factory, people):
    one, two = factory.task(people["project"]), factory.task(people["project"])
    member = client_for(people["member"])
    url = f"{BASE}/{one.number}/links"
    error = member.post(url, {"kind": "blocks", "task": f"#{one.number}"}, status=422).json
    assert "itself" in error["error"]["fields"]["task"]
    member.post(url, {"kind": "relates_to", "task": f"#{two.number}"}, status=201)
    # The same link again, from either side: 409 (a unique value taken).
    assert member.post(url, {"kind": "relates_to", "task": f"#{two.number}"},
                       status=409).json["error"]["code"] == "duplicate"
    member.post(f"{BASE}/{two.number}/links", {"kind": "relates_to", "task": f"#{one.number}"},
                status=409)
    # Another kind between the same tasks is another link.
    member.post(url, {"kind": "blocks", "task": f"#{two.number}"}, status=201)
    fields = member.post(url, {"kind": "sideways", "task": "#x"}, status=422).json["error"]
    assert set(fields["fields"]) == {"kind", "task"}
    member.post(url, {"kind": "blocks", "task": {"project": "alpha"}}, status=422)
    member.post(url, {"kind": "blocks", "task": f"#{two.number}", "extra": 1}, status=422)


def test_a_cycle_of_blocks_or_duplicates_is_refused(client_for, factory, people, dbsession):
    a, b, c = (factory.task(people["project"]) for _ in range(3))
    member = client_for(people["member"])

    def link(source, kind, target, status):
        return member.post(f"{BASE}/{source.number}/links",
                           {"kind": kind, "task": f"#{target.number}"}, status=status).json

    link(a, "blocks", b, 201)
    link(b, "blocks", c, 201)
    error = link(c, "blocks", a, 422)["error"]
    assert "cycle" in error["fields"]["task"]
    # The same cycle said from the other side.
    link(a, "blocked_by", c, 422)
    link(a, "blocked_by", b, 422)
    # Relates has no direction: no cycle to make.
    link(c, "relates_to", a, 201)
    link(a, "duplicates", b, 201)
    link(b, "duplicates", c, 201)
    link(c, "duplicates", a, 422)
    link(a, "duplicated_by", c, 422)
    assert dbsession.scalar(select(func.count()).select_from(TaskLink)) == 5


def test_blocked_in_the_task_and_the_list_and_the_filter(client_for, factory, people):
    project = people["project"]
    blocked, blocker, free = (factory.task(project, title=t) for t in ("B", "X", "F"))
    member = client_for(people["member"])
    member.post(f"{BASE}/{blocker.number}/links", {"kind": "blocks", "task": f"#{blocked.number}"},
                status=201)
    assert member.get(f"{BASE}/{blocked.number}", status=200).json["blocked"] is True
    assert member.get(f"{BASE}/{blocker.number}", status=200).json["blocked"] is False
    listed = {item["number"]: item["blocked"]
              for item in member.get(BASE, status=200).json["items"]}
    assert listed == {blocked.number: True, blocker.number: False, free.number: False}
    numbers = [item["number"] for item in member.get(f"{BASE}?blocked=true").json["items"]]
    assert numbers == [blocked.number]
    numbers = {item["number"] for item in member.get(f"{BASE}?blocked=false").json["items"]}
    assert numbers == {blocker.number, free.number}
    assert set(member.get(f"{BASE}?blocked=maybe", status=400).json["error"]["fields"]) == {
        "blocked"}
    # Once the blocker is done, nothing is blocked.
    member.patch(f"{BASE}/{blocker.number}", {"completed": True}, status=200)
    assert member.get(f"{BASE}/{blocked.number}", status=200).json["blocked"] is False
    assert member.get(f"{BASE}?blocked=true").json["items"] == []


def test_other_projects_visible_and_hidden(client_for, factory, people, dbsession):
    """A link to a task of a project the caller may not see is not shown, does not count as
    blocking, and cannot be probed: a hidden task answers as a missing one."""
    manager, member = people["manager"], people["member"]
    mine = factory.task(people["project"], title="Mine")
    secret_project = factory.project(manager, slug="secret")
    secret = factory.task(secret_project, title="Secret plan")
    shared_project = factory.project(manager, slug="shared", members={member: "viewer"})
    shared = factory.task(shared_project, title="Shared")
    boss = client_for(manager)
    url = f"{BASE}/{mine.number}/links"
    boss.post(url, {"kind": "blocked_by", "task": f"secret#{secret.number}"}, status=201)
    boss.post(url, {"kind": "relates_to", "task": f"shared#{shared.number}"}, status=201)
    assert len(_links(boss, mine.number)) == 2

    viewer = client_for(member)
    assert _seen(_links(viewer, mine.number)) == [("relates_to", "shared", shared.number)]
    assert viewer.get(f"{BASE}/{mine.number}", status=200).json["blocked"] is False
    assert boss.get(f"{BASE}/{mine.number}", status=200).json["blocked"] is True
    listed = viewer.get(BASE, status=200).json["items"]
    assert [item["blocked"] for item in listed] == [False]
    assert viewer.get(f"{BASE}?blocked=true").json["items"] == []
    assert [i["number"] for i in boss.get(f"{BASE}?blocked=true").json["items"]] == [mine.number]
    secret_link = dbsession.scalar(select(TaskLink.id).where(TaskLink.source_id == secret.id))
    viewer.get(f"{url}/{secret_link}", status=404)
    viewer.delete(f"{url}/{secret_link}", status=404)
    # Adding: a hidden task and a missing one get the same answer.
    hidden = viewer.post(url, {"kind": "blocks", "task": f"secret#{secret.number}"},
                         status=422).json["error"]
    missing = viewer.post(url, {"kind": "blocks", "task": "secret#999"}, status=422).json["error"]
    assert hidden["fields"]["task"].replace(str(secret.number), "N") == \
        missing["fields"]["task"].replace("999", "N")
    # The history names the task of the project the caller may see, and leaves out the entry
    # naming the hidden one (the manager sees both).
    def history(client):
        return [(entry["action"], entry["changes"].get("task")) for entry in client.get(
            f"{BASE}/{mine.number}/activity", status=200).json["items"]]

    assert history(viewer) == [("task.created", None),
                               ("link.added", f"shared#{shared.number}")]
    assert history(boss) == [("task.created", None), ("link.added", f"secret#{secret.number}"),
                             ("link.added", f"shared#{shared.number}")]
    outsider = client_for(people["outsider"])
    outsider.get(f"{BASE}/{mine.number}/links", status=404)
    # Removing a link to another project's task, from either side.
    shared_link = _links(boss, mine.number)[1]
    assert shared_link["task"]["project"] == "shared"
    boss.delete(shared_link["url"], status=204)
    boss.delete(f"{url}/{secret_link}", status=204)
    assert _links(boss, mine.number) == []
    assert history(boss)[-1] == ("link.removed", f"secret#{secret.number}")


def test_permissions(client_for, factory, people):
    one, two = factory.task(people["project"]), factory.task(people["project"])
    body = {"kind": "blocks", "task": f"#{two.number}"}
    viewer = client_for(people["viewer"])
    viewer.post(f"{BASE}/{one.number}/links", body, status=403)
    link = client_for(people["member"]).post(f"{BASE}/{one.number}/links", body,
                                             status=201).json
    # A viewer sees the link but may not remove it.
    assert _links(viewer, one.number)[0]["allowed"] == []
    viewer.delete(link["url"], status=403)
    client_for(people["member"], scope="read").delete(link["url"], status=403)
    client_for(None).get(f"{BASE}/{one.number}/links", status=401)
    # Linking to a task one may only see is fine: edit is needed on this side only.
    other = factory.project(people["manager"], slug="other", members={people["member"]: "viewer"})
    theirs = factory.task(other)
    client_for(people["member"]).post(f"{BASE}/{one.number}/links",
                                      {"kind": "relates_to", "task": f"other#{theirs.number}"},
                                      status=201)
    client_for(people["member"]).post(f"/api/v1/projects/other/tasks/{theirs.number}/links",
                                      {"kind": "blocks", "task": f"alpha#{one.number}"},
                                      status=403)


def test_paging(client_for, factory, people):
    one = factory.task(people["project"])
    others = [factory.task(people["project"]) for _ in range(3)]
    member = client_for(people["member"])
    for other in others:
        member.post(f"{BASE}/{one.number}/links", {"kind": "relates_to",
                                                  "task": f"#{other.number}"}, status=201)
    seen, url = [], f"{BASE}/{one.number}/links?limit=2"
    while url:
        body = member.get(url, status=200).json
        seen += [item["task"]["number"] for item in body["items"]]
        url = body["next"]
    assert seen == [other.number for other in others]
    page = member.get(f"{BASE}/{one.number}/links?offset=1&limit=1", status=200).json
    assert [item["task"]["number"] for item in page["items"]] == [others[1].number]
