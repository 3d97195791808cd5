"""Links between tasks: blocks / blocked by, relates to, duplicates / duplicated by.

Each link is one ``task_links`` row in its canonical direction (``blocks``, ``relates``,
``duplicates``, read from source to target); the other side sees the inverse ("blocked by",
"duplicated by"). A "relates to" link has no direction: it is stored with the lower task id
as its source, so linking either way round finds the same row.

Visibility: a link is shown only when the viewer may see the other task's project (the
list rule, :func:`taskdesk.domain.access.visible_projects`), and "blocked" counts only
blockers the viewer may see, so nothing about a hidden task leaks: not a row, not a count,
not a badge, not a history entry (:func:`link_entry_visible`). A task of another project
named when adding a link must be visible to the actor
(:func:`taskdesk.domain.access.may_view_project`); a hidden task and a missing one get the
same answer.

"Blocked" means blocked by a task that is not done (its status is not of category ``done``;
its ``completed_at`` is empty): a cancelled blocker still blocks until the link is removed.

Neither ``blocks`` nor ``duplicates`` may form a cycle (A blocks B blocks A, however long the
chain): a recursive query over the kind's links refuses it, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload

from taskdesk.domain.access import Viewer, may_view_project, visible_projects, visible_to_member
from taskdesk.domain.activity import record
from taskdesk.domain.errors import DuplicateError, ValidationError
from taskdesk.domain.schema import TaskRef
from taskdesk.domain.schemas import LINK_KINDS, TASK_LINK
from taskdesk.messages import _
from taskdesk.models import Activity, Project, Task, TaskLink, User

#: A kind as one side sees it -> (stored kind, whether that side is the stored target).
_STORED: dict[str, tuple[str, bool]] = {
    "blocks": ("blocks", False),
    "blocked_by": ("blocks", True),
    "relates_to": ("relates", False),
    "duplicates": ("duplicates", False),
    "duplicated_by": ("duplicates", True),
}
#: (stored kind, seen from the target) -> the kind that side sees.
_SEEN = {(stored, inverse): kind for kind, (stored, inverse) in _STORED.items()}
_SEEN[("relates", True)] = "relates_to"
#: The actions of the history entries links write.
LINK_ACTIONS = ("link.added", "link.removed")
#: Stored kinds that must not form a cycle.
_ACYCLIC = frozenset({"blocks", "duplicates"})
#: The first argument of PostgreSQL's two-integer advisory locks: this module's namespace
#: (``domain.idempotency`` uses another).
_LOCK_CLASS = 0x4C4E4B
assert set(_STORED) == set(LINK_KINDS)


class LinkRow(NamedTuple):
    """One link as a task sees it: the kind from its side and the other task."""

    id: int
    kind: str
    task_id: int
    project_slug: str
    project_name: str
    number: int
    title: str
    status: str
    #: The other task is done (a done blocker blocks no more).
    done: bool
    same_project: bool

    def reference(self) -> str:
        """``#12`` within the project, ``slug#12`` across projects."""
        return f"#{self.number}" if self.same_project else f"{self.project_slug}#{self.number}"


def open_blockers(links: list[LinkRow]) -> list[LinkRow]:
    """The tasks (among ``links``, the visible ones) that block this one and are not done."""
    return [link for link in links if link.kind == "blocked_by" and not link.done]


# -- "blocked", for the task lists and the API ------------------------------------------------
def blocked_by_open_task(task_id: Any, project_id: Any,
                         blocker_visible: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """Whether the task ``task_id`` of the project ``project_id`` (columns of the enclosing
    query, or bound parameters) is blocked by a task that is not done and that the viewer
    may see: ``blocker_visible`` is a WHERE clause on ``Project`` (None: every project, for
    site admins). A blocker in the task's own project is visible to whoever sees the task."""
    blocker = aliased(Task, name="blocker")
    visible: ColumnElement[bool] = true()
    if blocker_visible is not None:
        visible = or_(blocker.project_id == project_id, blocker.project_id.in_(
            select(Project.id).where(blocker_visible).correlate(None)))
    return exists().where(
        TaskLink.target_id == task_id, TaskLink.kind == "blocks",
        blocker.id == TaskLink.source_id, blocker.completed_at.is_(None), visible,
    ).correlate_except(TaskLink, blocker)


def blocker_visibility(scope: str) -> ColumnElement[bool] | None:
    """:func:`blocked_by_open_task`'s ``blocker_visible`` for a list's viewer scope:
    ``all`` (site admin), ``same`` (signed out: only the task's own project) or
    ``visible`` (the projects of the bound parameter ``viewer_id``)."""
    if scope == "all":
        return None
    if scope == "same":
        return false()
    return visible_to_member(bindparam("viewer_id", type_=Integer))


def blocker_scope(viewer: Viewer) -> str:
    """The scope :func:`blocker_visibility` takes for ``viewer``."""
    if viewer.is_site_admin:
        return "all"
    return "same" if viewer.user_id is None else "visible"


@cache
def _is_blocked_statement(scope: str) -> Select[Any]:
    """:func:`is_blocked`'s statement for a viewer scope, built once: building the SELECT
    and its cache key cost the task's JSON more than running it."""
    return select(blocked_by_open_task(bindparam("task_id", type_=Integer),
                                       bindparam("project_id", type_=Integer),
                                       blocker_visibility(scope)))


def is_blocked(dbsession: Session, viewer: Viewer, task: Task) -> bool:
    """Whether the task is blocked by an open task ``viewer`` may see; one statement."""
    scope = blocker_scope(viewer)
    params: dict[str, Any] = {"task_id": task.id, "project_id": task.project_id}
    if scope == "visible":
        params["viewer_id"] = viewer.user_id
    return bool(dbsession.execute(_is_blocked_statement(scope), params).scalar())


# -- reading ----------------------------------------------------------------------------------
def task_links(dbsession: Session, viewer: Viewer, task: Task, *, after: int = 0,
               limit: int | None = None, offset: int = 0) -> list[LinkRow]:
    """The links of ``task`` to tasks ``viewer`` may see, by link id; one statement."""
    other = aliased(Task, name="other")
    outgoing = TaskLink.source_id == task.id
    statement = (
        select(TaskLink.id, TaskLink.kind, outgoing.label("outgoing"), other.id, Project.slug,
               Project.name, other.number, other.title, other.status,
               other.completed_at.is_not(None).label("done"))
        # The other end: the target of an outgoing link, the source of an incoming one.
        .join(other, other.id == case((outgoing, TaskLink.target_id),
                                      else_=TaskLink.source_id))
        .join(Project, Project.id == other.project_id)
        .where(or_(TaskLink.source_id == task.id, TaskLink.target_id == task.id),
               TaskLink.id > after,
               or_(Project.id == task.project_id, visible_projects(viewer)))
        .order_by(TaskLink.id)
    )
    if limit is not None:
        statement = statement.limit(limit).offset(offset)
    rows = dbsession.execute(statement)
    return [
        LinkRow(link_id, _SEEN[(kind, not out)], other_id, slug, name, number, title, status,
                bool(done), slug == task.project.slug)
        for link_id, kind, out, other_id, slug, name, number, title, status, done in rows
    ]


def find_link(dbsession: Session, viewer: Viewer, task: Task, link_id: int) -> LinkRow | None:
    """One link of ``task`` by id, if its other task is visible to ``viewer`` (else None:
    a hidden link and a missing one look the same)."""
    found = task_links(dbsession, viewer, task, after=link_id - 1, limit=1)
    return found[0] if found and found[0].id == link_id else None


# -- changing ---------------------------------------------------------------------------------
def _resolve(dbsession: Session, actor: User, task: Task, ref: TaskRef) -> Task:
    """The task ``ref`` names, if ``actor`` may see it; the same refusal for a hidden task
    as for a missing one."""
    slug = ref.project or task.project.slug
    other = dbsession.scalars(
        select(Task).join(Project, Project.id == Task.project_id)
        .options(contains_eager(Task.project))
        .where(Project.slug == slug, Task.number == ref.number)
    ).first()
    if other is not None and other.project_id != task.project_id:
        visible = dbsession.scalar(select(exists().where(
            User.id == actor.id, may_view_project(other.project_id))))
        other = other if visible else None
    if other is None:
        raise ValidationError({"task": _("There is no task ${ref} that you can see.",
                                         mapping={"ref": f"{slug}#{ref.number}"})})
    return other


def _would_cycle(dbsession: Session, kind: str, source_id: int, target_id: int) -> bool:
    """Whether a ``kind`` link from ``source_id`` to ``target_id`` would close a cycle: the
    source is reachable from the target along ``kind`` links already (a recursive query)."""
    reach = (
        select(TaskLink.target_id.label("task_id"))
        .where(TaskLink.source_id == target_id, TaskLink.kind == kind)
        .cte("reach", recursive=True)
    )
    reach = reach.union(
        select(TaskLink.target_id).join(reach, TaskLink.source_id == reach.c.task_id)
        .where(TaskLink.kind == kind)
    )
    return bool(dbsession.scalar(select(exists().where(reach.c.task_id == source_id))))


def _describe(link_kind: str, this: Task, other: Task) -> dict[str, Any]:
    """An activity entry's ``changes`` for a link of ``this`` task: the kind from its side,
    the other task (``#12``, or ``slug#12`` in another project) and its project, by which
    :func:`link_entry_visible` leaves the entry out for whoever may not see that project."""
    same = other.project_id == this.project_id
    reference = f"#{other.number}" if same else f"{other.project.slug}#{other.number}"
    return {"kind": link_kind, "task": reference, "project_id": other.project_id}


def link_entry_visible(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on ``Activity`` leaving out the link entries that name a task of a
    project ``viewer`` may not see (the history shows other entries as it did)."""
    other = Activity.changes["project_id"].as_integer()
    return or_(Activity.action.not_in(LINK_ACTIONS), other == Activity.project_id,
               other.in_(select(Project.id).where(visible_projects(viewer)).correlate(None)))


def _record(dbsession: Session, action: str, actor: User, task: Task, kind: str,
            other: Task) -> None:
    """The entry on both tasks, each from its own side."""
    stored, inverse = _STORED[kind]
    other_kind = _SEEN[(stored, not inverse)]
    for this, that, seen in ((task, other, kind), (other, task, other_kind)):
        record(dbsession, project_id=this.project_id, task_id=this.id, actor_id=actor.id,
               action=action, changes=_describe(seen, this, that),
               data={"other_task_id": that.id})


def add_link(dbsession: Session, task: Task, actor: User, data: Any, *,
             strict: bool = False) -> TaskLink:
    """Link ``task`` to the task ``data["task"]`` names, as ``data["kind"]`` says from
    ``task``'s side. The caller checked that ``actor`` may edit ``task``; the other task must
    be visible to them. Refused: bad input, a hidden or missing task, the task itself, a
    link that exists already (:class:`DuplicateError`), a cycle of blocks or duplicates."""
    values = TASK_LINK.validate(data, strict=strict)
    kind: str = values["kind"]
    other = _resolve(dbsession, actor, task, values["task"])
    if other.id == task.id:
        raise ValidationError({"task": _("A task cannot be linked to itself.")})
    stored, inverse = _STORED[kind]
    source, target = (other, task) if inverse else (task, other)
    if stored == "relates" and source.id > target.id:
        source, target = target, source
    if dbsession.get_bind().dialect.name == "postgresql":
        # Two requests each adding half of a cycle would both find none, and two adding the
        # same link would both find it missing: links are added one at a time (SQLite's
        # writers are one at a time already).
        dbsession.execute(select(func.pg_advisory_xact_lock(_LOCK_CLASS, 0)))
    exists_already = dbsession.scalar(select(exists().where(
        TaskLink.source_id == source.id, TaskLink.target_id == target.id,
        TaskLink.kind == stored)))
    if exists_already:
        raise DuplicateError("task", _("These tasks are linked so already."))
    if stored in _ACYCLIC and _would_cycle(dbsession, stored, source.id, target.id):
        message = (_("This would make a cycle: the other task already depends on this one.")
                   if stored == "blocks" else
                   _("This would make a cycle of duplicates."))
        raise ValidationError({"task": message})
    link = TaskLink(source_id=source.id, target_id=target.id, kind=stored,
                    created_by_id=actor.id)
    dbsession.add(link)
    dbsession.flush()
    _record(dbsession, "link.added", actor, task, kind, other)
    return link


def remove_link(dbsession: Session, task: Task, actor: User, link: LinkRow) -> None:
    """Remove ``link`` (one of ``task``'s, as :func:`find_link` found it); recorded on both
    tasks."""
    row = dbsession.get(TaskLink, link.id)
    if row is None:
        return
    other = dbsession.get_one(Task, link.task_id, options=[joinedload(Task.project)])
    dbsession.delete(row)
    dbsession.flush()
    _record(dbsession, "link.removed", actor, task, link.kind, other)

