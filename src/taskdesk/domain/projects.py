"""Projects and their memberships."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from taskdesk.domain import audit
from taskdesk.domain.activity import record
from taskdesk.domain.audit import AuditKind
from taskdesk.domain.errors import DomainError, DuplicateError, ValidationError
from taskdesk.domain.rights import PROJECT_FIELD_PERMISSIONS, UNRESTRICTED, May, permitted
from taskdesk.domain.schemas import PROJECT_CREATE, member_schema, project_update_schema
from taskdesk.messages import _
from taskdesk.models import Group, Project, ProjectMember, User
from taskdesk.models.meta import utcnow
from taskdesk.security.permissions import Permission
from taskdesk.settings import TaskdeskSettings, Workflow

MANAGER_ROLE = "manager"


def create_project(
    dbsession: Session, actor: User, data: Mapping[str, Any], *, strict: bool = False
) -> Project:
    """Create a project; its creator becomes its first manager."""
    values = PROJECT_CREATE.validate(data, strict=strict)
    values.setdefault("visibility", "private")
    values.setdefault("description", "")
    if dbsession.scalar(select(exists().where(Project.slug == values["slug"]))):
        raise DuplicateError("slug", _("This URL name is taken."))
    project = Project(created_by_id=actor.id, **values)
    dbsession.add(project)
    try:
        with dbsession.begin_nested():
            dbsession.flush()
    except IntegrityError:
        raise DuplicateError("slug", _("This URL name is taken.")) from None
    dbsession.add(ProjectMember(project_id=project.id, user_id=actor.id, role=MANAGER_ROLE))
    record(dbsession, project_id=project.id, actor_id=actor.id, action="project.created")
    _audit_membership(dbsession, project, actor, actor, None, MANAGER_ROLE)
    return project


def update_project(
    dbsession: Session,
    project: Project,
    actor: User,
    data: Mapping[str, Any],
    *,
    may: May,
    workflow: Workflow | None = None,
    partial: bool = False,
    strict: bool = False,
) -> dict[str, list[Any]]:
    """Change name, description, visibility, WIP limits or the archived flag; return what
    changed. WIP limits name statuses of ``workflow`` (without it, none is accepted).

    Each field needs its permission (:data:`PROJECT_FIELD_PERMISSIONS`, asked of ``may``),
    else ForbiddenFieldsError; a change naming no field needs ``manage_project``.
    """
    data = permitted(may, data, PROJECT_FIELD_PERMISSIONS, bare=Permission.MANAGE_PROJECT)
    schema = project_update_schema(workflow.status_names if workflow else ())
    values = schema.validate(data, partial=partial, strict=strict)
    changes: dict[str, list[Any]] = {}
    for field, value in values.items():
        attribute = "is_archived" if field == "archived" else field
        old = getattr(project, attribute)
        if old != value:
            changes[field] = [old, value]
            setattr(project, attribute, value)
    if changes:
        project.updated_at = utcnow()
        record(dbsession, project_id=project.id, actor_id=actor.id,
               action="project.updated", changes=changes)
        _audit_project(dbsession, project, actor, changes)
    return changes


def _audit_project(dbsession: Session, project: Project, actor: User,
                   changes: dict[str, list[Any]]) -> None:
    """Record archiving apart from the other settings' changes (audit log)."""
    settings = {field: change for field, change in changes.items() if field != "archived"}
    target = f"project:{project.slug}"
    if "archived" in changes:
        audit.record(dbsession, kind=AuditKind.PROJECT_ARCHIVED if project.is_archived
                     else AuditKind.PROJECT_UNARCHIVED, actor_id=actor.id, target=target)
    if settings:
        audit.record(dbsession, kind=AuditKind.PROJECT_SETTINGS_CHANGED, actor_id=actor.id,
                     target=target, details={"changes": settings})


def archive_project(dbsession: Session, project: Project, actor: User, archived: bool) -> None:
    """Archive or unarchive ``project``; its callers hold ``archive_project`` on it."""
    update_project(dbsession, project, actor, {"archived": archived}, may=UNRESTRICTED,
                   partial=True)


def find_membership(dbsession: Session, project_id: int,
                    principal: User | Group) -> ProjectMember | None:
    """The role ``principal`` holds in the project itself (not through a group), if any."""
    column = ProjectMember.user_id if isinstance(principal, User) else ProjectMember.group_id
    return dbsession.scalar(
        select(ProjectMember).where(ProjectMember.project_id == project_id,
                                    column == principal.id)
    )


def _principal_label(principal: User | Group) -> str:
    if isinstance(principal, User):
        return f"user:{principal.username}"
    return f"group:{principal.name}"


def _managers_left_without(dbsession: Session, project: Project, membership_id: int) -> int:
    return dbsession.scalar(
        select(func.count())
        .select_from(ProjectMember)
        .where(
            ProjectMember.project_id == project.id,
            ProjectMember.role == MANAGER_ROLE,
            ProjectMember.id != membership_id,
        )
    ) or 0


def set_member(
    dbsession: Session,
    settings: TaskdeskSettings,
    project: Project,
    principal: User | Group,
    actor: User,
    data: Mapping[str, Any],
    *,
    strict: bool = False,
) -> tuple[ProjectMember, bool]:
    """Give ``principal`` a role in ``project``; return (membership, created)."""
    values, errors = member_schema(tuple(settings.roles)).check(data, strict=strict)
    if isinstance(principal, User) and not principal.is_active:
        errors["principal"] = _("This account is deactivated.")
    if errors:
        raise ValidationError(errors)
    membership = find_membership(dbsession, project.id, principal)
    role = values["role"]
    if membership is None:
        membership = ProjectMember(project_id=project.id, role=role)
        if isinstance(principal, User):
            membership.user_id = principal.id
        else:
            membership.group_id = principal.id
        dbsession.add(membership)
        dbsession.flush()
        record(dbsession, project_id=project.id, actor_id=actor.id, action="member.added",
               changes={_principal_label(principal): [None, role]},
               data={"user_id": membership.user_id, "group_id": membership.group_id})
        _audit_membership(dbsession, project, principal, actor, None, role)
        return membership, True
    if membership.role != role:
        if membership.role == MANAGER_ROLE and not _managers_left_without(
            dbsession, project, membership.id
        ):
            raise DomainError(_("A project needs at least one manager."))
        record(dbsession, project_id=project.id, actor_id=actor.id, action="member.changed",
               changes={_principal_label(principal): [membership.role, role]})
        _audit_membership(dbsession, project, principal, actor, membership.role, role)
        membership.role = role
    return membership, False


def remove_member(
    dbsession: Session, project: Project, principal: User | Group, actor: User
) -> bool:
    """Remove ``principal``'s role; return False when it had none."""
    membership = find_membership(dbsession, project.id, principal)
    if membership is None:
        return False
    if membership.role == MANAGER_ROLE and not _managers_left_without(
        dbsession, project, membership.id
    ):
        raise DomainError(_("A project needs at least one manager."))
    dbsession.delete(membership)
    record(dbsession, project_id=project.id, actor_id=actor.id, action="member.removed",
           changes={_principal_label(principal): [membership.role, None]})
    _audit_membership(dbsession, project, principal, actor, membership.role, None)
    return True


def _audit_membership(dbsession: Session, project: Project, principal: User | Group,
                      actor: User, old: str | None, new: str | None) -> None:
    """Audit a project role given (``old`` None), changed or taken (``new`` None)."""
    audit.record(dbsession, kind=AuditKind.MEMBERSHIP_CHANGED, actor_id=actor.id,
                 target=f"project:{project.slug}",
                 details={"principal": _principal_label(principal), "from": old, "to": new})
