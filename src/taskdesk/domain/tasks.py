"""Tasks: creation with safe per-project numbering, versioned updates, deletion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, bindparam, delete, exists, insert, select, tuple_, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from taskdesk.domain import search
from taskdesk.domain.access import may_be_assigned
from taskdesk.domain.activity import Change, record, record_many
from taskdesk.domain.checklists import progress
from taskdesk.domain.errors import ConflictError, ValidationError
from taskdesk.domain.mentions import newly_mentioned
from taskdesk.domain.merge import Merge, three_way
from taskdesk.domain.ranks import top_of_column
from taskdesk.domain.rights import CREATE_FIELD_PERMISSIONS, TASK_FIELD_PERMISSIONS, May, permitted
from taskdesk.domain.schema import Schema
from taskdesk.domain.schemas import task_schemas
from taskdesk.domain.task_list import TaskRow
from taskdesk.domain.versions import expect_version, versioned_flush
from taskdesk.domain.watching import watch_task
from taskdesk.messages import _
from taskdesk.models import Project, Task, TaskLabel, TaskSearch, User, write_rows
from taskdesk.models.meta import utcnow
from taskdesk.security.permissions import Permission
from taskdesk.settings import TaskdeskSettings, Workflow


class Subtask(NamedTuple):
    """A sub-task as its parent's page lists it."""

    number: int
    title: str
    status: str
    checklist_done: int
    checklist_total: int


class ProjectRef(Protocol):
    """What creating a task reads of its project: the ORM row or traversal's snapshot."""

    @property
    def id(self) -> int: ...
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...


def assignable_user(dbsession: Session, project: ProjectRef, username: str) -> User:
    """The active user named ``username`` if they may be assigned in ``project``."""
    found = dbsession.execute(
        select(User, may_be_assigned(project.id).label("assignable"))
        .where(User.username == username.lower())
    ).first()
    user: User | None = found.User if found is not None else None
    if user is None or not user.is_active:
        raise ValidationError({"assignee": _("No active user with this username.")})
    if not found or not found.assignable:
        raise ValidationError({"assignee": _("This user is not a member of the project.")})
    return user


def _parent_task(dbsession: Session, project: ProjectRef, number: int,
                 task: Task | None = None) -> Task:
    """The task numbered ``number`` in ``project`` if ``task`` (None: a new task) may become
    its sub-task.

    Sub-tasks are one level deep: a sub-task has none of its own, so no chain of parents can
    come back to where it started (no cycle). Both rows are locked first, in id order so two
    changes never deadlock (PostgreSQL; SQLite takes its write lock at BEGIN): of two changes
    that would each make the other's task a parent, the second waits for the first and then
    sees its change, so none makes a chain or a cycle (tests/functional/domain/
    test_concurrency.py).
    """
    parent = dbsession.scalars(
        select(Task).where(Task.project_id == project.id, Task.number == number)
    ).first()
    if parent is None:
        raise ValidationError({"parent": _("There is no task #${number} in this project.",
                                           mapping={"number": number})})
    if task is not None and parent.id == task.id:
        raise ValidationError({"parent": _("A task cannot be its own sub-task.")})
    ids = [parent.id] if task is None else sorted([parent.id, task.id])
    locked = {row.id: row.parent_id for row in dbsession.execute(
        select(Task.id, Task.parent_id).where(Task.id.in_(ids)).order_by(Task.id)
        .with_for_update()
    )}
    if locked.get(parent.id) is not None:
        raise ValidationError({"parent": _(
            "#${number} is a sub-task itself; sub-tasks cannot have sub-tasks.",
            mapping={"number": number})})
    if task is not None and dbsession.scalar(select(exists().where(Task.parent_id == task.id))):
        raise ValidationError({"parent": _(
            "This task has sub-tasks of its own, so it cannot become a sub-task.")})
    if parent.project_id != project.id:  # numbers are per project: a defence in depth
        raise ValidationError({"parent": _("The parent must be in the same project.")})
    return parent


def _load_parent(dbsession: Session, task: Task) -> None:
    """Load ``task.parent`` when the statement that read ``task`` did not (traversal does)."""
    if task.parent_id is not None and "parent" in sa_inspect(task).unloaded:
        set_committed_value(task, "parent", dbsession.get(Task, task.parent_id))


def parent_number(task: Task) -> int | None:
    """The number of the task ``task`` is a sub-task of (its ``parent`` loaded), or None."""
    return task.parent.number if task.parent_id is not None and task.parent else None


def _task_values(dbsession: Session, schema: Schema, project: ProjectRef,
                 data: Mapping[str, Any], *, partial: bool, strict: bool,
                 task: Task | None = None) -> dict[str, Any]:
    """The schema's clean values with ``assignee`` resolved to a user (or None) and
    ``parent`` to a task (or None) when it changes; every bad field, the assignee's
    membership and the parent's rules included, in one ValidationError."""
    values, errors = schema.check(data, partial=partial, strict=strict)
    if values.get("parent") is not None and (
            task is None or values["parent"] != parent_number(task)):
        try:
            values["parent"] = _parent_task(dbsession, project, values["parent"], task)
        except ValidationError as error:
            errors.update(error.fields)
    elif "parent" in values and task is not None and values["parent"] is not None:
        values["parent"] = task.parent  # unchanged
    if "assignee" in values:
        username = values["assignee"]
        values["assignee"] = None
        if username:
            try:
                values["assignee"] = assignable_user(dbsession, project, username)
            except ValidationError as error:
                errors.update(error.fields)
    if errors:
        raise ValidationError(errors)
    return values


def _apply_completed_shortcut(values: dict[str, Any], current: str, workflow: Workflow) -> None:
    """Map the simple clients' ``completed`` flag onto a status of the workflow."""
    completed = values.pop("completed", None)
    if completed is None or "status" in values:
        return
    is_done = workflow.status(current).is_done
    if completed and not is_done:
        values["status"] = workflow.first_done
    elif not completed and is_done:
        values["status"] = workflow.initial_status


_projects: Any = Project.__table__
_tasks: Any = Task.__table__
#: The project's next task number: one UPDATE ... RETURNING. PostgreSQL serialises it on the
#: row lock and SQLite on its write lock, so concurrent creators never see the same number,
#: and a rolled back creation returns its number (no gaps).
_NEXT_NUMBER = (update(_projects).where(_projects.c.id == bindparam("project_id"))
                .values(task_counter=_projects.c.task_counter + 1)
                .returning(_projects.c.task_counter))
#: A new task on top of its board column (``domain.ranks``), its rank computed by the INSERT.
_INSERT_TASK = (insert(_tasks)
                .values(rank=top_of_column(bindparam("column_project"),
                                           bindparam("column_status")))
                .returning(_tasks.c.id))
_labels: Any = TaskLabel.__table__
_search_rows: Any = TaskSearch.__table__
_INSERT_LABEL = insert(_labels)
_INSERT_SEARCH = insert(_search_rows)


def add_task(
    dbsession: Session,
    settings: TaskdeskSettings,
    project: ProjectRef,
    actor_id: int,
    actor_username: str,
    data: Mapping[str, Any],
    *,
    may: May,
    drop_forbidden: bool = False,
    strict: bool = False,
) -> TaskRow:
    """Create a task in ``project``, numbered next, reported by the user ``actor_id``;
    return it as the lists show it.

    Setting a field of :data:`CREATE_FIELD_PERMISSIONS` needs its permission (``may``):
    a refused one raises ForbiddenFieldsError, or with ``drop_forbidden`` is left out.

    Written with Core statements and nothing read back: the number, the task, its labels
    (one statement however many), its search row (a new task has no comments), the watches
    of the reporter and the assignee, the history entry and its event. The ORM's unit of
    work cost more than the statements (benchmarks/README.md, "create path");
    :func:`create_task` gives callers that need one the ORM row.
    """
    # Archived projects are read-only through their ACL, which still lets site admins in.
    data = permitted(may, data, CREATE_FIELD_PERMISSIONS, drop=drop_forbidden)
    workflow = settings.workflow
    create_schema, _update = task_schemas(workflow)
    values = _task_values(dbsession, create_schema, project, data, partial=False, strict=strict)
    _apply_completed_shortcut(values, workflow.initial_status, workflow)
    assignee: User | None = values.pop("assignee", None)
    labels: list[str] = values.pop("labels", [])
    parent: Task | None = values.pop("parent", None)
    title = values["title"]
    description = values.get("description", "")
    checklist = progress(description)
    now = utcnow()
    status = values.get("status", workflow.initial_status)
    completed_at = now if workflow.status(status).is_done else None
    number = int(write_rows(dbsession, _NEXT_NUMBER, {"project_id": project.id}).scalar_one())
    row = TaskRow(
        id=0, project_id=project.id, project_slug=project.slug, project_name=project.name,
        number=number, title=title, description=description, status=status,
        priority=values.get("priority", workflow.default_priority),
        assignee=assignee.username if assignee else None,
        assignee_name=assignee.display_name if assignee else None,
        reporter=actor_username, due_date=values.get("due_date"), created_at=now,
        updated_at=now, completed_at=completed_at, version=1,
        parent=parent.number if parent else None, parent_title=parent.title if parent else None,
        checklist_done=checklist.done, checklist_total=checklist.total, blocked=False,
        labels=tuple(labels))
    task_id = int(write_rows(dbsession, _INSERT_TASK, {
        "project_id": project.id, "number": number, "title": title,
        "description": description, "status": status, "priority": row.priority,
        "assignee_id": assignee.id if assignee else None, "reporter_id": actor_id,
        "due_date": row.due_date, "created_at": now, "updated_at": now,
        "completed_at": completed_at, "version": 1,
        "parent_id": parent.id if parent else None, "checklist_done": checklist.done,
        "checklist_total": checklist.total, "column_project": project.id,
        "column_status": status,
    }).scalar_one())
    if labels:
        write_rows(dbsession, _INSERT_LABEL,
                   [{"task_id": task_id, "name": name} for name in labels])
    write_rows(dbsession, _INSERT_SEARCH,
               {"task_id": task_id, "body": search.search_body(title, description)})
    watch_task(dbsession, task_id, [actor_id, assignee.id if assignee else None])
    record_many(dbsession, project_id=project.id, actor_id=actor_id, action="task.created",
                entries=[Change(task_id, {"parent": [None, parent.number]} if parent else {}, {
                    "assignee_id": assignee.id if assignee else None,
                    "mentioned": newly_mentioned(dbsession, description),
                })])
    return row._replace(id=task_id)


def create_task(
    dbsession: Session,
    settings: TaskdeskSettings,
    project: Project,
    actor: User,
    data: Mapping[str, Any],
    *,
    may: May,
) -> Task:
    """:func:`add_task`, the new task returned as its ORM row with its project, people,
    parent and labels loaded (one more statement), for callers that go on to change it
    (the demo's stories, the tests' factories)."""
    created = add_task(dbsession, settings, project, actor.id, actor.username, data, may=may)
    # The loaded project row keeps up with its counter (recorded as loaded, not assigned:
    # an assignment would make a flush write the same number back).
    set_committed_value(project, "task_counter", created.number)
    task = dbsession.scalars(
        select(Task).where(Task.id == created.id)
        .options(joinedload(Task.project), joinedload(Task.reporter),
                 joinedload(Task.assignee), joinedload(Task.parent),
                 selectinload(Task.label_rows))
    ).one()
    # The labels in the order given, as the answer has them (a later read sorts by name).
    set_committed_value(task, "label_rows",
                        sorted(task.label_rows, key=lambda row: created.labels.index(row.name)))
    return task


def _display(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


def task_changes(task: Task, values: Mapping[str, Any]) -> tuple[
        dict[str, list[Any]], dict[str, Any]]:
    """What setting clean ``values`` (an assignee as a User, a parent as a Task, labels as a
    list) would change of ``task``: the changes as history shows them ({field: [old, new]},
    people by username, a parent by number) and the attributes to assign."""
    changes: dict[str, list[Any]] = {}
    assignments: dict[str, Any] = {}
    for field, value in values.items():
        if field == "assignee":
            old_name = task.assignee.username if task.assignee else None
            new_name = value.username if value else None
            if old_name != new_name:
                changes["assignee"] = [old_name, new_name]
                assignments["assignee"] = value
        elif field == "parent":
            old_number = parent_number(task)
            new_number = value.number if value else None
            if old_number != new_number:
                changes["parent"] = [old_number, new_number]
                assignments["parent"] = value
        elif field == "labels":
            if value != task.labels:
                changes["labels"] = [task.labels, value]
                assignments["label_rows"] = [TaskLabel(name=name) for name in value]
        elif getattr(task, field) != value:
            changes[field] = [_display(getattr(task, field)), _display(value)]
            assignments[field] = value
    return changes, assignments


def status_columns(workflow: Workflow, project_id: int, old: str, new: str, now: datetime,
                   *, rank: int | ColumnElement[int] | None = None) -> dict[str, Any]:
    """The columns a status change sets beside ``status``: ``completed_at`` when the task
    becomes done (or stops being done), and its ``rank``, on top of its new board column
    unless given."""
    columns: dict[str, Any] = {
        "rank": rank if rank is not None else top_of_column(project_id, new)}
    was_done = workflow.status(old).is_done
    is_done = workflow.status(new).is_done
    if is_done and not was_done:
        columns["completed_at"] = now
    elif was_done and not is_done:
        columns["completed_at"] = None
    return columns


def update_task(
    dbsession: Session,
    settings: TaskdeskSettings,
    task: Task,
    actor: User,
    data: Mapping[str, Any],
    *,
    may: May,
    drop_forbidden: bool = False,
    expected_version: int | None = None,
    partial: bool = True,
    strict: bool = False,
    rank: int | None = None,
) -> dict[str, list[Any]]:
    """Apply the changed fields, bump the version and log them; return the changes.

    A task whose status changes goes to the top of its new board column, or to ``rank``
    (a move on the board, ``domain.board``).

    Each field needs its permission (:data:`TASK_FIELD_PERMISSIONS`, asked of ``may``): a
    refused one raises ForbiddenFieldsError, or with ``drop_forbidden`` is left out; a change
    naming no field (only a version) needs ``edit_task``. Then the data is validated, and
    ``expected_version`` (the caller's, e.g. an HTTP ``If-Match``) or a ``version`` in
    ``data`` other than the task's refuses the whole change with ConflictError; nothing is
    written then.
    """
    data = permitted(may, data, TASK_FIELD_PERMISSIONS, drop=drop_forbidden,
                     bare=Permission.EDIT_TASK)
    _load_parent(dbsession, task)
    workflow = settings.workflow
    _create, update_schema = task_schemas(workflow)
    values = _task_values(dbsession, update_schema, task.project, data, partial=partial,
                          strict=strict, task=task)
    expect_version(task.version, expected_version)
    expect_version(task.version, values.pop("version", None), field="version")
    _apply_completed_shortcut(values, task.status, workflow)

    changes, assignments = task_changes(task, values)
    if not changes:
        return changes

    told: dict[str, Any] = {}
    if "assignee" in assignments:
        told["assignee_id"] = assignments["assignee"].id if assignments["assignee"] else None
    if "description" in assignments:
        told["mentioned"] = newly_mentioned(dbsession, assignments["description"],
                                            before=task.description)
        checklist = progress(assignments["description"])
        assignments["checklist_done"] = checklist.done
        assignments["checklist_total"] = checklist.total
    now = utcnow()
    if "status" in changes:
        assignments.update(status_columns(workflow, task.project_id, task.status,
                                          assignments["status"], now, rank=rank))
    assignments["updated_at"] = now
    with versioned_flush(dbsession, task):
        for attribute, value in assignments.items():
            setattr(task, attribute, value)
    if "title" in changes or "description" in changes:
        search.reindex_task(dbsession, task.id)
    if told.get("assignee_id"):
        watch_task(dbsession, task.id, [told["assignee_id"]])
    record(dbsession, project_id=task.project_id, task_id=task.id, actor_id=actor.id,
           action="task.updated", changes=changes, data=told)
    return changes


def task_values(task: Task) -> dict[str, Any]:
    """The fields a person edits, as clean values (those the update schema produces)."""
    return {
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority,
        "assignee": task.assignee.username if task.assignee else "",
        "due_date": task.due_date,
        "labels": task.labels,
        "parent": parent_number(task),
    }


def merge_task_edit(workflow: Workflow, task: Task, base: Mapping[str, Any],
                    mine: Mapping[str, Any], *, may: May) -> Merge:
    """Decide a stale edit of ``task`` field by field (see :func:`three_way`).

    ``base`` holds the values the editor started from and ``mine`` what they sent, as form
    text or JSON values; both are compared cleaned, so "a,b" and "a, b" are the same labels.
    A field of ``mine`` the editor may not change (``may``) is left out: it is never theirs.
    ``mine`` must be valid; a base value that no longer validates (e.g. a status removed
    from the workflow) counts as unknown.
    """
    _create, update_schema = task_schemas(workflow)
    theirs = task_values(task)
    mine = permitted(may, mine, TASK_FIELD_PERMISSIONS, drop=True)
    clean_mine = update_schema.validate(
        {name: value for name, value in mine.items() if name in theirs}, partial=True)
    clean_base: dict[str, Any] = {}
    for name, value in base.items():
        if name in theirs:
            try:
                clean_base.update(update_schema.validate({name: value}, partial=True))
            except ValidationError:
                continue
    return three_way(clean_base, clean_mine, theirs)


def subtasks_of(dbsession: Session, task_id: int) -> list[Task]:
    """The sub-tasks of a task, by number (plain rows: no relationship is loaded)."""
    return list(dbsession.scalars(
        select(Task).where(Task.parent_id == task_id).order_by(Task.number)))


#: How many tasks the task form offers as a parent (the latest changed; any other number
#: can still be typed).
PARENT_CHOICES = 100


def parent_candidates(dbsession: Session, project_id: int,
                      task_id: int | None = None) -> list[tuple[int, str]]:
    """(number, title) of the tasks that may become a parent in the project: top-level
    tasks other than ``task_id``, the latest changed first, at most :data:`PARENT_CHOICES`."""
    statement = (
        select(Task.number, Task.title)
        .where(Task.project_id == project_id, Task.parent_id.is_(None))
        .order_by(Task.updated_at.desc(), Task.id.desc())
        .limit(PARENT_CHOICES)
    )
    if task_id is not None:
        statement = statement.where(Task.id != task_id)
    return [(number, title) for number, title in dbsession.execute(statement)]


def delete_task(
    dbsession: Session, task: Task, actor: User, *, expected_version: int | None = None
) -> None:
    """Delete ``task`` and its sub-tasks (:func:`delete_tasks`), if it is still at
    ``expected_version`` (no expectation: any)."""
    expect_version(task.version, expected_version)
    delete_tasks(dbsession, [task], actor)


def delete_tasks(dbsession: Session, tasks: Sequence[Task], actor: User) -> None:
    """Delete ``tasks`` (of one project) and, as in Jira or Redmine, their sub-tasks with
    them, each recorded as deleted; closing or reopening a parent, by contrast, leaves its
    sub-tasks as they are.

    Four statements however many tasks: their sub-tasks are read, the tasks deleted at the
    versions they were read at (the database deletes the sub-tasks, comments, labels... with
    them; a sub-task deleted with its parent is checked when it is read, under the lock the
    caller holds), then the history entries and their events are written, one INSERT each. A task
    changed by another transaction since it was read raises ConflictError before anything
    is written.
    """
    if not tasks:
        return
    ids = [task.id for task in tasks]
    numbers = {task.id: task.number for task in tasks}
    children = dbsession.scalars(
        select(Task).where(Task.parent_id.in_(ids), Task.id.not_in(ids))
        .order_by(Task.parent_id, Task.number)).all()
    # A task whose parent is deleted too goes with it (ON DELETE CASCADE), so the DELETE
    # names the others alone: its row count then says whether each was at its version.
    tops = [task for task in tasks if task.parent_id not in numbers]
    deleted = dbsession.execute(
        delete(Task).where(tuple_(Task.id, Task.version).in_(
            [(task.id, task.version) for task in tops])),
        execution_options={"synchronize_session": False})
    if deleted.rowcount != len(tops):  # type: ignore[attr-defined]
        current = dbsession.scalar(select(Task.version).where(Task.id == tasks[0].id))
        raise ConflictError(current or 0, raced=True)
    record_many(dbsession, project_id=tasks[0].project_id, actor_id=actor.id,
                action="task.deleted", entries=[
                    *(Change(None, {"task": [f"#{child.number} {child.title}", None]},
                             {"task_id": child.id, "number": child.number,
                              "parent": numbers[child.parent_id or 0]})
                      for child in children),
                    *(Change(None, {"task": [f"#{task.number} {task.title}", None]},
                             {"task_id": task.id, "number": task.number})
                      for task in tasks)])
    for row in (*children, *tasks):
        dbsession.expunge(row)


def is_overdue(workflow: Workflow, status: str, due_date: date | None, today: date) -> bool:
    """Whether a task is past its due date: due before ``today`` (the user's current date,
    ``request.today`` on the web) and not closed; a done or cancelled task never is."""
    if due_date is None or due_date >= today:
        return False
    try:
        return not workflow.status(status).is_closed
    except KeyError:  # a status the INI no longer lists: still expected to be done
        return True
