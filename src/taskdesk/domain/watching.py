"""Who watches what: the people told about a task's changes.

The reporter, the assignee and commenters start watching a task through the operations that
make them so (``create_task``, ``update_task``, ``add_comment``); anyone who may view a task
or project can start or stop watching it. Whether a watcher may still see what they watch is
decided when they are told (the dispatcher checks visibility), not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from taskdesk.models import ProjectWatcher, TaskWatcher, User, insert_missing


def _delete(dbsession: Session, row: TaskWatcher | ProjectWatcher | None) -> bool:
    """Delete ``row`` through the ORM (so the transaction knows it changed something)."""
    if row is None:
        return False
    dbsession.delete(row)
    dbsession.flush()
    return True


def watch_task(dbsession: Session, task_id: int, user_ids: Iterable[int | None]) -> int:
    """Make each of ``user_ids`` (None skipped) watch the task; return how many started."""
    return watch_tasks(dbsession, [task_id], user_ids)


def watch_tasks(dbsession: Session, task_ids: Iterable[int],
                user_ids: Iterable[int | None]) -> int:
    """Make each of ``user_ids`` (None skipped) watch each of the tasks, in one statement;
    return how many started."""
    people = [uid for uid in dict.fromkeys(user_ids) if uid]
    rows = [{"task_id": task_id, "user_id": uid} for task_id in task_ids for uid in people]
    return insert_missing(dbsession, TaskWatcher, rows)


def unwatch_task(dbsession: Session, task_id: int, user_id: int) -> bool:
    """Stop ``user_id`` watching the task; return whether they did."""
    return _delete(dbsession, dbsession.get(TaskWatcher, (task_id, user_id)))


def watch_project(dbsession: Session, project_id: int, user_id: int) -> bool:
    """Make ``user_id`` watch every task of the project; return whether they started."""
    return insert_missing(
        dbsession, ProjectWatcher, [{"project_id": project_id, "user_id": user_id}]) > 0


def unwatch_project(dbsession: Session, project_id: int, user_id: int) -> bool:
    """Stop ``user_id`` watching the project; return whether they did."""
    return _delete(dbsession, dbsession.get(ProjectWatcher, (project_id, user_id)))


class Watcher(NamedTuple):
    user_id: int
    username: str
    display_name: str


def task_watchers(dbsession: Session, task_id: int) -> list[Watcher]:
    """The active people watching the task, by display name; one statement."""
    rows = dbsession.execute(
        select(User.id, User.username, User.display_name)
        .join(TaskWatcher, TaskWatcher.user_id == User.id)
        .where(TaskWatcher.task_id == task_id, User.is_active.is_(True))
        .order_by(User.display_name, User.id)
    )
    return [Watcher(*row) for row in rows]


def watches_task(dbsession: Session, task_id: int, user_id: int) -> bool:
    return bool(dbsession.scalar(select(exists().where(
        TaskWatcher.task_id == task_id, TaskWatcher.user_id == user_id))))


def watches_project(dbsession: Session, project_id: int, user_id: int) -> bool:
    return bool(dbsession.scalar(select(exists().where(
        ProjectWatcher.project_id == project_id, ProjectWatcher.user_id == user_id))))
