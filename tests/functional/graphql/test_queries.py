"""The schema's objects, as the JSON API shows them, and single objects by traversal."""

from __future__ import annotations

from typing import Any

from taskdesk.domain import comments, links


def test_me_and_projects(gql_for, people) -> None:
    client = gql_for(people["member"])
    data = client.data("""{ me { username displayName email isSiteAdmin allowed }
        projects { items { slug name visibility archived allowed
                           members { items { principal kind name displayName role allowed } } }
                   nextCursor } }""")
    assert data["me"] == {"username": "member", "displayName": "张伟",
                          "email": people["member"].email, "isSiteAdmin": False,
                          "allowed": ["create_project"]}
    [project] = data["projects"]["items"]
    assert project["slug"] == "alpha"
    assert project["allowed"] == ["view", "create_task"]
    members = {m["principal"]: m["role"] for m in project["members"]["items"]}
    assert members == {"user:manager": "manager", "user:member": "member",
                       "user:viewer": "viewer", "user:reporter": "reporter"}
    assert data["projects"]["nextCursor"] is None


def test_task_with_everything(gql_for, people, factory, dbsession) -> None:
    project = people["project"]
    task = factory.task(project, people["manager"], title="Write the report",
                        assignee="member", labels=["docs", "q4"])
    for n in range(4):
        comments.add_comment(dbsession, task, people["member"], {"body": f"note {n}"})
    client = gql_for(people["member"])
    data = client.data("""query($n: Int!) { task(project: "alpha", number: $n) {
        number title status completed priority labels allowed
        assignee { username displayName } reporter { username displayName }
        project { slug name allowed }
        comments(first: 3, newestFirst: true) { items { body author { username } allowed }
                                                nextCursor }
        activity { items { action actor { username } } } } }""", {"n": task.number})
    found = data["task"]
    assert found["title"] == "Write the report"
    assert found["labels"] == ["docs", "q4"]
    assert found["assignee"] == {"username": "member", "displayName": "张伟"}
    assert found["reporter"]["username"] == "manager"
    assert found["project"]["slug"] == "alpha"
    assert found["allowed"] == ["view", "comment", "edit_task", "set_status", "assign"]
    bodies = [c["body"] for c in found["comments"]["items"]]
    assert bodies == ["note 3", "note 2", "note 1"]
    assert found["comments"]["nextCursor"]
    assert found["comments"]["items"][0]["allowed"] == ["edit_comment", "delete_comment"]
    assert found["activity"]["items"][0]["action"] == "task.created"


def test_hidden_is_like_missing(gql_for, people, factory) -> None:
    other = factory.project(people["manager"], slug="secret")
    task = factory.task(other, people["manager"])
    client = gql_for(people["outsider"])
    query = """query($p: String!, $n: Int!) { project(slug: $p) { slug }
        task(project: $p, number: $n) { title } tasks(project: $p) { items { title } } }"""
    hidden = client.post(query, {"p": "secret", "n": task.number}).json
    missing = client.post(query, {"p": "no-such", "n": task.number}).json
    assert hidden == missing == {"data": {"project": None, "task": None, "tasks": None}}


def test_task_list_filters_and_paging(gql_for, people, factory) -> None:
    project = people["project"]
    for n in range(5):
        factory.task(project, people["manager"], title=f"t{n}",
                     assignee="member" if n % 2 else None)
    client = gql_for(people["member"])
    query = """query($after: String) { tasks(assignee: "me", state: ["open"], first: 1,
        after: $after) { items { title } nextCursor } }"""
    seen: list[Any] = []
    after = None
    while True:
        page = client.data(query, {"after": after})["tasks"]
        seen += [item["title"] for item in page["items"]]
        after = page["nextCursor"]
        if after is None:
            break
    assert sorted(seen) == ["t1", "t3"]


def test_invalid_arguments_are_named(gql_for, people) -> None:
    client = gql_for(people["member"])
    [error] = client.errors('{ tasks(status: ["nope"], sort: "sideways") { items { id } } }')
    assert error["extensions"]["code"] == "invalid_argument"
    assert set(error["extensions"]["fields"]) == {"status", "sort"}
    [error] = client.errors('{ tasks(first: 100000) { items { id } } }')
    assert set(error["extensions"]["fields"]) == {"first"}
    [error] = client.errors('{ tasks(after: "garbage") { items { id } } }')
    assert set(error["extensions"]["fields"]) == {"after"}


def test_sub_tasks_checklists_and_blockers(gql_for, people, factory, dbsession) -> None:
    project, manager = people["project"], people["manager"]
    parent = factory.task(project, manager, title="Release",
                          description="- [x] notes\n- [ ] tag\n- [ ] announce")
    child = factory.task(project, manager, title="Tag it", parent=parent.number)
    blocker = factory.task(project, manager, title="Fix the build")
    links.add_link(dbsession, parent, manager, {"kind": "blocked_by", "task": f"#{blocker.number}"})
    dbsession.flush()
    client = gql_for(people["member"])
    task = client.data("""query($n: Int!) { task(project: "alpha", number: $n) {
        parent checklist { done total } blocked } }""", {"n": parent.number})["task"]
    assert task == {"parent": None, "checklist": {"done": 1, "total": 3}, "blocked": True}
    listed = client.data("""query($n: Int!) { tasks(project: "alpha", parent: $n) {
        items { title parent blocked } } }""", {"n": parent.number})["tasks"]["items"]
    assert listed == [{"title": "Tag it", "parent": parent.number, "blocked": False}]
    blocked = client.data("""{ tasks(blocked: true) { items { title } } }""")["tasks"]
    assert [item["title"] for item in blocked["items"]] == ["Release"]
    top = client.data("""{ tasks(subtasks: "hide", sort: "number") { items { title } } }""")
    assert [item["title"] for item in top["tasks"]["items"]] == ["Release", "Fix the build"]
    assert child.parent_id == parent.id
    errors = client.errors("""{ tasks(subtasks: "sometimes") { items { title } } }""")
    assert "subtasks" in str(errors[0])
