"""Bulk edit: one change (status, priority, assignee, labels added or removed, due date) or
deletion applied to many tasks of a project in one transaction.

Each task goes through the single-task operations (``update_task``, ``delete_task``), so
every rule stays in its one home: the field permissions (``may``, the project's ACL, which
every task of the project shares), validation, the version each task was shown at (a task
changed since is refused, not overwritten), and one activity entry per task. A task that
is refused leaves the others be; the result says, per task, what changed or why not.

Cost: the tasks are read in two statements whatever their number (the rows with their
people and parent, then their labels); each task's write then costs the statements a
single edit's write costs (its UPDATE in a savepoint, its activity entry and event: five for
a status; an assignee adds the membership check and the watch), so a batch of n tasks runs
``a + b·n`` statements, bounded by :data:`MAX_BULK_TASKS`. Batching
the UPDATEs would lose the per-task version check and savepoint that make a stale task a
refusal instead of a failure of the whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from taskdesk.domain.errors import (
    ConflictError,
    DomainError,
    ForbiddenFieldsError,
    ValidationError,
)
from taskdesk.domain.rights import May
from taskdesk.domain.schema import (
    Boolean,
    Choice,
    Date,
    Labels,
    Schema,
    TaskVersions,
    Text,
    Versioned,
)
from taskdesk.domain.tasks import delete_task, update_task
from taskdesk.messages import _
from taskdesk.models import Project, Task, User
from taskdesk.security.permissions import Permission
from taskdesk.settings import TaskdeskSettings, Workflow

#: The most tasks one bulk change takes (a form's "all matching" included).
MAX_BULK_TASKS = 500
#: The fields a bulk change sets (as the single-task update names them).
SET_FIELDS = ("status", "priority", "assignee", "due_date")

#: Why a task was refused: the codes the API answers and the web summary explains.
STALE = "version_conflict"
FORBIDDEN = "forbidden"
INVALID = "invalid"
NOT_FOUND = "not_found"


@lru_cache(maxsize=8)
def bulk_schema(workflow: Workflow) -> Schema:
    """The body of a bulk change for a workflow's statuses and priorities."""
    return Schema("TaskBulkChange", (
        TaskVersions("tasks", required=True, max_items=MAX_BULK_TASKS,
                     description=f"The tasks, each with the version it was shown at (at "
                     f"most {MAX_BULK_TASKS})"),
        Boolean("delete", nullable=False,
                description="Delete the tasks (and their sub-tasks); nothing else may be "
                "asked with it"),
        Choice("status", choices=workflow.status_names, nullable=False),
        Choice("priority", choices=workflow.priorities, nullable=False),
        Text("assignee", max_length=64,
             description="Username of the new assignee; null or empty for nobody"),
        Date("due_date", description="The new due date; null to clear it"),
        Labels("add_labels", nullable=False, description="Labels to add"),
        Labels("remove_labels", nullable=False, description="Labels to remove"),
    ))


@dataclass(frozen=True)
class BulkChange:
    """A validated bulk change: the tasks, the fields to set, the labels to add and
    remove, or ``delete``."""

    tasks: tuple[Versioned, ...]
    values: Mapping[str, Any] = field(default_factory=dict)
    add_labels: tuple[str, ...] = ()
    remove_labels: tuple[str, ...] = ()
    delete: bool = False


def read_bulk_change(workflow: Workflow, data: Mapping[str, Any], *,
                     strict: bool = False) -> BulkChange:
    """Validate a bulk change (every problem in one ValidationError): at least one task,
    and either something to change or ``delete`` alone."""
    values, errors = bulk_schema(workflow).check(data, strict=strict)
    tasks = tuple(values.pop("tasks", ()))
    delete = bool(values.pop("delete", False))
    add = tuple(values.pop("add_labels", ()))
    remove = tuple(values.pop("remove_labels", ()))
    if "tasks" not in errors and not tasks:
        errors["tasks"] = _("Choose at least one task.")
    if delete and (values or add or remove):
        errors["delete"] = _("Deleting cannot be combined with changes.")
    elif not delete and not (values or add or remove) and not errors:
        errors["change"] = _("Choose what to change.")
    if set(add) & set(remove):
        errors["remove_labels"] = _("A label cannot be added and removed at once.")
    if errors:
        raise ValidationError(errors)
    return BulkChange(tasks, values, add, remove, delete)


@dataclass(frozen=True)
class BulkResult:
    """What happened to one task: ``changed`` (with its ``changes``), ``unchanged``, or
    ``refused`` with a ``reason`` code and a message."""

    number: int
    title: str
    outcome: str
    changes: Mapping[str, list[Any]] = field(default_factory=dict)
    reason: str | None = None
    message: Any = None


def _load(dbsession: Session, project: Project, numbers: Sequence[int]) -> dict[int, Task]:
    """The project's tasks of these numbers with what an update reads; two statements."""
    tasks = dbsession.scalars(
        select(Task)
        .options(joinedload(Task.project), joinedload(Task.parent), joinedload(Task.assignee),
                 joinedload(Task.reporter), selectinload(Task.label_rows))
        .where(Task.project_id == project.id, Task.number.in_(numbers))
    ).unique()
    return {task.number: task for task in tasks}


def _refusal(error: DomainError) -> tuple[str, Any]:
    if isinstance(error, ConflictError):
        return STALE, _("Changed by someone else since it was shown; not overwritten.")
    if isinstance(error, ForbiddenFieldsError):
        return FORBIDDEN, error.message or _("You do not have permission to do this.")
    if isinstance(error, ValidationError):
        return INVALID, next(iter(error.fields.values()), _("Invalid."))
    return INVALID, error.message


def _labels(task: Task, change: BulkChange) -> list[str] | None:
    if not change.add_labels and not change.remove_labels:
        return None
    kept = [label for label in task.labels if label not in change.remove_labels]
    return kept + [label for label in change.add_labels if label not in kept]


def apply_bulk_change(dbsession: Session, settings: TaskdeskSettings, project: Project,
                      actor: User, change: BulkChange, *, may: May) -> list[BulkResult]:
    """Apply ``change`` to each of its tasks in the project, in the caller's transaction;
    one result per task, in the order given."""
    found = _load(dbsession, project, [item.number for item in change.tasks])
    results: dict[int, BulkResult] = {}
    todo = []
    for item in change.tasks:
        task = found.get(item.number)
        if task is None:
            results[item.number] = BulkResult(item.number, "", "refused", reason=NOT_FOUND,
                                              message=_("No such task in this project."))
        else:
            todo.append((item, task))
    if change.delete:
        _delete(dbsession, actor, todo, results, may)
    else:
        for item, task in todo:
            data = dict(change.values)
            labels = _labels(task, change)
            if labels is not None:
                data["labels"] = labels
            title = task.title
            try:
                changes = update_task(dbsession, settings, task, actor, data, may=may,
                                      expected_version=item.version, partial=True)
            except DomainError as error:
                reason, message = _refusal(error)
                results[item.number] = BulkResult(item.number, title, "refused",
                                                  reason=reason, message=message)
                continue
            results[item.number] = BulkResult(
                item.number, title, "changed" if changes else "unchanged", changes)
    return [results[item.number] for item in change.tasks]


def _delete(dbsession: Session, actor: User, todo: list[tuple[Versioned, Task]],
            results: dict[int, BulkResult], may: May) -> None:
    """Delete the tasks that are still as shown; sub-tasks first, so a parent selected
    with its sub-tasks does not delete them a second time."""
    if not may(Permission.DELETE_TASK):
        for item, task in todo:
            results[item.number] = BulkResult(
                item.number, task.title, "refused", reason=FORBIDDEN,
                message=_("You do not have permission to do this."))
        return
    for item, task in sorted(todo, key=lambda pair: pair[1].parent_id is None):
        title = task.title
        try:
            delete_task(dbsession, task, actor, expected_version=item.version)
        except DomainError as error:
            reason, message = _refusal(error)
            results[item.number] = BulkResult(item.number, title, "refused", reason=reason,
                                              message=message)
            continue
        results[item.number] = BulkResult(item.number, title, "deleted")
