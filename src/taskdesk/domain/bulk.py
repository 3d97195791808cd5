"""Bulk edit: one change (status, priority, assignee, labels added or removed, due date) or
deletion applied to many tasks of a project in one transaction.

The rules are those of a single edit, from their one home in ``domain.tasks`` and
``domain.rights``: the field permissions (``may``, the project's ACL, which every task of the
project shares), the update schema, what counts as a change, what a status change sets
beside the status, one history entry (and event) per task, the version each task was shown
at (a task changed since is refused, not overwritten). A task that is refused leaves the
others be; the result says, per task, what changed or why not.

Cost: a fixed number of statements whatever the number of tasks (constant per batch of at
most :data:`MAX_BULK_TASKS`). The tasks are read and locked in two statements, so the
versions compared are the ones written over; every task taking the same columns is written
by one UPDATE (at most a few: a status change splits them by whether they were done), the
labels by one DELETE and one INSERT, the history entries and their events by one INSERT each,
all in one savepoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session, joinedload, selectinload

from taskdesk.domain.activity import Change, record_many
from taskdesk.domain.errors import (
    ConflictError,
    DomainError,
    ForbiddenFieldsError,
    ValidationError,
)
from taskdesk.domain.rights import TASK_FIELD_PERMISSIONS, May, permitted
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
from taskdesk.domain.schemas import task_schemas
from taskdesk.domain.tasks import assignable_user, delete_tasks, status_columns, task_changes
from taskdesk.domain.versions import expect_version
from taskdesk.domain.watching import watch_tasks
from taskdesk.messages import _
from taskdesk.models import Project, Task, TaskLabel, User, insert_missing
from taskdesk.models.meta import utcnow
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
    """The project's tasks of these numbers with their assignees and labels, locked until
    the transaction ends (PostgreSQL; SQLite holds its write lock already), so the versions
    read are the ones written over; two statements."""
    tasks = dbsession.scalars(
        select(Task)
        .options(joinedload(Task.assignee), selectinload(Task.label_rows))
        .where(Task.project_id == project.id, Task.number.in_(numbers))
        .with_for_update(of=Task)
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
            continue
        try:
            expect_version(task.version, item.version)
        except ConflictError as error:
            results[item.number] = _refused(task, error)
            continue
        todo.append(task)
    try:
        if change.delete:
            _delete(dbsession, actor, todo, results, may)
        else:
            _update(dbsession, settings, project, actor, change, todo, results, may)
    except DomainError as error:  # the whole batch: a field refused, a bad assignee, a race
        for task in todo:
            results[task.number] = _refused(task, error)
    return [results[item.number] for item in change.tasks]


def _refused(task: Task, error: DomainError) -> BulkResult:
    reason, message = _refusal(error)
    return BulkResult(task.number, task.title, "refused", reason=reason, message=message)


def _update(dbsession: Session, settings: TaskdeskSettings, project: Project, actor: User,
            change: BulkChange, tasks: list[Task], results: dict[int, BulkResult],
            may: May) -> None:
    """Change the tasks as a single edit of each would (``domain.tasks``: the permissions,
    the update schema, what counts as a change, a status's completion date and board rank),
    writing every task that takes the same columns in one UPDATE."""
    asked = dict(change.values)
    if change.add_labels or change.remove_labels:
        asked["labels"] = list(change.add_labels)
    permitted(may, asked, TASK_FIELD_PERMISSIONS, bare=Permission.EDIT_TASK)
    _create, update_schema = task_schemas(settings.workflow)
    values = dict(change.values)
    if "assignee" in values:
        username = values["assignee"]
        values["assignee"] = assignable_user(dbsession, project, username) if username else None
    now = utcnow()
    planned: dict[tuple[Any, ...], list[Task]] = {}
    columns_of: dict[tuple[Any, ...], dict[str, Any]] = {}
    edits: list[tuple[Task, dict[str, list[Any]], list[str] | None]] = []
    for task in tasks:
        task_values = dict(values)
        labels = _labels(task, change)
        if labels is not None:
            try:
                task_values["labels"] = update_schema.validate({"labels": labels},
                                                              partial=True)["labels"]
            except ValidationError as error:
                results[task.number] = _refused(task, error)
                continue
        changes, assignments = task_changes(task, task_values)
        if not changes:
            results[task.number] = BulkResult(task.number, task.title, "unchanged")
            continue
        new_labels = labels if "label_rows" in assignments else None
        assignments.pop("label_rows", None)
        if "assignee" in assignments:
            assignee = assignments.pop("assignee")
            assignments["assignee_id"] = assignee.id if assignee else None
        if "status" in assignments:
            assignments.update(status_columns(settings.workflow, project.id, task.status,
                                              assignments["status"], now))
        key = tuple(sorted((name, value if name != "rank" else None)
                           for name, value in assignments.items()))
        planned.setdefault(key, []).append(task)
        columns_of[key] = assignments
        edits.append((task, changes, new_labels))
    if not edits:
        return
    with dbsession.begin_nested():
        for key, group in planned.items():
            _write(dbsession, group, {**columns_of[key], "updated_at": now})
        _write_labels(dbsession, change, [task for task, _changes, new in edits if new is not None])
        assignee_id = values["assignee"].id if values.get("assignee") else None
        if assignee_id:
            watch_tasks(dbsession, [task.id for task, changes, _l in edits
                                    if "assignee" in changes], [assignee_id])
        record_many(dbsession, project_id=project.id, actor_id=actor.id, action="task.updated",
                    entries=[Change(task.id, changes, {"assignee_id": assignee_id}
                                    if "assignee" in changes else {})
                             for task, changes, _new in edits])
    for task, changes, _new in edits:
        results[task.number] = BulkResult(task.number, task.title, "changed", changes)
        dbsession.expire(task)


def _write(dbsession: Session, tasks: list[Task], columns: Mapping[str, Any]) -> None:
    """One UPDATE of ``tasks`` at the versions they were read at, each version bumped."""
    written = dbsession.execute(
        update(Task)
        .where(tuple_(Task.id, Task.version).in_([(task.id, task.version) for task in tasks]))
        .values(**columns, version=Task.version + 1),
        execution_options={"synchronize_session": False})
    if written.rowcount != len(tasks):  # type: ignore[attr-defined]
        raise ConflictError(0, raced=True)


def _write_labels(dbsession: Session, change: BulkChange, tasks: list[Task]) -> None:
    """Remove and add the change's labels of ``tasks``: at most two statements."""
    if not tasks:
        return
    if change.remove_labels:
        dbsession.execute(
            delete(TaskLabel).where(TaskLabel.task_id.in_([task.id for task in tasks]),
                                    TaskLabel.name.in_(change.remove_labels)),
            execution_options={"synchronize_session": False})
    insert_missing(dbsession, TaskLabel, [{"task_id": task.id, "name": name}
                                          for task in tasks for name in change.add_labels])


def _delete(dbsession: Session, actor: User, tasks: list[Task],
            results: dict[int, BulkResult], may: May) -> None:
    """Delete the tasks that are still as shown, with their sub-tasks (``delete_tasks``)."""
    if not may(Permission.DELETE_TASK):
        raise ForbiddenFieldsError((), _("You do not have permission to do this."))
    if not tasks:
        return
    with dbsession.begin_nested():
        delete_tasks(dbsession, tasks, actor)
    for task in tasks:
        results[task.number] = BulkResult(task.number, task.title, "deleted")
