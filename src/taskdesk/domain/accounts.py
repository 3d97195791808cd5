"""Users, groups, passwords, API tokens and Atom feed addresses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, func, or_, select, union_all
from sqlalchemy.orm import Session

from taskdesk.domain import audit
from taskdesk.domain.audit import AuditKind
from taskdesk.domain.errors import DuplicateError, ValidationError
from taskdesk.domain.keyset import window
from taskdesk.domain.schemas import GROUP, PASSWORD, PROFILE, TOKEN_CREATE, USER_CREATE
from taskdesk.messages import _
from taskdesk.models import ApiToken, AuthSession, FeedToken, Group, GroupMember, User
from taskdesk.models.meta import utcnow
from taskdesk.security.passwords import PRODUCTION_COST, Argon2Cost, hash_password, verify_password
from taskdesk.security.secrets import digest, new_secret, visible_prefix


def find_user(dbsession: Session, username: str) -> User | None:
    return dbsession.scalar(select(User).where(User.username == username.strip().lower()))


def like_pattern(text: str, *, anywhere: bool = True) -> str:
    """``%text%`` (``text%`` for a prefix) for LIKE, with the wildcards in ``text`` itself
    escaped by a backslash."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%" if anywhere else f"{escaped}%"


def search_users(
    dbsession: Session,
    text: str = "",
    *,
    active: bool | None = None,
    offset: int = 0,
    limit: int | None = 50,
) -> tuple[list[User], int]:
    """One page of users whose username or display name contains ``text`` (any case),
    ordered by username, and the number of all matches. ``active`` keeps only active (True)
    or deactivated (False) accounts; ``limit=None`` returns every match."""
    statement = select(User)
    text = text.strip()
    if text:
        pattern = like_pattern(text)
        statement = statement.where(
            or_(User.username.ilike(pattern, escape="\\"),
                User.display_name.ilike(pattern, escape="\\"))
        )
    if active is not None:
        statement = statement.where(User.is_active.is_(active))
    total = dbsession.scalar(select(func.count()).select_from(statement.subquery())) or 0
    users = dbsession.scalars(statement.order_by(User.username).offset(offset).limit(limit))
    return list(users), total


def last_seen(dbsession: Session, users: Sequence[User]) -> dict[int, datetime]:
    """When each of ``users`` was last seen: the latest use of a browser session or an API
    token still on record (sign-out and ``purge`` remove sessions), by user id; users
    without any are missing."""
    ids = [user.id for user in users]
    if not ids:
        return {}
    uses = union_all(
        select(AuthSession.user_id.label("user_id"), AuthSession.last_seen_at.label("at"))
        .where(AuthSession.user_id.in_(ids)),
        select(ApiToken.user_id.label("user_id"), ApiToken.last_used_at.label("at"))
        .where(ApiToken.user_id.in_(ids), ApiToken.last_used_at.is_not(None)),
    ).subquery()
    latest = func.max(uses.c.at)
    rows = dbsession.execute(select(uses.c.user_id, latest).group_by(uses.c.user_id))
    return {user_id: at for user_id, at in rows}


def user_groups(dbsession: Session, user: User) -> list[Group]:
    return list(dbsession.scalars(
        select(Group).join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user.id).order_by(Group.name)
    ))


def count_sessions(dbsession: Session, user: User) -> int:
    """How many signed-in browser sessions ``user`` has (expired ones included until
    they are cleaned up)."""
    return dbsession.scalar(
        select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)
    ) or 0


def list_groups(dbsession: Session) -> list[tuple[Group, int]]:
    """Every group with its number of members, by name."""
    members = (
        select(func.count()).select_from(GroupMember)
        .where(GroupMember.group_id == Group.id).scalar_subquery()
    )
    rows = dbsession.execute(select(Group, members).order_by(Group.name))
    return [(group, count) for group, count in rows]


def group_members(dbsession: Session, group: Group) -> list[User]:
    return list(dbsession.scalars(
        select(User).join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id).order_by(User.username)
    ))


def site_counts(dbsession: Session) -> dict[str, int]:
    """The numbers on the admin overview: users, active users, site admins, groups."""
    def count(statement: Select[int]) -> int:
        return dbsession.scalar(statement) or 0

    users = select(func.count()).select_from(User)
    return {
        "users": count(users),
        "active_users": count(users.where(User.is_active.is_(True))),
        "admins": count(users.where(User.is_site_admin.is_(True))),
        "groups": count(select(func.count()).select_from(Group)),
    }


def list_tokens(dbsession: Session, user: User, *, newest_first: bool = True,
                after: int = 0, limit: int | None = None,
                offset: int = 0) -> list[ApiToken]:
    """The API tokens of ``user`` (revoked and expired ones too): newest first (the whole
    list), or in id order, paged by keyset."""
    statement = select(ApiToken).where(ApiToken.user_id == user.id)
    if newest_first:
        if after or limit is not None or offset:
            raise ValueError("paging follows the id order")
        statement = statement.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    else:
        statement = window(statement, ApiToken.id, after=after, limit=limit, offset=offset)
    return list(dbsession.scalars(statement))


def create_user(
    dbsession: Session, data: Mapping[str, Any], *, strict: bool = False,
    actor_id: int | None = None, cost: Argon2Cost = PRODUCTION_COST,
) -> User:
    """A new account; its password hashed at ``cost`` (``settings.password_cost``)."""
    values = USER_CREATE.validate(
        {**data, "username": str(data.get("username", "")).lower()}, strict=strict
    )
    if dbsession.scalar(select(exists().where(User.username == values["username"]))):
        raise DuplicateError("username", _("This username is taken."))
    user = User(
        username=values["username"],
        display_name=values["display_name"],
        email=values.get("email", ""),
        password_hash=hash_password(values["password"], cost),
        is_site_admin=values.get("is_site_admin", False),
    )
    dbsession.add(user)
    dbsession.flush()
    audit.record(dbsession, kind=AuditKind.USER_CREATED, actor_id=actor_id,
                 target=f"user:{user.id}",
                 details={"username": user.username, "is_site_admin": user.is_site_admin})
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


def sign_out_everywhere(dbsession: Session, user: User, *, actor_id: int | None,
                        keep_session_id: int | None = None) -> None:
    """End ``user``'s sessions (but the one given) on request, and record it."""
    end_sessions(dbsession, user, keep_session_id=keep_session_id)
    audit.record(dbsession, kind=AuditKind.USER_SESSIONS_ENDED, actor_id=actor_id,
                 target=f"user:{user.id}", details={"username": user.username})


def _store_password(dbsession: Session, user: User, password: str,
                    keep_session_id: int | None, cost: Argon2Cost) -> None:
    values = PASSWORD.validate({"password": password})
    user.password_hash = hash_password(values["password"], cost)
    end_sessions(dbsession, user, keep_session_id=keep_session_id)


def set_password(
    dbsession: Session, user: User, password: str, *, keep_session_id: int | None = None,
    actor_id: int | None = None, cost: Argon2Cost = PRODUCTION_COST,
) -> None:
    """Set a new password (an admin's reset, or the admin command's when ``actor_id`` is
    None) and end the user's other sessions at once."""
    _store_password(dbsession, user, password, keep_session_id, cost)
    audit.record(dbsession, kind=AuditKind.USER_PASSWORD_RESET, actor_id=actor_id,
                 target=f"user:{user.id}", details={"username": user.username})


def set_active(
    dbsession: Session, user: User, active: bool, *, actor: User | None = None
) -> bool:
    """Deactivate or reactivate; a deactivated user's sessions end immediately. Return
    whether the account changed (False: it was active, or deactivated, already).

    An admin (``actor``) cannot deactivate themselves: that would lock them out at once.
    """
    if not active and actor is not None and actor.id == user.id:
        raise ValidationError({"is_active": _("You cannot deactivate your own account.")})
    changed = user.is_active != active
    user.is_active = active
    if not active:
        end_sessions(dbsession, user)
    if changed:
        audit.record(dbsession, kind=AuditKind.USER_REACTIVATED if active
                     else AuditKind.USER_DEACTIVATED, actor_id=actor.id if actor else None,
                     target=f"user:{user.id}", details={"username": user.username})
    return changed


def set_site_admin(dbsession: Session, user: User, is_admin: bool, *,
                   actor: User | None = None) -> None:
    """Grant or remove site admin rights; an admin (``actor``) cannot remove their own."""
    if not is_admin and actor is not None and actor.id == user.id:
        raise ValidationError(
            {"is_site_admin": _("You cannot remove your own site admin rights.")}
        )
    if user.is_site_admin != is_admin:
        audit.record(dbsession, kind=AuditKind.USER_ADMIN_CHANGED,
                     actor_id=actor.id if actor else None, target=f"user:{user.id}",
                     details={"username": user.username, "is_site_admin": is_admin})
    user.is_site_admin = is_admin


def create_group(dbsession: Session, data: Mapping[str, Any], *, strict: bool = False,
                 actor_id: int | None = None) -> Group:
    values = GROUP.validate(data, strict=strict)
    if dbsession.scalar(select(exists().where(Group.name == values["name"]))):
        raise DuplicateError("name", _("This group name is taken."))
    group = Group(name=values["name"], description=values.get("description", ""))
    dbsession.add(group)
    dbsession.flush()
    audit.record(dbsession, kind=AuditKind.GROUP_CREATED, actor_id=actor_id,
                 target=f"group:{group.id}", details={"group": group.name})
    return group


def _record_group_member(dbsession: Session, kind: AuditKind, group: Group, user: User,
                         actor_id: int | None) -> None:
    audit.record(dbsession, kind=kind, actor_id=actor_id, target=f"group:{group.id}",
                 details={"group": group.name, "user_id": user.id, "username": user.username})


def add_group_member(dbsession: Session, group: Group, user: User, *,
                     actor_id: int | None = None) -> bool:
    if dbsession.get(GroupMember, (group.id, user.id)) is not None:
        return False
    dbsession.add(GroupMember(group_id=group.id, user_id=user.id))
    dbsession.flush()
    _record_group_member(dbsession, AuditKind.GROUP_MEMBER_ADDED, group, user, actor_id)
    return True


def remove_group_member(dbsession: Session, group: Group, user: User, *,
                        actor_id: int | None = None) -> bool:
    result = dbsession.execute(
        delete(GroupMember).where(GroupMember.group_id == group.id, GroupMember.user_id == user.id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    _record_group_member(dbsession, AuditKind.GROUP_MEMBER_REMOVED, group, user, actor_id)
    return True


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
    audit.record(dbsession, kind=AuditKind.TOKEN_CREATED, actor_id=user.id,
                 target=f"token:{token.id}",
                 details={"name": token.name, "scope": token.scope, "prefix": token.prefix,
                          "expires_in_days": days})
    return token, secret


def revoke_token(dbsession: Session, token: ApiToken) -> None:
    """Revoke ``token`` (its owner does; an admin cannot reach another's tokens)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(dbsession, kind=AuditKind.TOKEN_REVOKED, actor_id=token.user_id,
                     target=f"token:{token.id}", details={"name": token.name,
                                                          "prefix": token.prefix})


def feed_token(dbsession: Session, user: User) -> FeedToken | None:
    """``user``'s Atom feed address (its prefix and date; the secret is not stored)."""
    return dbsession.scalar(select(FeedToken).where(FeedToken.user_id == user.id))


def renew_feed_token(dbsession: Session, user: User) -> tuple[FeedToken, str]:
    """A new secret feed address for ``user``; the old one, if any, stops working at once.
    The secret is returned once and only its digest is stored (as for API tokens)."""
    dbsession.execute(delete(FeedToken).where(FeedToken.user_id == user.id))
    secret = new_secret()
    token = FeedToken(user_id=user.id, prefix=visible_prefix(secret), token_hash=digest(secret))
    dbsession.add(token)
    dbsession.flush()
    return token, secret


def feed_owner(dbsession: Session, secret: str) -> User | None:
    """The active user whose feed address holds ``secret``; None for a wrong secret and for
    a deactivated user alike. One lookup by digest (a unique index), so the answer takes
    the same time however much of a wrong secret matches a real one."""
    return dbsession.scalar(
        select(User).join(FeedToken, FeedToken.user_id == User.id)
        .where(FeedToken.token_hash == digest(secret), User.is_active.is_(True)))


def change_password(
    dbsession: Session, user: User, current: str, new: str, *, keep_session_id: int | None,
    cost: Argon2Cost = PRODUCTION_COST,
) -> None:
    """A user's own password change: the current password must be right."""
    if not verify_password(user.password_hash, current)[0]:
        raise ValidationError({"current_password": _("The current password is wrong.")})
    _store_password(dbsession, user, new, keep_session_id, cost)
    audit.record(dbsession, kind=AuditKind.USER_PASSWORD_CHANGED, actor_id=user.id,
                 target=f"user:{user.id}", details={"username": user.username})
