"""The API speaks UTC whatever zone the caller reads the web pages in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from tests.support.factories import Factory

MOMENT = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
TASK = "/api/v1/projects/alpha/tasks/1"


def test_a_users_zone_does_not_change_api_timestamps(
    client_for: Any, people: dict[str, Any], factory: Factory, dbsession: Session,
) -> None:
    task = factory.task(people["project"], people["manager"], title="Timed")
    task.created_at = task.updated_at = MOMENT
    dbsession.flush()
    in_utc = client_for(people["member"]).get(TASK, status=200).json

    people["member"].time_zone = "Asia/Shanghai"
    dbsession.flush()
    member = client_for(people["member"])
    in_shanghai = member.get(TASK, status=200).json
    assert in_shanghai["created_at"] == in_utc["created_at"]
    assert datetime.fromisoformat(in_shanghai["created_at"]) == MOMENT
    assert datetime.fromisoformat(in_shanghai["created_at"]).utcoffset().total_seconds() == 0
    listed = member.get("/api/v1/projects/alpha/tasks", status=200).json["items"]
    assert [item["updated_at"] for item in listed] == [in_utc["updated_at"]]


def test_me_shows_the_chosen_zone(client_for: Any, people: dict[str, Any],
                                  dbsession: Session) -> None:
    member = client_for(people["member"])
    first = member.get("/api/v1/me", status=200)
    assert first.json["time_zone"] is None
    people["member"].time_zone = "Asia/Shanghai"
    dbsession.flush()
    changed = member.get("/api/v1/me", status=200,
                         headers={"If-None-Match": first.headers["ETag"]})
    assert changed.json["time_zone"] == "Asia/Shanghai"
