"""The board: moving a card (within its column or to another status's column) and the
columns' WIP limits. Shared by the web board and ``POST .../tasks/<n>/move`` of the API.

A move to another column is a status change: it goes through ``update_task`` (the
``set_status`` permission, the version check, the history entry, the events), which also
writes the new rank in the same UPDATE. A move within a column writes the rank alone
(``domain.ranks``): it needs ``set_status`` as well (whoever may move cards may order them),
and is neither a new version nor history.

WIP limits warn and never refuse, as Jira's and Plane's boards do by default: a limit is a
team's agreement to talk about a full column, and an urgent fix or a card carried over must
still be able to move; refusing would push people to change the status elsewhere, or to
raise the limit, which hides the signal the limit exists to give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.ranks import rank_between, set_rank
from taskdesk.domain.rights import TASK_FIELD_PERMISSIONS, May, permitted
from taskdesk.domain.schemas import move_schema
from taskdesk.domain.tasks import update_task
from taskdesk.domain.versions import expect_version
from taskdesk.messages import _
from taskdesk.models import Task, User
from taskdesk.settings import TaskdeskSettings


@dataclass(frozen=True)
class Moved:
    """What a move did: the status change (empty within a column) and, when the move put
    its new column past its WIP limit, that limit."""

    changes: dict[str, list[Any]] = field(default_factory=dict)
    over_limit: int | None = None


def move_task(dbsession: Session, settings: TaskdeskSettings, task: Task, actor: User,
              data: Mapping[str, Any], *, may: May, wip_limits: Mapping[str, int],
              expected_version: int | None = None, strict: bool = False) -> Moved:
    """Move ``task`` on its project's board as ``data`` says (``status``, ``after`` or
    ``before``, ``version``: :func:`~taskdesk.domain.schemas.move_schema`)."""
    values = move_schema(settings.workflow).validate(data, strict=strict)
    status = values.get("status", task.status)
    permitted(may, {"status": status}, TASK_FIELD_PERMISSIONS)
    if values.get("after") is not None and values.get("before") is not None:
        raise ValidationError({"before": _("Give either after or before, not both.")})
    version = values.get("version")
    if status != task.status:
        # Before anything is written (a renumbering): a stale status change changes nothing.
        expect_version(task.version, expected_version)
        expect_version(task.version, version, field="version")
    anchors = {side: _anchor(dbsession, task, status, side, values[side])
               for side in ("after", "before") if values.get(side) is not None}
    rank = rank_between(dbsession, task, status, **anchors)
    if status == task.status:
        set_rank(dbsession, task, rank)
        return Moved()
    changes = update_task(dbsession, settings, task, actor,
                          {"status": status, **({"version": version} if version else {})},
                          may=may, expected_version=expected_version, rank=rank)
    return Moved(changes, past_limit(dbsession, task.project_id, status, wip_limits))


def _anchor(dbsession: Session, task: Task, status: str, side: str,
            number: int) -> tuple[int, int]:
    """The (id, rank) of the task ``number`` next to which ``task`` goes: another task of
    the same project, in the column of ``status``."""
    if number == task.number:
        raise ValidationError({side: _("A task cannot be moved next to itself.")})
    found = dbsession.execute(
        select(Task.id, Task.rank, Task.status)
        .where(Task.project_id == task.project_id, Task.number == number)).first()
    if found is None:
        raise ValidationError({side: _("There is no task #${number} in this project.",
                                       mapping={"number": number})})
    if found.status != status:
        raise ValidationError({side: _("Task #${number} is not in that column (any more).",
                                       mapping={"number": number})})
    return found.id, found.rank


def past_limit(dbsession: Session, project_id: int, status: str,
               wip_limits: Mapping[str, int]) -> int | None:
    """The column's WIP limit when it holds more tasks than that; no statement when the
    column has no limit (and one counting at most limit + 1 rows when it has)."""
    limit = wip_limits.get(status)
    if limit is None:
        return None
    count = dbsession.scalar(
        select(func.count()).select_from(
            select(Task.id).where(Task.project_id == project_id, Task.status == status)
            .limit(limit + 1).subquery())) or 0
    return limit if count > limit else None


def over_limit(total: int, status: str, wip_limits: Mapping[str, int]) -> bool:
    """Whether a column holding ``total`` tasks is past its WIP limit."""
    limit = wip_limits.get(status)
    return limit is not None and total > limit
