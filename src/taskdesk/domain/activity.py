"""The audit trail every change writes, and what a stale edit needs to know from it.

Every entry is also an event in the outbox (taskdesk.domain.events), written in the same
transaction: whatever is recorded can be told (inbox, e-mail, webhooks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain.events import emit
from taskdesk.models import Activity, Task, User

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
         data={"changes": changes or {}, **(data or {})})
    return entry


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
