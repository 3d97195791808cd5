"""GraphQL shows every caller of the permission matrix what the JSON API shows them.

Each actor of ``world.ACTORS`` asks both, with the same credentials (cookie or token): the
projects and tasks listed, each project, task, comment and member with its ``allowed``, and
a hidden or missing object is ``null`` where the JSON API answers 404. Callers the API does
not recognise get its 401 from GraphQL too.
"""

from __future__ import annotations

from typing import Any

import webtest

from tests.functional.security.world import ACTORS, STATES, Actor, World, build_world
from tests.support.sessions import new_browser

QUERY = """query($slug: String!, $number: Int!) {
  projects { items { slug allowed } }
  tasks(first: 200) { items { number allowed project { slug } } }
  project(slug: $slug) { slug allowed members { items { principal role allowed } } }
  task(project: $slug, number: $number) {
    number title allowed comments { items { id body allowed } } } }"""


def _rest(app: webtest.TestApp, headers: dict[str, str], url: str) -> Any:
    """The JSON API's answer: its body, or None for 404."""
    answer = app.get(f"/api/v1{url}", headers=headers, expect_errors=True)
    app.cookiejar.clear()
    if answer.status_int == 404:
        return None
    assert answer.status_int == 200, (url, answer.status, answer.text[:300])
    return answer.json


def _rest_view(app: webtest.TestApp, world: World, actor: Actor, headers: dict[str, str],
               state: str) -> dict[str, Any]:
    """What the JSON API shows ``actor``, in the shape of the GraphQL query's answer."""
    slug = world.projects[state].slug
    number = world.tasks[state].number
    projects = _rest(app, headers, "/projects")["items"]
    tasks = _rest(app, headers, "/tasks?limit=200")["items"]
    project = _rest(app, headers, f"/projects/{slug}")
    task = _rest(app, headers, f"/projects/{slug}/tasks/{number}")
    view: dict[str, Any] = {
        "projects": {"items": [{"slug": p["slug"], "allowed": p["allowed"]} for p in projects]},
        "tasks": {"items": [{"number": t["number"], "allowed": t["allowed"],
                             "project": {"slug": t["project"]["slug"]}} for t in tasks]},
        "project": None, "task": None,
    }
    if project is not None:
        members = _rest(app, headers, f"/projects/{slug}/members")["items"]
        view["project"] = {"slug": slug, "allowed": project["allowed"], "members": {"items": [
            {"principal": m["principal"], "role": m["role"], "allowed": m["allowed"]}
            for m in members]}}
    if task is not None:
        comments = _rest(app, headers, f"/projects/{slug}/tasks/{number}/comments")["items"]
        view["task"] = {"number": number, "title": task["title"], "allowed": task["allowed"],
                        "comments": {"items": [{"id": c["id"], "body": c["body"],
                                                "allowed": c["allowed"]} for c in comments]}}
    return view


def _graphql(app: webtest.TestApp, world: World, actor: Actor, headers: dict[str, str],
             state: str) -> webtest.TestResponse:
    if actor.via == "cookie":
        headers = {**headers, "X-CSRF-Token": world.csrf[actor.name]}
    answer = app.post_json("/api/graphql", {"query": QUERY, "variables": {
        "slug": world.projects[state].slug, "number": world.tasks[state].number}},
        headers=headers, expect_errors=True)
    app.cookiejar.clear()
    return answer


def test_graphql_shows_each_actor_what_the_json_api_shows(wsgi_app, factory, dbsession) -> None:
    world = build_world(factory, dbsession)
    app = new_browser(wsgi_app)
    compared = 0
    for actor in ACTORS:
        headers = dict(world.headers[actor.name])
        for state in STATES:
            answer = _graphql(app, world, actor, headers, state)
            if not actor.authenticated:
                rest = app.get("/api/v1/projects", headers=headers, expect_errors=True)
                app.cookiejar.clear()
                assert answer.status_int == rest.status_int == 401, actor.name
                assert answer.json["error"]["code"] == rest.json["error"]["code"]
                continue
            assert answer.status_int == 200, (actor.name, answer.text[:300])
            assert "errors" not in answer.json, answer.json
            expected = _rest_view(app, world, actor, headers, state)
            assert answer.json["data"] == expected, (actor.name, state)
            compared += 1
    # Every recognised actor, in every project state.
    assert compared == sum(a.authenticated for a in ACTORS) * len(STATES)
