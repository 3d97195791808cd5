"""The task list's query is declared once (TASK_QUERY): the parser, the URL parameters of
next-page links, the OpenAPI parameters and the web filter form follow that declaration; the
task fields and cursors have one home too."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from taskdesk.domain.access import Viewer
from taskdesk.domain.cursor import decode_id_cursor, encode_cursor, encode_id_cursor
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.schemas import SORT_VALUES, TASK_FIELDS, TASK_QUERY, task_schemas
from taskdesk.domain.task_list import TaskQuery, list_shape, parse_task_query
from taskdesk.domain.tasks import task_values
from taskdesk.settings import TaskdeskSettings
from tests.support.factories import Factory

WORKFLOW = TaskdeskSettings().workflow


def test_every_declared_parameter_is_read_and_written_back() -> None:
    params = {
        "status": "open,blocked", "assignee": "Alice", "reporter": "me",
        "priority": "high,urgent", "label": "Ops,前端", "due_before": "2026-12-31",
        "due_after": "2026-01-01", "updated_since": "2026-05-01T08:00:00+00:00",
        "q": " login page ", "blocked": "false", "parent": "#12", "subtasks": "hide",
        "sort": "-due",
    }
    query = parse_task_query(params, WORKFLOW, strict=True)
    assert query == TaskQuery(
        statuses=("open", "blocked"), assignee="alice", reporter="me",
        priorities=("high", "urgent"), labels=("ops", "前端"), due_before=date(2026, 12, 31),
        due_after=date(2026, 1, 1), updated_since=datetime(2026, 5, 1, 8, tzinfo=UTC),
        text="login page", blocked=False, parent=12, subtasks="hide", sort="-due",
        priority_order=WORKFLOW.priorities)
    # The next-page link holds the same query: read again, it is equal.
    assert parse_task_query(query.as_params(), WORKFLOW, strict=True) == query
    # Every declared key but the state shorthand (applied to the statuses) is written back.
    assert set(query.as_params()) == TASK_QUERY.keys - {"state"}


def test_state_narrows_the_statuses() -> None:
    assert parse_task_query({"state": "closed"}, WORKFLOW).statuses == ("done", "wont_do")
    assert parse_task_query({"state": "open", "status": "open,done"}, WORKFLOW).statuses == (
        "open",)
    assert parse_task_query({"state": "closed", "status": "open"}, WORKFLOW).statuses == (
        "-none-",)


def test_unknown_keys_and_bad_values_are_reported_together() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_task_query({"colour": "red", "status": "maybe", "sort": "size",
                          "due_before": "soon", "page": "2"}, WORKFLOW, strict=True,
                         ignore=("page",))
    fields = {key: str(message.interpolate()) for key, message in raised.value.fields.items()}
    assert fields == {
        "colour": "Unknown parameter.",
        "status": "Unknown value: maybe. Allowed: open, in_progress, blocked, done, wont_do.",
        "sort": f"Unknown value: size. Allowed: {', '.join(SORT_VALUES)}.",
        "due_before": "Must be a date like 2026-12-31.",
    }


def test_openapi_parameters_are_the_declared_ones() -> None:
    described = {p["name"]: p for p in TASK_QUERY.openapi_parameters(WORKFLOW)}
    assert set(described) == TASK_QUERY.keys
    assert described["sort"]["schema"] == {"type": "string", "enum": list(SORT_VALUES)}
    assert described["status"]["schema"]["pattern"].startswith("^(open|in_progress|blocked")
    assert described["updated_since"]["schema"]["format"] == "date-time"
    assert all(p["in"] == "query" and p["description"] for p in described.values())


def test_the_web_form_shows_the_filters_people_use() -> None:
    assert TASK_QUERY.form_keys == (
        "status", "state", "assignee", "priority", "label", "due_before", "due_after", "q",
        "blocked", "subtasks", "sort")


def test_lists_differing_only_in_values_share_one_statement_shape() -> None:
    """The statement cache is keyed by the shape: values must not be part of it."""
    def shape(params: dict[str, str], user_id: int | None = 1) -> object:
        query = parse_task_query(params, WORKFLOW)
        return list_shape(Viewer(user_id), query, "sqlite", None)[0]

    assert shape({"status": "open", "assignee": "ann"}) == shape(
        {"status": "done", "assignee": "bob"}, 2)
    assert shape({"status": "open"}) != shape({"status": "open,done"})
    assert shape({"assignee": "me"}) != shape({"assignee": "ann"})
    assert shape({}) != shape({}, None)
    assert shape({"blocked": "true"}) != shape({"blocked": "false"}) != shape({})


def test_task_fields_are_the_schemas_editable_fields() -> None:
    create, update = task_schemas(WORKFLOW)
    assert [f.name for f in create.fields] == [*TASK_FIELDS, "completed"]
    assert [f.name for f in update.fields] == [*TASK_FIELDS, "completed", "version"]


def test_an_edit_starts_from_the_task_fields(factory: Factory) -> None:
    """The web edit form's base values (task_values) hold exactly the editable fields."""
    owner = factory.user()
    task = factory.task(factory.project(owner), title="Ship it")
    assert tuple(task_values(task)) == TASK_FIELDS


def test_id_cursors_round_trip_and_refuse_other_cursors() -> None:
    assert decode_id_cursor(encode_id_cursor(41)) == 41
    assert decode_id_cursor(None) == 0
    for foreign in (encode_cursor("-number", 0, 5, 5), encode_cursor("id", "5"),
                    encode_cursor("id", True), encode_cursor("id", -1), "garbage!", "W10"):
        with pytest.raises(ValidationError) as raised:
            decode_id_cursor(foreign)
        assert list(raised.value.fields) == ["cursor"]
