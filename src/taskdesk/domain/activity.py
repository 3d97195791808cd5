"""The audit trail every change writes, and what a stale edit needs to know from it.

Every entry is also an event in the outbox (taskdesk.domain.events), written in the same
transaction: whatever is recorded can be told (inbox, e-mail, webhooks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from taskdesk.domain.events import emit, emit_many
from taskdesk.models import Activity, Task, User, write_rows

_activity: Any = Activity.__table__
_INSERT_ACTIVITY = insert(_activity)

#: How many of a task's newest changes a stale edit looks at to say who changed what.
CHANGES_LOOKED_AT = 200


@dataclass(frozen=True)
class FieldChange:
    """The latest change of one field: who made it (None once the account is gone), when."""

    actor_name: str | None
    actor_username: str | None
    at: datetime


def record(
    dbsession: Session,
    *,
    project_id: int,
    actor_id: int | None,
    action: str,
    task_id: int | None = None,
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Activity:
    """Log the change and emit it as an event; ``data`` adds the ids consumers need beyond
    the entry's columns and ``changes`` (e.g. ``comment_id``, ``mentioned``)."""
    entry = Activity(
        project_id=project_id,
        task_id=task_id,
        actor_id=actor_id,
        action=action,
        changes=changes or {},
    )
    dbsession.add(entry)
    emit(dbsession, action, project_id=project_id, task_id=task_id, actor_id=actor_id,
         data=_event_data(changes, data))
    return entry


class Change(NamedTuple):
    """One change of many recorded at once (:func:`record_many`)."""

    task_id: int | None
    changes: dict[str, Any]
    data: dict[str, Any]


def record_many(dbsession: Session, *, project_id: int, actor_id: int | None, action: str,
                entries: Sequence[Change]) -> None:
    """:func:`record` each of ``entries``, in two statements however many there are (one
    INSERT of the history entries, one of their events)."""
    if not entries:
        return
    write_rows(dbsession, _INSERT_ACTIVITY, [
        {"project_id": project_id, "task_id": entry.task_id, "actor_id": actor_id,
         "action": action, "changes": entry.changes} for entry in entries])
    emit_many(dbsession, action, project_id=project_id, actor_id=actor_id, events=[
        (entry.task_id, _event_data(entry.changes, entry.data)) for entry in entries])


def _event_data(changes: dict[str, Any] | None, data: dict[str, Any] | None) -> dict[str, Any]:
    """What an entry's event says: the changes, and the ids consumers need beyond them."""
    return {"changes": changes or {}, **(data or {})}


def task_changes_after(dbsession: Session, task: Task, version: int) -> dict[str, FieldChange]:
    """Who last changed each field of ``task`` after its ``version``, and when; one statement.

    ``update_task`` writes exactly one ``task.updated`` entry for each new version, so the
    changes after ``version`` are the newest ``task.version - version`` of those entries
    (at most :data:`CHANGES_LOOKED_AT`; a field changed only earlier is left out).
    """
    count = min(task.version - version, CHANGES_LOOKED_AT)
    if count <= 0:
        return {}
    rows = dbsession.execute(
        select(Activity.changes, Activity.created_at, User.display_name, User.username)
        .outerjoin(User, User.id == Activity.actor_id)
        .where(Activity.task_id == task.id, Activity.action == "task.updated")
        .order_by(Activity.id.desc())
        .limit(count)
    )
    latest: dict[str, FieldChange] = {}
    for changes, at, name, username in rows:
        for field in changes or {}:
            latest.setdefault(field, FieldChange(name, username, at))
    return latest
