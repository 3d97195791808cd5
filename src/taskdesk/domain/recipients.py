"""Who is told of an event, and why: the one home of the notification rule.

Per kind of event, the people who may be told and the reason (see :data:`RULES`):

- ``task.created``: the assignee (assigned), people @mentioned in the description
  (mentioned), the project's watchers (watching);
- ``task.updated``: a new assignee (assigned), newly mentioned people (mentioned), the
  task's and the project's watchers (watching);
- ``comment.added``: mentioned people, the task's and the project's watchers;
- ``comment.edited``: only the people the edit newly mentions;
- ``member.added`` (a user, not a group): that user (member);
- ``task.due_soon`` / ``task.due_today``: the task's assignee now (due).

Everyone is told once per event, for the strongest of their reasons (:data:`STRENGTH`) whose
channel they did not switch ``off`` (someone who turned mentions off but watches the task
still hears of it as a watcher). Never told: the person who acted, inactive users, and
anyone who may not see the project now (``access.may_view_project``: a private project
they are no member of, directly or through a group, unless they are a site admin). The
event's task (and comment) must still exist: nobody is told of something already deleted.

Two statements whatever the number of people: the candidates with every filter in SQL, and
their channels (``preferences.channels``); none for kinds nobody is told of.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, exists, literal_column, select, union_all
from sqlalchemy.orm import Session

from taskdesk.domain.access import may_view_project
from taskdesk.domain.events import DUE_SOON, DUE_TODAY, Reason
from taskdesk.domain.preferences import Channel, channels
from taskdesk.models import Comment, Event, Project, ProjectWatcher, Task, TaskWatcher, User

#: Strongest first: someone both assigned and watching is told "assigned".
STRENGTH: tuple[Reason, ...] = (
    Reason.ASSIGNED, Reason.MENTIONED, Reason.DUE, Reason.WATCHING, Reason.MEMBER,
)
_RANK = {reason: rank for rank, reason in enumerate(STRENGTH)}

#: Kinds whose notifications point at a comment (``data["comment_id"]``).
COMMENT_KINDS = frozenset({"comment.added", "comment.edited"})


@dataclass(frozen=True)
class Recipient:
    user_id: int
    reason: Reason


#: A SELECT of (user id, reason) pairs.
Part = Select[Any, str]
Source = Callable[[Event], "Part | None"]


def _reason(reason: Reason) -> ColumnElement[str]:
    # A constant of our own enum, not user input: inlined, so the UNION needs no typed
    # parameters on PostgreSQL.
    return literal_column(f"'{reason.value}'", String).label("reason")


def _ids(value: Any) -> list[int]:
    """User ids from event data (a list or a single id); anything else is no one."""
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _named(key: str, reason: Reason) -> Source:
    """The users whose ids the event's ``data[key]`` holds."""
    def source(event: Event) -> Part | None:
        ids = _ids((event.data or {}).get(key))
        if not ids:
            return None
        return select(User.id.label("user_id"), _reason(reason)).where(User.id.in_(ids))
    return source


def _task_watchers(event: Event) -> Part | None:
    return select(TaskWatcher.user_id.label("user_id"), _reason(Reason.WATCHING)).where(
        TaskWatcher.task_id == event.task_id)


def _project_watchers(event: Event) -> Part | None:
    return select(ProjectWatcher.user_id.label("user_id"), _reason(Reason.WATCHING)).where(
        ProjectWatcher.project_id == event.project_id)


def _assignee_now(event: Event) -> Part | None:
    return select(Task.assignee_id.label("user_id"), _reason(Reason.DUE)).where(
        Task.id == event.task_id)


_ASSIGNEE = _named("assignee_id", Reason.ASSIGNED)
_MENTIONED = _named("mentioned", Reason.MENTIONED)

#: Who may be told of each kind of event (kinds not listed: nobody).
RULES: Mapping[str, tuple[Source, ...]] = {
    "task.created": (_ASSIGNEE, _MENTIONED, _project_watchers),
    "task.updated": (_ASSIGNEE, _MENTIONED, _task_watchers, _project_watchers),
    "comment.added": (_MENTIONED, _task_watchers, _project_watchers),
    "comment.edited": (_MENTIONED,),
    "member.added": (_named("user_id", Reason.MEMBER),),
    DUE_SOON: (_assignee_now,),
    DUE_TODAY: (_assignee_now,),
}


def comment_id_of(event: Event) -> int | None:
    """The comment a notification of ``event`` links to, if it is about one."""
    if event.kind not in COMMENT_KINDS:
        return None
    ids = _ids((event.data or {}).get("comment_id"))
    return ids[0] if ids else None


def _still_there(event: Event) -> list[ColumnElement[bool]]:
    """What must still exist for anyone to be told: the project, the task, the comment."""
    assert event.project_id is not None
    if event.task_id is None:
        return [exists().where(Project.id == event.project_id)]
    conditions: list[ColumnElement[bool]] = [
        exists().where(Task.id == event.task_id, Task.project_id == event.project_id)]
    if event.kind in COMMENT_KINDS:
        conditions.append(exists().where(Comment.id == comment_id_of(event),
                                         Comment.task_id == event.task_id))
    return conditions


def candidates_statement(event: Event) -> Select[Any, str] | None:
    """The (user id, reason) pairs of the people who may be told of ``event``, before their
    channels; None when nobody is (an unknown kind, nothing named, no project)."""
    if event.project_id is None or (event.task_id is None and event.kind != "member.added"):
        return None
    parts = [part for source in RULES.get(event.kind, ()) if (part := source(event)) is not None]
    if not parts:
        return None
    candidates = union_all(*parts).subquery("candidates")
    statement = (
        select(candidates.c.user_id, candidates.c.reason)
        .join(User, User.id == candidates.c.user_id)
        .where(User.is_active.is_(True), may_view_project(event.project_id),
               *_still_there(event))
    )
    if event.actor_id is not None:
        statement = statement.where(User.id != event.actor_id)
    return statement


def recipients(dbsession: Session, event: Event) -> list[Recipient]:
    """Who is told of ``event`` and why, one entry per person, by user id (see the module
    docstring for the rule)."""
    statement = candidates_statement(event)
    if statement is None:
        return []
    reasons: dict[int, set[Reason]] = {}
    for user_id, reason in dbsession.execute(statement):
        reasons.setdefault(user_id, set()).add(Reason(reason))
    if not reasons:
        return []
    chosen = channels(dbsession, reasons)
    told = []
    for user_id in sorted(reasons):
        heard = [r for r in reasons[user_id] if chosen[user_id][r] is not Channel.OFF]
        if heard:
            told.append(Recipient(user_id, min(heard, key=_RANK.__getitem__)))
    return told
