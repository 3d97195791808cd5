"""Users, groups, passwords and API tokens."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from taskdesk.domain.errors import DuplicateError, ValidationError
from taskdesk.domain.schema import _
from taskdesk.domain.schemas import GROUP, PASSWORD, PROFILE, TOKEN_CREATE, USER_CREATE
from taskdesk.models import ApiToken, AuthSession, Group, GroupMember, User
from taskdesk.models.meta import utcnow
from taskdesk.security.passwords import hash_password, verify_password
from taskdesk.security.secrets import digest, new_secret, visible_prefix


def find_user(dbsession: Session, username: str) -> User | None:
    return dbsession.scalar(select(User).where(User.username == username.strip().lower()))


def create_user(
    dbsession: Session, data: Mapping[str, Any], *, strict: bool = False
) -> User:
    values = USER_CREATE.validate(
        {**data, "username": str(data.get("username", "")).lower()}, strict=strict
    )
    if dbsession.scalar(select(exists().where(User.username == values["username"]))):
        raise DuplicateError("username", _("This username is taken."))
    user = User(
        username=values["username"],
        display_name=values["display_name"],
        email=values.get("email", ""),
        password_hash=hash_password(values["password"]),
        is_site_admin=values.get("is_site_admin", False),
    )
    dbsession.add(user)
    dbsession.flush()
    return user


def update_profile(
    dbsession: Session, user: User, data: Mapping[str, Any], *, strict: bool = False
) -> None:
    values = PROFILE.validate(data, partial=True, strict=strict)
    for field, value in values.items():
        setattr(user, field, value)


def end_sessions(dbsession: Session, user: User, *, keep_session_id: int | None = None) -> None:
    """Sign ``user`` out of every browser (but the one given)."""
    statement = delete(AuthSession).where(AuthSession.user_id == user.id)
    if keep_session_id is not None:
        statement = statement.where(AuthSession.id != keep_session_id)
    dbsession.execute(statement)


def set_password(
    dbsession: Session, user: User, password: str, *, keep_session_id: int | None = None
) -> None:
    """Set a new password and end the user's other sessions at once."""
    values = PASSWORD.validate({"password": password})
    user.password_hash = hash_password(values["password"])
    end_sessions(dbsession, user, keep_session_id=keep_session_id)


def set_active(
    dbsession: Session, user: User, active: bool, *, actor: User | None = None
) -> None:
    """Deactivate or reactivate; a deactivated user's sessions end immediately.

    An admin (``actor``) cannot deactivate themselves: that would lock them out at once.
    """
    if not active and actor is not None and actor.id == user.id:
        raise ValidationError({"is_active": _("You cannot deactivate your own account.")})
    user.is_active = active
    if not active:
        end_sessions(dbsession, user)


def set_site_admin(user: User, is_admin: bool, *, actor: User | None = None) -> None:
    """Grant or remove site admin rights; an admin (``actor``) cannot remove their own."""
    if not is_admin and actor is not None and actor.id == user.id:
        raise ValidationError(
            {"is_site_admin": _("You cannot remove your own site admin rights.")}
        )
    user.is_site_admin = is_admin


def create_group(dbsession: Session, data: Mapping[str, Any], *, strict: bool = False) -> Group:
    values = GROUP.validate(data, strict=strict)
    if dbsession.scalar(select(exists().where(Group.name == values["name"]))):
        raise DuplicateError("name", _("This group name is taken."))
    group = Group(name=values["name"], description=values.get("description", ""))
    dbsession.add(group)
    dbsession.flush()
    return group


def add_group_member(dbsession: Session, group: Group, user: User) -> bool:
    if dbsession.get(GroupMember, (group.id, user.id)) is not None:
        return False
    dbsession.add(GroupMember(group_id=group.id, user_id=user.id))
    dbsession.flush()
    return True


def remove_group_member(dbsession: Session, group: Group, user: User) -> bool:
    result = dbsession.execute(
        delete(GroupMember).where(GroupMember.group_id == group.id, GroupMember.user_id == user.id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def create_token(
    dbsession: Session, user: User, data: Mapping[str, Any], *, strict: bool = False
) -> tuple[ApiToken, str]:
    """Create an API token; the secret is returned once and only its digest is stored."""
    values = TOKEN_CREATE.validate(data, strict=strict)
    secret = new_secret()
    days = values.get("expires_in_days")
    token = ApiToken(
        user_id=user.id,
        name=values["name"],
        scope=values.get("scope") or "read",
        prefix=visible_prefix(secret),
        token_hash=digest(secret),
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    dbsession.add(token)
    dbsession.flush()
    return token, secret


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def change_password(
    dbsession: Session, user: User, current: str, new: str, *, keep_session_id: int | None
) -> None:
    """A user's own password change: the current password must be right."""
    if not verify_password(user.password_hash, current)[0]:
        raise ValidationError({"current_password": _("The current password is wrong.")})
    set_password(dbsession, user, new, keep_session_id=keep_session_id)
