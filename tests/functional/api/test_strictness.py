"""The API takes JSON at its word: JSON types only, unknown sort values named, and every
problem of a request reported in one answer."""

from __future__ import annotations

import pytest

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.schemas import SORT_VALUES, project_update_schema

TASKS = "/api/v1/projects/alpha/tasks"
BOOLEAN = "Must be true or false (a JSON boolean)."


@pytest.fixture
def member(client_for, people):
    return client_for(people["member"])


@pytest.fixture
def manager(client_for, people):
    return client_for(people["manager"])


def _fields(response, status=422):
    assert response.status_int == status, response.text
    return response.json["error"]["fields"]


@pytest.mark.parametrize("value", ["yes", "true", "on", 1, 0, "", [True]])
def test_completed_must_be_a_json_boolean(member, factory, people, value):
    factory.task(people["project"], title="Still open")
    response = member.patch(f"{TASKS}/1", {"completed": value})
    assert _fields(response) == {"completed": BOOLEAN}
    assert member.get(f"{TASKS}/1").json["status"] == "open"


def test_completed_true_completes(member, factory, people):
    factory.task(people["project"])
    assert member.patch(f"{TASKS}/1", {"completed": True}, status=200).json["completed"] is True


@pytest.mark.parametrize("value", ["on", "true", "1", 1])
def test_archived_must_be_a_json_boolean(manager, value):
    response = manager.patch("/api/v1/projects/alpha", {"archived": value})
    assert _fields(response) == {"archived": BOOLEAN}
    assert manager.get("/api/v1/projects/alpha").json["archived"] is False


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"version": "1"}, "version", "Must be a whole number."),
    ({"labels": "a, b"}, "labels", "Must be a list of labels."),
    ({"due_date": ""}, "due_date", "Must be a date like 2026-12-31."),
    ({"status": ""}, "status", "Must be one of: open, in_progress, blocked, done, wont_do."),
])
def test_other_fields_take_their_json_type_only(member, factory, people, body, field,
                                                message):
    factory.task(people["project"], due_date="2030-01-31", labels=["keep"])
    assert _fields(member.patch(f"{TASKS}/1", body)) == {field: message}
    task = member.get(f"{TASKS}/1").json
    assert (task["due_date"], task["labels"], task["status"]) == ("2030-01-31", ["keep"], "open")


def test_null_and_blank_text_still_clear_fields(member, factory, people):
    factory.task(people["project"], due_date="2030-01-31", assignee="member")
    task = member.patch(f"{TASKS}/1", {"due_date": None, "assignee": ""}, status=200).json
    assert (task["due_date"], task["assignee"]) == (None, None)


@pytest.mark.parametrize(("form", "expected"), [("on", True), ("true", True), ("", False)])
def test_forms_send_booleans_as_text_json_may_not(form, expected):
    """One schema, two kinds of input: a form's checkbox is text; JSON has booleans."""
    schema = project_update_schema(())
    assert schema.validate({"archived": form}, partial=True) == {"archived": expected}
    with pytest.raises(ValidationError) as refused:
        schema.validate({"archived": form}, partial=True, strict=True)
    assert refused.value.fields == {"archived": BOOLEAN}
    assert schema.validate({"archived": expected}, partial=True, strict=True) == {
        "archived": expected}


def test_unknown_sort_value_is_named(member):
    response = member.get(f"{TASKS}?sort=title", status=400)
    error = response.json["error"]
    assert error["code"] == "invalid_parameter"
    assert "sort" in error["message"]
    assert error["fields"] == {
        "sort": f"Unknown value: title. Allowed: {', '.join(SORT_VALUES)}."}
    assert member.get(f"{TASKS}?sort=--number", status=400).json["error"]["fields"]["sort"] \
        .startswith("Unknown value: --number.")


def test_every_invalid_field_is_reported_at_once(member):
    response = member.post(TASKS, {"title": "", "priority": "extreme", "assignee": "nobody",
                                   "completed": "yes", "due_date": "tomorrow",
                                   "colour": "red"})
    assert _fields(response) == {
        "title": "This field is required.",
        "priority": "Must be one of: low, normal, high, urgent.",
        "assignee": "No active user with this username.",
        "completed": BOOLEAN,
        "due_date": "Must be a date like 2026-12-31.",
        "colour": "Unknown field.",
    }


def test_a_bad_assignee_is_reported_with_the_other_fields_on_change(member, factory, people):
    factory.task(people["project"])
    response = member.patch(f"{TASKS}/1", {"title": "", "assignee": "outsider"})
    assert _fields(response) == {"title": "This field is required.",
                                 "assignee": "This user is not a member of the project."}


def test_every_bad_list_parameter_is_reported_at_once(member):
    response = member.get(f"{TASKS}?status=nope&sort=title&limit=0&due_before=soon&colour=red")
    assert set(_fields(response, 400)) == {"status", "sort", "limit", "due_before", "colour"}
    response = member.get(f"{TASKS}?limit=1&limit=2&offset=1&offset=2")
    assert set(_fields(response, 400)) == {"limit", "offset"}
    response = member.get("/api/v1/projects?limit=0&cursor=garbage&colour=red")
    assert set(_fields(response, 400)) == {"limit", "cursor", "colour"}


def test_membership_role_and_inactive_account_are_reported_together(manager, factory):
    factory.user("gone", active=False)
    response = manager.put("/api/v1/projects/alpha/members/user:gone", {"role": "boss"})
    assert set(_fields(response)) == {"role", "principal"}
