"""Properties of the task list's parameters, with Hypothesis, on SQLite and PostgreSQL:

* any combination of filters, sort, limit, offset and cursor (valid, invalid or unknown)
  answers 200 or a JSON 400 naming the parameters, never a 5xx;
* paging with the cursor yields every matching visible task exactly once, in the order of
  one big page, and still does when tasks are inserted between pages; a hidden project's
  tasks never appear.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdesk.domain import accounts
from taskdesk.domain.schemas import SORT_FIELDS

STATUSES = ["open", "in_progress", "blocked", "done", "wont_do"]
PRIORITIES = ["low", "normal", "high", "urgent"]
LABELS = ["ops", "ui", "数据"]
SORTS = [f"{sign}{name}" for name in SORT_FIELDS for sign in ("", "-")]
_counter = itertools.count()


@pytest.fixture
def site(factory: Any, dbsession: Any) -> dict[str, Any]:
    """A member of two projects (one private, one internal) and a private project they
    may not see; tasks with mixed statuses, priorities, labels, due dates and assignees."""
    owner = factory.user("owner")
    member = factory.user("member")
    mine = factory.project(owner, slug="mine", members={member: "member"})
    shared = factory.project(owner, slug="shared", visibility="internal")
    hidden = factory.project(owner, slug="hidden")
    today = date(2026, 6, 1)
    for n in range(24):
        project = (mine, shared, hidden)[n % 3]
        factory.task(
            project, title=f"task {n} {'登录' if n % 4 == 0 else 'login'}",
            status=STATUSES[n % 5], priority=PRIORITIES[n % 4],
            labels=[LABELS[n % 3]] if n % 2 else [],
            due_date=(today + timedelta(days=n % 6)).isoformat() if n % 3 else None,
            assignee="member" if n % 3 == 0 and project is mine else None,
        )
    _token, secret = accounts.create_token(dbsession, member, {"name": "t", "scope": "read"})
    return {"token": secret, "projects": (mine, shared), "hidden": hidden, "factory": factory}


def _values(key: str) -> st.SearchStrategy[str]:
    good = {
        "status": st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3).map(",".join),
        "state": st.sampled_from(["open", "closed"]),
        "assignee": st.sampled_from(["me", "none", "member", "owner", "nobody"]),
        "reporter": st.sampled_from(["me", "none", "owner"]),
        "priority": st.lists(st.sampled_from(PRIORITIES), min_size=1, max_size=2).map(",".join),
        "label": st.lists(st.sampled_from(LABELS), min_size=1, max_size=2).map(",".join),
        "due_before": st.dates(date(2026, 5, 30), date(2026, 6, 8)).map(date.isoformat),
        "due_after": st.dates(date(2026, 5, 30), date(2026, 6, 8)).map(date.isoformat),
        "updated_since": st.sampled_from(["2020-01-01T00:00:00Z", "2999-01-01T00:00:00"]),
        "q": st.sampled_from(["登录", "login", "task 1", "log", "缺"]),
        "sort": st.sampled_from(SORTS),
    }[key]
    return st.one_of(good, st.text(max_size=12)) if key != "sort" else st.one_of(
        good, st.text(max_size=8))


@st.composite
def any_parameters(draw: st.DrawFn) -> dict[str, str]:
    keys = draw(st.lists(st.sampled_from([
        "status", "state", "assignee", "reporter", "priority", "label", "due_before",
        "due_after", "updated_since", "q", "sort", "limit", "offset", "cursor", "colour",
    ]), unique=True, max_size=5))
    params: dict[str, str] = {}
    for key in keys:
        if key in ("limit", "offset"):
            params[key] = draw(st.one_of(st.integers(-5, 300).map(str), st.text(max_size=5)))
        elif key in ("cursor", "colour"):
            params[key] = draw(st.text(max_size=40))
        else:
            params[key] = draw(_values(key))
    return params


def _get(testapp: Any, token: str, path: str, params: dict[str, str] | None = None) -> Any:
    query = f"?{urlencode(params)}" if params else ""
    return testapp.get(path + query, headers={"Authorization": f"Bearer {token}"},
                       expect_errors=True)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=any_parameters(), path=st.sampled_from(["/api/v1/tasks",
                                                      "/api/v1/projects/mine/tasks"]))
def test_any_parameters_answer_200_or_a_400_naming_them(testapp, site, params, path):
    response = _get(testapp, site["token"], path, params)
    assert response.status_int in (200, 400), response.text[:500]
    assert response.content_type == "application/json"
    if response.status_int == 400:
        error = response.json["error"]
        if error["code"] == "malformed_request":
            # The guard refuses NUL bytes before any view runs.
            assert any("\x00" in value for value in params.values())
        else:
            assert error["code"] == "invalid_parameter"
            assert error["fields"]
            assert set(error["fields"]) <= set(params)


@st.composite
def valid_queries(draw: st.DrawFn) -> dict[str, str]:
    params: dict[str, str] = {"sort": draw(st.sampled_from(SORTS))}
    for key in draw(st.lists(st.sampled_from(["status", "state", "assignee", "priority",
                                              "label", "due_before", "q"]),
                             unique=True, max_size=2)):
        # Free text, but no NUL: the guard refuses those before the list runs.
        params[key] = draw(_values(key).filter(lambda v: bool(v.strip()) and "\x00" not in v)) \
            if key == "q" else draw({
                "status": st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3)
                .map(",".join),
                "state": st.sampled_from(["open", "closed"]),
                "assignee": st.sampled_from(["me", "none", "member"]),
                "priority": st.sampled_from(PRIORITIES),
                "label": st.sampled_from(LABELS),
                "due_before": st.sampled_from(["2026-06-03", "2026-06-05"]),
            }[key])
    params["limit"] = str(draw(st.integers(1, 4)))
    return params


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=valid_queries(), inserts=st.lists(st.integers(0, 1), max_size=4),
       path=st.sampled_from(["/api/v1/tasks", "/api/v1/projects/mine/tasks"]))
def test_cursor_paging_yields_each_task_once(testapp, site, params, inserts, path):
    token = site["token"]
    everything = _get(testapp, token, path, {**params, "limit": "200"})
    assert everything.status_int == 200, everything.text[:300]
    expected = [item["id"] for item in everything.json["items"]]
    assert everything.json["next"] is None

    seen: list[int] = []
    response = _get(testapp, token, path, params)
    pending = list(inserts)
    while True:
        assert response.status_int == 200, response.text[:300]
        seen += [item["id"] for item in response.json["items"]]
        assert all(item["project"]["slug"] != "hidden" for item in response.json["items"])
        following = response.json["next"]
        if following is None:
            break
        if pending:
            project = site["projects"][pending.pop()]
            site["factory"].task(project, title=f"inserted {next(_counter)} login",
                                 priority="high", labels=["ops"], status="open")
        response = testapp.get(following, headers={"Authorization": f"Bearer {token}"},
                               expect_errors=True)

    assert len(seen) == len(set(seen)), "a task appeared twice"
    original = [task_id for task_id in seen if task_id in set(expected)]
    assert original == expected, "a task was skipped or the order changed"
