"""``GET /api/v1/search``: the web search's twin (answers checked against the OpenAPI
document by the client)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from taskdesk.domain.comments import add_comment
from tests.support.databases import recorded_statements


@pytest.fixture
def shared(factory, people):
    return factory.project(people["admin"], slug="website", name="Website",
                           visibility="internal")


def test_search_finds_stemmed_words_with_their_marks(client_for, factory, people, shared):
    factory.task(people["project"], title="Database migration",
                 description="Move <b>everything</b> before we migrate.")
    factory.task(shared, title="Migrating the 数据库")
    factory.task(shared, title="Unrelated")
    body = client_for(people["member"]).get("/api/v1/search?q=migrate").json
    assert [(i["project"], i["number"], i["title"]) for i in body["items"]] == [
        ("alpha", 1, "Database migration"), ("website", 1, "Migrating the 数据库")]
    first = body["items"][0]
    assert first["project_name"] == "Alpha 项目"
    assert first["title_marks"] == [[9, 18]]
    assert first["excerpt"]["field"] == "description"
    text, marks = first["excerpt"]["text"], first["excerpt"]["marks"]
    assert [text[s:e] for s, e in marks] == ["migrate"]
    assert first["url"].endswith("/api/v1/projects/alpha/tasks/1")
    assert body["next"] is None
    chinese = client_for(people["member"]).get("/api/v1/search?q=" + quote("数据")).json
    assert [i["title_marks"] for i in chinese["items"]] == [[[14, 16]]]


def test_outsiders_see_only_what_they_may(client_for, factory, people, shared, dbsession):
    hidden = factory.task(people["project"], title="Secret migration")
    add_comment(dbsession, hidden, people["member"], {"body": "migration"})
    factory.task(shared, title="Public migration")
    dbsession.flush()
    body = client_for(people["outsider"]).get("/api/v1/search?q=migration").json
    assert [i["title"] for i in body["items"]] == ["Public migration"]
    assert client_for(people["outsider"]).get("/api/v1/search?q=alpha%231").json["items"] == []
    assert client_for(None).get("/api/v1/search?q=migration", status=401)


def test_hash_number_lists_the_tasks_of_that_number(client_for, factory, people, shared):
    factory.task(people["project"], title="Alpha one")
    factory.task(shared, title="Website one")
    member = client_for(people["member"])
    both = member.get("/api/v1/search?q=%231").json["items"]
    assert [(i["project"], i["title"], i["excerpt"]) for i in both] == [
        ("alpha", "Alpha one", None), ("website", "Website one", None)]
    one = member.get("/api/v1/search?q=%231&project=website").json["items"]
    assert [i["title"] for i in one] == ["Website one"]
    named = member.get("/api/v1/search?q=alpha%231").json["items"]
    assert [i["title"] for i in named] == ["Alpha one"]
    assert member.get("/api/v1/search?q=alpha%2399").json["items"] == []


def test_search_pages_by_cursor(client_for, factory, people, shared):
    for n in range(5):
        factory.task(people["project"], title=f"Upgrade {n}")
        factory.task(shared, title=f"Upgrade note {n}")
    member = client_for(people["member"])
    first = member.get("/api/v1/search?q=upgrade&limit=4").json
    assert len(first["items"]) == 4
    assert first["next"]
    seen = [(i["project"], i["number"]) for i in first["items"]]
    url = first["next"]
    while url:
        page = member.get(url.replace("http://localhost", "")).json
        seen += [(i["project"], i["number"]) for i in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 10
    assert seen == sorted(seen, key=lambda item: (item[0], -item[1]))


@pytest.mark.parametrize(("query", "field"), [
    ("q=x&cursor=garbage", "cursor"),
    ("q=x&offset=3", "offset"),
    ("q=x&limit=0", "limit"),
    ("q=x&colour=red", "colour"),
])
def test_bad_parameters_are_a_400(client_for, people, query, field):
    body = client_for(people["member"]).get(f"/api/v1/search?{query}", status=400).json
    assert field in body["error"]["fields"]


def test_statements_do_not_grow_with_the_page(client_for, factory, people, shared,
                                              connection, dbsession):
    """The identity (1), the matching tasks (1), the comments of the tasks whose title and
    description do not show the match (1)."""
    member = client_for(people["member"])
    counts = []
    for size in (2, 30):
        for n in range(size):
            task = factory.task(people["project"] if n % 2 else shared,
                                title="Release plan" if n % 3 else "Other")
            if n % 3 == 0:
                add_comment(dbsession, task, people["member"], {"body": "release it"})
        dbsession.flush()
        member.get("/api/v1/search?q=release", status=200)
        with recorded_statements(connection) as seen:
            assert member.get("/api/v1/search?q=release", status=200).json["items"]
        counts.append(len(seen))
    assert counts == [3, 3], counts
