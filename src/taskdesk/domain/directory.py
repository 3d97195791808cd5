"""Accounts that come from a directory (an OpenID provider or LDAP): linking, creation,
profile and group sync, deactivation, and who may still use a local password.

The protocols themselves live in ``taskdesk.security.oidc`` and ``taskdesk.security.ldap``;
they hand a :class:`DirectoryProfile` of someone the directory vouched for to
:func:`sign_in`, which decides which Taskdesk account that is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from taskdesk.domain import audit
from taskdesk.domain.accounts import set_active
from taskdesk.domain.audit import AuditKind
from taskdesk.domain.errors import DomainError
from taskdesk.domain.schemas import USERNAME_PATTERN
from taskdesk.i18n import shipped_locale
from taskdesk.messages import _
from taskdesk.models import DirectoryAccount, Group, GroupMember, User
from taskdesk.settings import SITE_ADMIN_TARGET, TaskdeskSettings

#: The provider name of LDAP accounts (OpenID ones use their issuer URL).
LDAP = "ldap"
#: A password hash no password matches: accounts made by a directory sign in through it.
NO_PASSWORD = "!directory"
_USERNAME = re.compile(USERNAME_PATTERN)


class DirectoryRefusal(DomainError):
    """The directory vouched for someone Taskdesk will not sign in; ``message`` says why."""

    code = "directory_refusal"


@dataclass(frozen=True)
class DirectoryProfile:
    """Someone a directory vouched for, as it describes them."""

    provider: str
    subject: str
    username: str
    display_name: str = ""
    email: str = ""
    email_verified: bool = False
    locale: str | None = None
    #: Directory group names and DNs; None: the directory said nothing about groups (the
    #: provider sends no groups claim), so Taskdesk groups stay as they are.
    groups: tuple[str, ...] | None = None


@dataclass
class GroupChanges:
    """What a sign-in changed in the mapped groups (for the audit log and the tests)."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    site_admin: bool | None = None


@dataclass
class SignIn:
    """Who signed in, and what the sign-in did to their account."""

    user: User
    created: bool = False
    linked: bool = False
    groups: GroupChanges = field(default_factory=GroupChanges)


def local_password_allowed(settings: TaskdeskSettings, user: User) -> bool:
    """Whether ``user`` may sign in with a password Taskdesk keeps
    (``taskdesk.auth.local_passwords``)."""
    mode = settings.local_passwords
    return mode == "on" or (mode == "admins" and user.is_site_admin)


def linked_user(dbsession: Session, provider: str, subject: str) -> User | None:
    return dbsession.scalar(
        select(User).join(DirectoryAccount, DirectoryAccount.user_id == User.id)
        .where(DirectoryAccount.provider == provider, DirectoryAccount.subject == subject)
    )


def usable_username(text: str) -> str:
    """A directory's username made a Taskdesk one: lower case, the part before an ``@``,
    characters Taskdesk does not allow replaced by dashes."""
    name = text.strip().lower().split("@")[0]
    name = re.sub(r"[^a-z0-9._-]+", "-", name).strip("-._")[:63]
    return name if _USERNAME.fullmatch(name) else f"user-{name}".strip("-")[:63]


def _free_username(dbsession: Session, wanted: str, user: User | None) -> str | None:
    """``wanted`` if no other account has it, else None."""
    holder = dbsession.scalar(select(User.id).where(User.username == wanted))
    return wanted if holder is None or (user is not None and holder == user.id) else None


def _new_username(dbsession: Session, wanted: str) -> str:
    """``wanted``, or when another account has it ``wanted-2``, ``wanted-3``... (a local
    account of the same name is never taken over: it may be someone else)."""
    taken = set(dbsession.scalars(
        select(User.username).where(
            (User.username == wanted) | User.username.like(f"{wanted[:56]}-%")
        )
    ))
    candidate, number = wanted, 1
    while candidate in taken:
        number += 1
        candidate = f"{wanted[:56]}-{number}"
    return candidate


def sign_in(dbsession: Session, settings: TaskdeskSettings, profile: DirectoryProfile,
            *, link_by_email: bool = False) -> SignIn:
    """The account of ``profile``: linked before, else (``link_by_email``) the one account
    with its verified address, else a new one; its profile and mapped groups then follow
    the directory. Refused (:class:`DirectoryRefusal`) for a deactivated account."""
    user = linked_user(dbsession, profile.provider, profile.subject)
    result: SignIn
    if user is not None:
        result = SignIn(user)
    else:
        found = _by_email(dbsession, profile) if link_by_email else None
        if found is not None:
            result = SignIn(found, linked=True)
        else:
            result = SignIn(_create(dbsession, profile), created=True)
        dbsession.add(DirectoryAccount(user_id=result.user.id, provider=profile.provider,
                                       subject=profile.subject))
    if not result.user.is_active:
        raise DirectoryRefusal(_("This account is deactivated. Ask a site admin."))
    _follow_profile(dbsession, result.user, profile)
    if profile.groups is not None:
        result.groups = sync_groups(dbsession, result.user, profile.groups,
                                    settings.directory_groups)
    dbsession.flush()
    _audit_sign_in(dbsession, profile, result)
    return result


def _audit_sign_in(dbsession: Session, profile: DirectoryProfile, result: SignIn) -> None:
    """What the sign-in did to the account, in the audit log (the sign-in itself is
    recorded when the session starts)."""
    user_id = result.user.id
    about = {"provider": profile.provider, "subject": profile.subject[:200]}
    if result.created or result.linked:
        audit.record(dbsession, kind=AuditKind.DIRECTORY_ACCOUNT_CREATED if result.created
                     else AuditKind.DIRECTORY_ACCOUNT_LINKED, actor_id=user_id,
                     target=f"user:{user_id}", details=about)
    groups = result.groups
    if groups.added or groups.removed or groups.site_admin is not None:
        audit.record(dbsession, kind=AuditKind.DIRECTORY_GROUPS_SYNCED, actor_id=None,
                     target=f"user:{user_id}",
                     details={**about, "added": groups.added, "removed": groups.removed,
                              "site_admin": groups.site_admin})


def _by_email(dbsession: Session, profile: DirectoryProfile) -> User | None:
    """The one account with the profile's address, if the directory verified it."""
    email = profile.email.strip().lower()
    if not email or not profile.email_verified:
        return None
    users = list(dbsession.scalars(
        select(User).where(func.lower(User.email) == email).limit(2)
    ))
    if len(users) > 1:
        raise DirectoryRefusal(_("Several accounts have this e-mail address; a site admin "
                                 "must sort them out before you can sign in."))
    return users[0] if users else None


def _create(dbsession: Session, profile: DirectoryProfile) -> User:
    username = _new_username(dbsession, usable_username(profile.username or profile.subject))
    user = User(username=username, display_name=(profile.display_name or username)[:120],
                email=profile.email[:254], password_hash=NO_PASSWORD,
                locale=_locale(profile.locale))
    dbsession.add(user)
    dbsession.flush()
    return user


def _locale(tag: str | None) -> str | None:
    return shipped_locale(tag) if tag else None


def _follow_profile(dbsession: Session, user: User, profile: DirectoryProfile) -> None:
    """Username, display name, e-mail and language as the directory says now. A username
    another account holds is not taken: the account keeps its own."""
    if profile.username:
        wanted = usable_username(profile.username)
        if wanted != user.username and _free_username(dbsession, wanted, user):
            user.username = wanted
    if profile.display_name:
        user.display_name = profile.display_name[:120]
    if profile.email:
        user.email = profile.email[:254]
    locale = _locale(profile.locale)
    if locale is not None:
        user.locale = locale


def sync_groups(dbsession: Session, user: User, directory_groups: Iterable[str],
                mapping: Mapping[str, tuple[str, ...]]) -> GroupChanges:
    """Make ``user``'s membership of every mapped Taskdesk group (and site admin rights,
    when ``site-admin`` is mapped) follow ``directory_groups``; unmapped groups stay.

    A mapped Taskdesk group that does not exist yet is created when someone first belongs
    to it.
    """
    changes = GroupChanges()
    if not mapping:
        return changes
    held = {name.strip().lower() for name in directory_groups}
    held |= {_first_rdn_value(name) for name in held}
    wanted = {target for source, targets in mapping.items() if source in held
              for target in targets}
    managed = {target for targets in mapping.values() for target in targets}
    if SITE_ADMIN_TARGET in managed:
        admin = SITE_ADMIN_TARGET in wanted
        if user.is_site_admin != admin:
            user.is_site_admin = admin
            changes.site_admin = admin
    names = sorted(managed - {SITE_ADMIN_TARGET})
    groups = {group.name: group for group in dbsession.scalars(
        select(Group).where(Group.name.in_(names)))}
    member_of = set(dbsession.scalars(
        select(GroupMember.group_id).where(GroupMember.user_id == user.id)))
    for name in names:
        group = groups.get(name)
        if name in wanted:
            if group is None:
                group = Group(name=name, description="")
                dbsession.add(group)
                dbsession.flush()
            if group.id not in member_of:
                dbsession.add(GroupMember(group_id=group.id, user_id=user.id))
                changes.added.append(name)
        elif group is not None and group.id in member_of:
            dbsession.execute(delete(GroupMember).where(
                GroupMember.group_id == group.id, GroupMember.user_id == user.id))
            changes.removed.append(name)
    return changes


def _first_rdn_value(dn: str) -> str:
    """``devs`` of ``cn=devs,ou=groups,dc=example,dc=com``; a plain name as it is."""
    first = dn.split(",", 1)[0]
    return first.split("=", 1)[1].strip() if "=" in first else first


def deactivate(dbsession: Session, provider: str, subject: str) -> User | None:
    """The directory says this person is gone or disabled: their account (if linked) is
    deactivated, which ends its sessions and stops its API tokens. Return the account if
    this changed it."""
    user = linked_user(dbsession, provider, subject)
    if user is None or not set_active(dbsession, user, False):
        return None
    return user
