"""Authentication (session cookie or bearer token), principals, and ACL-based permits."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, NamedTuple, cast

from pyramid.authorization import ACLHelper, Allow, Authenticated, Everyone
from pyramid.config import Configurator
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.httpexceptions import HTTPForbidden
from pyramid.location import lineage
from pyramid.request import Request, RequestLocalCache
from pyramid.security import Allowed, Denied
from pyramid.session import JSONSerializer, SignedCookieSessionFactory
from pyramid.util import is_nonstr_iter
from sqlalchemy import Select, String, Update, bindparam, delete, func, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from transaction.interfaces import NoTransaction

from taskdesk.domain.access import Viewer
from taskdesk.models import (
    KEEP_CHANGES,
    ApiToken,
    AuthSession,
    DatabaseBusyError,
    GroupMember,
    User,
    is_busy,
    read_rows,
)
from taskdesk.models.meta import utcnow
from taskdesk.security.login import (
    SessionEnd,
    address_throttled,
    record_address_failure,
    session_end,
    touch_interval,
)
from taskdesk.security.permissions import PREREQUISITES
from taskdesk.security.principals import SITE_ADMIN, group_principal, user_principal
from taskdesk.security.secrets import digest, new_secret
from taskdesk.settings import TaskdeskSettings, settings_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Request environ key set by a route whose every request only reads, whatever its method
#: (GraphQL queries come by POST): a read-only token may make them.
READS_ONLY = "taskdesk.reads_only"
#: Failures of the database itself, as the error views see them: every outage
#: (``taskdesk.models.database_outage``) and any other database error, after which the
#: transaction may be unusable too; their error pages ask the database nothing.
DATABASE_ERRORS = (DatabaseBusyError, SQLAlchemyError)
#: The principals of a request without identity.
ANONYMOUS = frozenset({Everyone})
#: Session key holding the secret of the signed-in AuthSession row.
SESSION_KEY = "auth"
#: API tokens' last-use timestamps are written at most this often, so reads stay reads
#: (sessions: ``login.touch_interval``, which depends on the idle timeout).
TOUCH_INTERVAL = timedelta(seconds=60)
#: Request environ key: why the session the request's cookie names has ended (SessionEnd).
SESSION_ENDED = "taskdesk.session_ended"
#: The session cookie outlives the longest session by this much, so a browser still sends it
#: when its session has reached its maximum length and the sign-in page can say so.
COOKIE_GRACE = 86400


@dataclass(frozen=True)
class Identity:
    """Who is making the request: plain values, read with the credential in one statement.

    The user's ORM row, which changes made in their name need, loads on first use of
    ``user``: most requests only read, and loading an entity costs more than the columns.
    """

    user_id: int
    username: str
    display_name: str
    is_site_admin: bool
    locale: str | None
    #: The user's own IANA zone name; None for the site's.
    time_zone: str | None
    group_ids: tuple[int, ...]
    #: "session" (browser cookie) or "token" (Authorization: Bearer).
    via: str
    dbsession: Session = field(repr=False, compare=False)
    session_id: int | None = None
    token_id: int | None = None
    token_scope: str | None = None

    @cached_property
    def user(self) -> User:
        return self.dbsession.get_one(User, self.user_id)

    @cached_property
    def principals(self) -> frozenset[str]:
        """What ACEs may name for this user (a set: ACL checks test membership)."""
        principals = {Everyone, Authenticated, user_principal(self.user_id)}
        principals.update(group_principal(group_id) for group_id in self.group_ids)
        if self.is_site_admin:
            principals.add(SITE_ADMIN)
        return frozenset(principals)

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.user_id, self.is_site_admin)

    @property
    def read_only(self) -> bool:
        """A read-only token: only safe methods, whatever the ACLs grant."""
        return self.token_scope == "read"


def identity_for(dbsession: Session, user: User, via: str) -> Identity | None:
    """The identity ``user`` would have when signed in (None when their account is
    deactivated: the policy then gives them none), for asking what they may do."""
    if not user.is_active:
        return None
    group_ids = tuple(dbsession.scalars(
        select(GroupMember.group_id).where(GroupMember.user_id == user.id)
        .order_by(GroupMember.group_id)))
    return Identity(user.id, user.username, user.display_name, user.is_site_admin,
                    user.locale, user.time_zone, group_ids, via, dbsession)


def identity_of(request: Request) -> Identity | None:
    """``request.identity``, typed (Pyramid's request is not): who is asking, or None."""
    identity: Identity | None = request.identity
    return identity


def signed_in(request: Request) -> Identity:
    """The identity of the caller of a view that requires a permission anonymous visitors
    lack (``signed_in`` or more); 403 should such a view be reached without one."""
    identity = identity_of(request)
    if identity is None:
        raise HTTPForbidden()
    return identity


def session_ended(request: Request) -> SessionEnd | None:
    """Why the session this request's cookie names has ended (idle or too old); None when it
    is alive, or there is none, or the row is gone (signed out, purged)."""
    if request.identity is None:
        ended: SessionEnd | None = request.environ.get(SESSION_ENDED)
        return ended
    return None


def bearer_secret(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return str(value).strip()


def _group_ids(dialect: str) -> Any:
    """The user's group ids as one comma-separated string (a correlated subquery)."""
    group_id = sql_cast(GroupMember.group_id, String)
    joined = (func.group_concat(group_id, ",") if dialect == "sqlite"
              else func.string_agg(group_id, ","))
    return select(joined).where(GroupMember.user_id == User.id).scalar_subquery()


class _UserColumns(NamedTuple):
    id: int
    username: str
    display_name: str
    is_site_admin: bool
    is_active: bool
    locale: str | None
    time_zone: str | None

    def identity(self, group_ids: tuple[int, ...], via: str, dbsession: Session,
                 **credential: Any) -> Identity:
        return Identity(self.id, self.username, self.display_name, self.is_site_admin,
                        self.locale, self.time_zone, group_ids, via, dbsession, **credential)


#: The user's columns an Identity carries, first in both identity statements.
_USER_COLUMNS = tuple(getattr(User, name) for name in _UserColumns._fields)


def _split(row: Any) -> tuple[_UserColumns, tuple[Any, ...]]:
    """An identity statement's row: the user's columns, then the credential's."""
    width = len(_USER_COLUMNS)
    return _UserColumns._make(row[:width]), tuple(row[width:])


def _build_statement(kind: str, dialect: str) -> Select[Any]:
    if kind == "token":
        return cast("Select[Any]", (
            select(*_USER_COLUMNS, ApiToken.id, ApiToken.scope, ApiToken.revoked_at,
                   ApiToken.expires_at, ApiToken.last_used_at, _group_ids(dialect))
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == bindparam("digest"))
        ))
    return (
        select(*_USER_COLUMNS, AuthSession.id, AuthSession.created_at, AuthSession.last_seen_at,
               _group_ids(dialect))
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == bindparam("digest"))
    )


_STATEMENTS: dict[tuple[str, str], Select[Any]] = {}


def _statement(kind: str, dbsession: Session) -> Select[Any]:
    """The identity lookup (user, credential and groups in one round trip), built once."""
    key = (kind, dbsession.get_bind().dialect.name)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _build_statement(*key)
    return statement


#: A request a page makes by itself, not its user (live updates: polls, a stream's re-checks)
#: sends this header: it does not count as activity, so a page left open does not keep its
#: session from ending after ``taskdesk.session.idle_timeout``. A client sending it only
#: shortens its own session.
BACKGROUND_HEADER = "X-Taskdesk-Background"


def _touch(dbsession: Session, statement: Update) -> None:
    """Record a last-use time, best effort.

    A read request on SQLite holds a read lock; when another connection is writing, its
    upgrade to a write lock is refused at once. Failing the reader for a timestamp would be
    wrong, so the write is skipped (in a savepoint, so the transaction stays usable) and the
    next request tries again.
    """
    try:
        with dbsession.begin_nested():
            dbsession.execute(statement)
    except OperationalError as error:
        if not is_busy(error.orig):
            raise


def _transaction_open(request: Request) -> bool:
    try:
        request.tm.get()
    except NoTransaction:
        return False
    return True


def _ids(joined: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in joined.split(",")) if joined else ()


class TaskdeskSecurityPolicy:
    """One policy for the web (session cookie) and the API (bearer token)."""

    def __init__(self, settings: TaskdeskSettings) -> None:
        self.settings = settings
        self.session_touch_interval = touch_interval(settings)
        self.acl = ACLHelper()
        self.identity_cache = RequestLocalCache(self.load_identity)

    # -- identity ------------------------------------------------------------------------
    def identity(self, request: Request) -> Identity | None:
        return self.identity_cache.get_or_create(request)  # type: ignore[no-any-return]

    def load_identity(self, request: Request) -> Identity | None:
        if not _transaction_open(request):
            # Asked after pyramid_tm ended the transaction (the debug toolbar reads every
            # request attribute then): querying would use a session outside any transaction.
            return None
        if isinstance(getattr(request, "exception", None), DATABASE_ERRORS):
            # Asked by the error page of a failed database (its language, the name in its
            # header): asking the database again would fail that page too.
            return None
        secret = bearer_secret(request)
        if secret is not None:
            return self._token_identity(request, secret)
        session_secret = request.session.get(SESSION_KEY)
        if isinstance(session_secret, str):
            return self._session_identity(request, session_secret)
        return None

    def _token_identity(self, request: Request, secret: str) -> Identity | None:
        dbsession: Session = request.dbsession
        found = read_rows(
            dbsession, _statement("token", dbsession), {"digest": digest(secret)}
        ).first()
        now = utcnow()
        if found is None:
            self._refuse_token(request, "invalid_token")
            return None
        user, (token_id, scope, revoked_at, expires_at, last_used_at, group_ids) = _split(found)
        if revoked_at is not None or not user.is_active:
            self._refuse_token(request, "revoked_token")
            return None
        if expires_at is not None and expires_at <= now:
            self._refuse_token(request, "expired_token")
            return None
        if last_used_at is None or now - last_used_at > TOUCH_INTERVAL:
            _touch(dbsession,
                   update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        return user.identity(_ids(group_ids), "token", dbsession, token_id=token_id,
                             token_scope=scope)

    def _refuse_token(self, request: Request, reason: str) -> None:
        """Note why a bearer token failed, and count the failure against the client address.

        The failure row must outlive the 401 that pyramid_tm would otherwise roll back.
        Past the address's limit the reason becomes "throttled" (the API answers 429).
        Tokens carry 256 random bits, so this is about clients hammering the API with
        dead credentials, not about guessing; a valid token is never slowed down.
        """
        dbsession: Session = request.dbsession
        address = request.remote_addr or "unknown"
        if address_throttled(dbsession, self.settings, address):
            reason = "throttled"
        else:
            record_address_failure(dbsession, address)
            request.environ[KEEP_CHANGES] = True
        request.environ["taskdesk.auth_error"] = reason

    def _session_identity(self, request: Request, secret: str) -> Identity | None:
        dbsession: Session = request.dbsession
        found = read_rows(
            dbsession, _statement("session", dbsession), {"digest": digest(secret)}
        ).first()
        if found is None:
            return None
        user, (session_id, created_at, last_seen_at, group_ids) = _split(found)
        if not user.is_active:
            return None
        now = utcnow()
        ended = session_end(self.settings, created_at, last_seen_at, now)
        if ended is not None:
            # The row stays until `purge`: while the browser still sends its cookie, the
            # sign-in page and the API can say why the session ended.
            request.environ[SESSION_ENDED] = ended
            return None
        if (now - last_seen_at > self.session_touch_interval
                and BACKGROUND_HEADER not in request.headers):
            _touch(dbsession,
                   update(AuthSession).where(AuthSession.id == session_id)
                   .values(last_seen_at=now))
        return user.identity(_ids(group_ids), "session", dbsession, session_id=session_id)

    def authenticated_userid(self, request: Request) -> int | None:
        identity = self.identity(request)
        return identity.user_id if identity else None

    # -- authorization ---------------------------------------------------------------------
    def effective_principals(self, request: Request) -> frozenset[str]:
        identity = self.identity(request)
        return identity.principals if identity is not None else ANONYMOUS

    def permits(self, request: Request, context: Any, permission: str) -> Allowed | Denied:
        identity = self.identity(request)
        if (
            identity is not None
            and identity.read_only
            and not reads_only(request)
        ):
            return Denied("a read-only token cannot change anything")
        return self.acl_permits(request, context, permission)

    def acl_permits(self, request: Request, context: Any, permission: str) -> Allowed | Denied:
        """What the ACLs grant the caller on ``context``, whatever the request's method
        (``permits`` adds the read-only token rule on top)."""
        return self.principals_permit(context, self.effective_principals(request), permission)

    def acl_granted(
        self, request: Request, context: Any, permissions: Iterable[str]
    ) -> list[str]:
        """Those of ``permissions`` that ``acl_permits`` grants, asked together."""
        grants = self.acl_grants(request, context)
        return [p for p in permissions if grants(p)]

    def acl_grants(self, request: Request, context: Any) -> Callable[[str], bool]:
        """``acl_permits`` as a predicate over permissions, for asking several on one
        ``context`` (see :func:`principals_grant`)."""
        return principals_grant(context, self.effective_principals(request))

    def grants(self, request: Request, context: Any) -> Callable[[str], bool]:
        """``permits`` as a predicate over permissions (``acl_grants`` and the read-only
        token rule): what the domain's field rules ask."""
        identity = self.identity(request)
        if identity is not None and identity.read_only and not reads_only(request):
            return _refuse
        return self.acl_grants(request, context)

    def principals_permit(
        self, context: Any, principals: frozenset[str], permission: str
    ) -> Allowed | Denied:
        """What the ACLs grant ``principals`` on ``context`` (the permission explainer asks
        it about other users than the caller)."""
        result = self.acl.permits(context, principals, permission)
        prerequisite = PREREQUISITES.get(permission) if result else None
        if prerequisite is not None:
            return self.acl.permits(context, principals, prerequisite)
        return result

    # -- sign in / sign out ----------------------------------------------------------------
    def remember(self, request: Request, userid: int, **kw: Any) -> list[tuple[str, str]]:
        """Start a new server-side session for ``userid`` with a fresh identifier.

        The browser's previous session, if any, ends on the server: a copy of the old
        cookie must not stay signed in (as the previous user) after the rotation.
        """
        self._end_cookie_session(request)
        request.session.invalidate()
        secret = new_secret()
        request.dbsession.add(
            AuthSession(
                user_id=userid,
                token_hash=digest(secret),
                user_agent=(request.user_agent or "")[:200],
            )
        )
        request.session[SESSION_KEY] = secret
        request.session.new_csrf_token()
        self.identity_cache.clear(request)
        return []

    def _end_cookie_session(self, request: Request) -> None:
        """Delete the AuthSession row named by the request's session cookie, if any."""
        secret = request.session.get(SESSION_KEY)
        if isinstance(secret, str):
            request.dbsession.execute(
                delete(AuthSession).where(AuthSession.token_hash == digest(secret))
            )

    def forget(self, request: Request, **kw: Any) -> list[tuple[str, str]]:
        """End the current session on the server, so a replayed cookie is anonymous."""
        self._end_cookie_session(request)
        request.session.invalidate()
        self.identity_cache.clear(request)
        return []


def principals_grant(context: Any, principals: frozenset[str]) -> Callable[[str], bool]:
    """What the ACLs grant ``principals`` on ``context``, as a predicate over permissions:
    the verdicts of ``principals_permit`` (Pyramid's ``ACLHelper`` and the prerequisites),
    with the lineage's ACLs read once instead of once per permission asked.

    The ACEs naming one of ``principals`` are kept in the order the helper reads them, the
    context's first; the first that holds a permission decides it, as there.
    """
    entries: list[tuple[bool, Container[str]]] = []
    for location in lineage(context):
        acl = getattr(location, "__acl__", None)
        if acl is None:
            continue
        if callable(acl):
            acl = acl()
        for action, principal, permissions in acl:
            if principal in principals:
                entries.append((action == Allow, permissions if is_nonstr_iter(permissions)
                                else (permissions,)))

    def decides(permission: str) -> bool:
        for allows, permissions in entries:
            if permission in permissions:
                return allows
        return False

    def grants(permission: str) -> bool:
        prerequisite = PREREQUISITES.get(permission)
        return decides(permission) and (prerequisite is None or decides(prerequisite))

    return grants


def _refuse(permission: str) -> bool:
    return False


def reads_only(request: Request) -> bool:
    """Whether the request cannot change anything: a safe method, or a route that marked
    it (:data:`READS_ONLY`)."""
    return request.method in SAFE_METHODS or bool(request.environ.get(READS_ONLY))


def requires_csrf(request: Request) -> bool:
    """CSRF protects cookie-authenticated requests; bearer tokens are not sent by browsers."""
    return bearer_secret(request) is None


def configure_security(config: Configurator) -> None:
    settings: TaskdeskSettings = settings_of(config.registry)
    config.set_session_factory(
        SignedCookieSessionFactory(
            settings.session_secret,
            cookie_name="taskdesk",
            secure=settings.https,
            httponly=True,
            samesite="Lax",
            timeout=None,
            reissue_time=None,
            max_age=settings.session_max_age + COOKIE_GRACE,
            serializer=JSONSerializer(),
        )
    )
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    config.set_default_csrf_options(
        require_csrf=True, token="csrf_token", header="X-CSRF-Token", callback=requires_csrf
    )
    config.set_security_policy(TaskdeskSecurityPolicy(settings))
