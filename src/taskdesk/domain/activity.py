"""The audit trail every change writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from taskdesk.models import Activity


def record(
    dbsession: Session,
    *,
    project_id: int,
    actor_id: int | None,
    action: str,
    task_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> Activity:
    entry = Activity(
        project_id=project_id,
        task_id=task_id,
        actor_id=actor_id,
        action=action,
        changes=changes or {},
    )
    dbsession.add(entry)
    return entry
