"""Due-date reminders: which open tasks are due tomorrow or today for their assignee, counted
in the assignee's time zone, raised as ``task.due_soon`` / ``task.due_today`` events.

Each event has the dedupe key ``due_soon:<task id>:<due date>`` (``due_today:...``), so raising
them again (the job runs hourly, on several workers, after a crash) adds nothing; a task whose
due date moves gets reminders for the new date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain.events import DUE_SOON, DUE_TODAY, emit_missing
from taskdesk.models import Task, User
from taskdesk.settings import Workflow
from taskdesk.timezones import local_today, user_zone


@dataclass(frozen=True)
class DueReminder:
    kind: str
    task_id: int
    project_id: int
    assignee_id: int
    due_date: date

    @property
    def dedupe_key(self) -> str:
        prefix = "due_soon" if self.kind == DUE_SOON else "due_today"
        return f"{prefix}:{self.task_id}:{self.due_date.isoformat()}"


def due_reminders(dbsession: Session, workflow: Workflow, site_zone: ZoneInfo,
                  now: datetime) -> list[DueReminder]:
    """The reminders due at ``now``: for every task not done or cancelled with an active
    assignee, ``task.due_soon`` when it is due tomorrow in the assignee's zone (their own,
    else ``site_zone``) and ``task.due_today`` when it is due today there. One statement."""
    utc_day = now.date()
    # Every zone's date is within a day of UTC's, and "tomorrow" one more.
    first, last = utc_day - timedelta(days=1), utc_day + timedelta(days=2)
    rows = dbsession.execute(
        select(Task.id, Task.project_id, Task.assignee_id, Task.due_date, User.time_zone)
        .join(User, User.id == Task.assignee_id)
        .where(Task.due_date.between(first, last), User.is_active.is_(True),
               Task.status.in_(workflow.names_in("open", "active")))
        .order_by(Task.id)
    )
    found = []
    for task_id, project_id, assignee_id, due, zone_name in rows:
        if due is None:
            continue
        today = local_today(user_zone(zone_name, site_zone), now)
        kind = DUE_TODAY if due == today else DUE_SOON if due == today + timedelta(1) else None
        if kind is not None and assignee_id is not None:
            found.append(DueReminder(kind, task_id, project_id, assignee_id, due))
    return found


def raise_due_reminders(dbsession: Session, workflow: Workflow, site_zone: ZoneInfo,
                        now: datetime) -> int:
    """Emit the events of :func:`due_reminders` not raised before; how many were new."""
    return emit_missing(dbsession, [
        {"kind": reminder.kind, "project_id": reminder.project_id,
         "task_id": reminder.task_id, "dedupe_key": reminder.dedupe_key,
         "data": {"due_date": reminder.due_date.isoformat()}}
        for reminder in due_reminders(dbsession, workflow, site_zone, now)
    ])
