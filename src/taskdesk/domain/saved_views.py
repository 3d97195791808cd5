"""Saved views: a task list's filters and sort kept under a name, private to their owner
or shared with the project (shared ones are tabs on the task list and the board).

A view's ``filters`` are the list's own URL parameters (:data:`TASK_QUERY`), checked by
the very rules the list applies to its query string (``parse_task_query``) when they are
saved, and again wherever they are used: a workflow may lose a status later, and a stored
filter that no longer holds is shown as the list's filter errors, never a failure.

Who may do what (the resource's ACL, ``resources.SavedViewResource``, enforces it for
reading, renaming and deleting): anyone who may see the project saves private views; a
shared view needs ``edit_task`` (the project's members and managers, not its viewers, as
Plane lets members but not guests create public views); its owner, or a project manager
for a shared one, renames or deletes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from taskdesk.domain.access import Viewer, visible_projects
from taskdesk.domain.errors import ForbiddenFieldsError, ValidationError
from taskdesk.domain.rights import May
from taskdesk.domain.schema import Boolean, Schema, StringMap, Text
from taskdesk.domain.task_list import TaskQuery, parse_task_query
from taskdesk.messages import _
from taskdesk.models import Project, SavedView, User, read_rows
from taskdesk.models.meta import utcnow
from taskdesk.security.permissions import Permission
from taskdesk.settings import Workflow

#: The most views one person keeps in one project (shared and private together).
MAX_VIEWS_PER_PROJECT = 50

SAVED_VIEW = Schema(
    "SavedView",
    (
        Text("name", required=True, max_length=80),
        Boolean("shared", nullable=False,
                description="Shared with the project (a tab for every member); false: "
                "private, only its owner sees it"),
        StringMap("filters", nullable=False,
                  description="The task list's query parameters (status, state, assignee, "
                  "priority, label, q, due_before, due_after, blocked, subtasks, sort, ...), "
                  "each as its text value"),
    ),
)


class ViewRow(NamedTuple):
    """A saved view as lists and tabs show it."""

    id: int
    name: str
    shared: bool
    filters: dict[str, str]
    owner_id: int
    owner: str
    project_id: int


_COLUMNS = (SavedView.id, SavedView.name, SavedView.shared, SavedView.params,
            SavedView.owner_id, User.username, SavedView.project_id)
#: Every view a person sees in a project: the shared ones and their own, shared first, by
#: name. One statement (the tabs of the list and board cost exactly this one).
_VISIBLE: Select[Any] = cast("Select[Any]", (
    select(*_COLUMNS).join(User, User.id == SavedView.owner_id)
    .where(SavedView.project_id == bindparam("project_id"),
           or_(SavedView.shared.is_(True), SavedView.owner_id == bindparam("user_id")))
    .order_by(SavedView.shared.desc(), SavedView.name, SavedView.id)
    .limit(bindparam("limit"))
))


def views_in(dbsession: Session, project_id: int, user_id: int | None) -> list[ViewRow]:
    """The shared views of a project and ``user_id``'s own there; one statement."""
    rows = read_rows(dbsession, _VISIBLE, {"project_id": project_id, "user_id": user_id or -1,
                                           "limit": MAX_VIEWS_PER_PROJECT * 4})
    return [ViewRow._make(row) for row in rows]


def private_views(dbsession: Session, viewer: Viewer, *,
                  limit: int = MAX_VIEWS_PER_PROJECT * 4) -> list[tuple[str, ViewRow]]:
    """(project slug, view) of ``viewer``'s private views in the projects they may still
    see, by project and name; one statement."""
    statement = (
        select(Project.slug, *_COLUMNS).join(User, User.id == SavedView.owner_id)
        .join(Project, Project.id == SavedView.project_id)
        .where(SavedView.owner_id == (viewer.user_id or -1), SavedView.shared.is_(False),
               visible_projects(viewer))
        .order_by(Project.slug, SavedView.name, SavedView.id).limit(limit)
    )
    return [(row[0], ViewRow._make(row[1:])) for row in dbsession.execute(statement)]


def view_row(view: SavedView, owner: str) -> ViewRow:
    return ViewRow(view.id, view.name, view.shared, dict(view.params), view.owner_id, owner,
                   view.project_id)


def find_view(dbsession: Session, project_id: int, view_id: int,
              user_id: int | None) -> SavedView | None:
    """The view ``view_id`` of the project if ``user_id`` may see it: shared, or their own
    (another's private view is not found, like a missing one)."""
    return dbsession.scalar(
        select(SavedView).where(
            SavedView.id == view_id, SavedView.project_id == project_id,
            or_(SavedView.shared.is_(True), SavedView.owner_id == (user_id or -1))))


def clean_filters(filters: Mapping[str, str], workflow: Workflow) -> dict[str, str]:
    """The filters when the task list accepts them as its query parameters, or
    ValidationError naming each bad one as ``filters.<name>``."""
    try:
        parse_task_query(filters, workflow, strict=True)
    except ValidationError as error:
        raise ValidationError({f"filters.{key}": message
                               for key, message in error.fields.items()}) from None
    return dict(filters)


def view_query(filters: Mapping[str, str], workflow: Workflow) -> TaskQuery | None:
    """A stored view's query, or None when its filters no longer hold."""
    try:
        return parse_task_query(filters, workflow, strict=True)
    except ValidationError:
        return None


def _values(data: Mapping[str, Any], workflow: Workflow, *, partial: bool,
            strict: bool) -> dict[str, Any]:
    values, errors = SAVED_VIEW.check(data, partial=partial, strict=strict)
    if "filters" in values:
        try:
            values["filters"] = clean_filters(values["filters"], workflow)
        except ValidationError as error:
            errors.update(error.fields)
    if errors:
        raise ValidationError(errors)
    return values


def _may_share(may: May) -> None:
    if not may(Permission.EDIT_TASK):
        raise ForbiddenFieldsError(["shared"], _(
            "Only the project's members may share a view; save it as a private view."))


def create_view(dbsession: Session, workflow: Workflow, project_id: int, owner: User,
                data: Mapping[str, Any], *, may: May, strict: bool = False) -> SavedView:
    """Save a view in the project for ``owner``; sharing it needs ``edit_task`` (``may``,
    the project's)."""
    values = _values(data, workflow, partial=False, strict=strict)
    if values.get("shared"):
        _may_share(may)
    count = dbsession.scalar(select(func.count()).select_from(SavedView).where(
        SavedView.project_id == project_id, SavedView.owner_id == owner.id)) or 0
    if count >= MAX_VIEWS_PER_PROJECT:
        raise ValidationError({"name": _("You have ${n} views in this project already; "
                                         "delete one first.",
                                         mapping={"n": MAX_VIEWS_PER_PROJECT})})
    now = utcnow()
    view = SavedView(project_id=project_id, owner_id=owner.id, name=values["name"],
                     shared=bool(values.get("shared")), params=values.get("filters", {}),
                     created_at=now, updated_at=now)
    dbsession.add(view)
    dbsession.flush()
    return view


def update_view(dbsession: Session, workflow: Workflow, view: SavedView,
                data: Mapping[str, Any], *, may: May, strict: bool = False) -> SavedView:
    """Rename a view, change its filters, or share it (``edit_task``) or make it private."""
    values = _values(data, workflow, partial=True, strict=strict)
    if values.get("shared") and not view.shared:
        _may_share(may)
    if "name" in values:
        view.name = values["name"]
    if "shared" in values:
        view.shared = values["shared"]
    if "filters" in values:
        view.params = values["filters"]
    view.updated_at = utcnow()
    dbsession.flush()
    return view


def delete_view(dbsession: Session, view: SavedView) -> None:
    dbsession.delete(view)
    dbsession.flush()

