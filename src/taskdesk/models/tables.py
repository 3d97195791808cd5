"""The ORM models: accounts, projects, tasks, comments, activity and credentials."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from taskdesk.models.meta import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored in lower case: usernames are unique regardless of case.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    is_site_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    #: The IANA zone pages show times in; None for the site's (``taskdesk.time_zone``).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("visibility IN ('private', 'internal')", name="visibility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The last task number handed out; incremented under the row's write lock.
    task_counter: Mapped[int] = mapped_column(Integer, default=0)
    #: The board's work-in-progress limits: status name -> most cards wanted in its column
    #: (statuses without a limit are left out). Kept with the project row, which traversal
    #: reads anyway, so the board shows them at no cost (``domain.board``).
    wip_limits: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectMember(Base):
    """A role in a project, given either to one user or to a whole group."""

    __tablename__ = "project_members"
    __table_args__ = (
        CheckConstraint(
            "(user_id IS NULL) <> (group_id IS NULL)", name="user_or_group"
        ),
        UniqueConstraint("project_id", "user_id"),
        UniqueConstraint("project_id", "group_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(lazy="raise")
    group: Mapped[Group | None] = relationship(lazy="raise")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        Index("ix_tasks_project_status_number", "project_id", "status", "number"),
        Index("ix_tasks_project_updated", "project_id", "updated_at", "id"),
        Index("ix_tasks_project_due", "project_id", "due_date", "id"),
        Index("ix_tasks_project_priority", "project_id", "priority", "number"),
        Index("ix_tasks_assignee_status", "assignee_id", "status"),
        Index("ix_tasks_reporter", "reporter_id", "id"),
        Index("ix_tasks_updated_id", "updated_at", "id"),
        Index("ix_tasks_project_status_updated", "project_id", "status", "updated_at", "id"),
        Index("ix_tasks_project_created", "project_id", "created_at"),
        Index("ix_tasks_project_completed", "project_id", "completed_at"),
        # "The sub-tasks of": a task page's list, ``parent=<n>`` and the cycle checks.
        Index("ix_tasks_parent_number", "parent_id", "number"),
        # A board column in board order (``domain.ranks``).
        Index("ix_tasks_project_status_rank", "project_id", "status", "rank", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: The task this one is a sub-task of: in the same project, one level deep (a sub-task
    #: has no sub-tasks), both kept by ``domain.tasks``. Deleting a parent deletes its
    #: sub-tasks (the domain records each; the cascade is the database's safety net).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    #: The description's checklist items ticked and in all (``domain.checklists``), kept
    #: whenever the description is written, so lists show "3/5" without parsing Markdown.
    checklist_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    checklist_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The task's place in its board column: lower first, ties by id (``domain.ranks``).
    #: Not versioned data: reordering a column changes neither ``version`` nor the history.
    rank: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    project: Mapped[Project] = relationship(lazy="raise")
    parent: Mapped[Task | None] = relationship(remote_side=[id], lazy="raise")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="raise")
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id], lazy="raise")
    label_rows: Mapped[list[TaskLabel]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True,
        order_by="TaskLabel.name",
    )
    #: Every UPDATE checks and bumps ``version``: a concurrent change raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}

    @property
    def labels(self) -> list[str]:
        return [row.name for row in self.label_rows]


class TaskLabel(Base):
    __tablename__ = "task_labels"
    __table_args__ = (Index("ix_task_labels_name_task", "name", "task_id"),)

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_task_id_id", "task_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    author: Mapped[User | None] = relationship(lazy="raise")

    #: Every UPDATE checks and bumps ``version``, as for tasks: of two concurrent edits one
    #: raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}


class Activity(Base):
    """One entry of the audit trail: who did what, with old and new value per field."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_task_id_id", "task_id", "id"),
        Index("ix_activity_project_id_id", "project_id", "id"),
        # The activity feeds' "by person" filter (newest first).
        Index("ix_activity_actor_id_id", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    #: ``{field: [old, new]}`` for updates; empty for events without fields.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="raise")


class ApiToken(Base):
    """A bearer token. Only a SHA-256 of the secret is stored; the prefix is shown in lists."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("scope IN ('read', 'write')", name="scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8), default="read")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedToken(Base):
    """A user's secret Atom feed address (``/feeds/<secret>/activity.atom``): at most one per
    user; regenerating it replaces the row, so the old address stops working. Only a SHA-256
    of the secret is stored (like :class:`ApiToken`); the prefix is shown on the profile."""

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthSession(Base):
    """A signed-in browser session; deleting the row signs that browser out everywhere."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class LoginFailure(Base):
    """A failed sign-in, counted per account and per client address for throttling."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``account:<username>`` or ``address:<ip>``.
    key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DirectoryAccount(Base):
    """A Taskdesk account's identity in a directory: an OpenID provider's subject or an
    LDAP username. Found again at each sign-in, whatever the person's name or address
    became meanwhile."""

    __tablename__ = "directory_accounts"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The OpenID issuer URL, or ``ldap``.
    provider: Mapped[str] = mapped_column(String(255))
    #: The ``sub`` claim, or the LDAP username (lower case).
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OidcSignIn(Base):
    """An OpenID sign-in under way: what the callback needs to finish it, once.

    The browser holds the state in its signed session cookie; the nonce and the PKCE
    verifier stay here, and the row is deleted when the callback uses it, so a replayed
    callback finds nothing.
    """

    __tablename__ = "oidc_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 (hex) of the ``state`` parameter.
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    #: Where to go once signed in (a path on this site).
    target: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class IdempotencyKey(Base):
    """A creating API request sent with an ``Idempotency-Key`` header, and its answer.

    A retry with the same key from the same credential within
    ``taskdesk.api.idempotency_window`` gets this answer again instead of creating twice
    (``taskdesk.domain.idempotency``). The row is written in the transaction of the request
    it answers, so it exists exactly when that request's changes were committed.
    """

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 (hex) of the credential and the client's key; the key itself is not kept.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 (hex) of the first request's method, path and body.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The first answer: status, the headers worth repeating, body. None until it is known.
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The body is sealed: encrypted with a key derived from the server's secret and the
    #: client's key (neither in the database), because the answer held a secret.
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)


class TaskSearch(Base):
    """A task's searchable text as tokens (see taskdesk.domain.search); the full-text index
    over it is backend-specific and made by the migrations (``UNMANAGED_SCHEMA_NAMES``)."""

    __tablename__ = "task_search"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(Text, default="")


#: Schema objects the migrations create outside the models (full-text index machinery);
#: schema comparisons leave them out.
UNMANAGED_SCHEMA_NAMES = frozenset({
    "task_search_fts", "task_search_fts_data", "task_search_fts_idx", "task_search_fts_docsize",
    "task_search_fts_config", "task_search_fts_content", "ix_task_search_document",
})


class Event(Base):
    """The outbox: one row per change that may cause a side effect, written in the same
    transaction as the change. The worker's dispatcher hands each to the registered consumers
    (inbox, e-mail, webhooks) after commit and marks it dispatched; a rolled-back change
    leaves no row, and a row not yet dispatched when a process dies is picked up again.

    Events carry ids, not rendered text: consumers re-read what they need with the reader's
    permissions. The ids are plain integers, not foreign keys, so an event about a task
    outlives the task's deletion (a webhook still reports ``task.deleted``).
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_pending", "dispatched_at", "parked_at", "id"),
        Index("ix_events_task_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The activity action (``task.created``, ``comment.added``...) or a scheduled kind
    #: (``task.due_soon``); see taskdesk.domain.events.
    kind: Mapped[str] = mapped_column(String(40))
    project_id: Mapped[int | None] = mapped_column(Integer)
    task_id: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: The activity entry's ``changes`` (``{"changes": {...}}``) and the ids a consumer needs
    #: beyond the columns (``comment_id``, ``mentioned`` user ids, ``assignee_id``...).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Set for events a periodic job raises, so raising one twice is a no-op
    #: (``due_soon:<task>:<date>``).
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: Set when dispatching failed too often: left for an admin to look at and retry.
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TaskWatcher(Base):
    """Someone told about every change of a task (reporter, assignee and commenters are
    added automatically; anyone who may view the task can add or remove themselves)."""

    __tablename__ = "task_watchers"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskLink(Base):
    """A link between two tasks, stored once in its canonical direction: ``kind`` is
    ``blocks``, ``relates`` or ``duplicates`` read from the source to the target ("#1 blocks
    #2"); the target shows the inverse ("blocked by", "duplicated by"). The index on the
    target serves that other side and the "blocked" test of the task lists."""

    __tablename__ = "task_links"
    __table_args__ = (
        UniqueConstraint("source_id", "target_id", "kind"),
        Index("ix_task_links_target_kind", "target_id", "kind"),
        CheckConstraint("kind IN ('blocks', 'relates', 'duplicates')", name="kind"),
        CheckConstraint("source_id <> target_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectWatcher(Base):
    """Someone told about every change of every task in a project."""

    __tablename__ = "project_watchers"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """One entry of a person's inbox: an event, told to one recipient, once.

    ``(event_id, user_id)`` is unique, so dispatching an event twice notifies once.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_notifications_user_read_id", "user_id", "read_at", "id"),
        Index("ix_notifications_user_task", "user_id", "task_id"),
        Index("ix_notifications_mail", "mailed_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(Integer)
    #: Copied from the event: the inbox is read without joining the outbox, which is purged.
    kind: Mapped[str] = mapped_column(String(40))
    #: Why this person hears of it: ``assigned``, ``mentioned``, ``watching``, ``due``...
    reason: Mapped[str] = mapped_column(String(20))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL")
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the e-mail (immediate or digest) that carried it was sent; None until then, and
    #: for people who read their notifications only in the inbox.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationPreference(Base):
    """How one person wants to hear of one kind of notification; no row means the default
    (see taskdesk.domain.preferences)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("channel IN ('inbox', 'email', 'digest', 'off')", name="channel"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: A notification reason (``assigned``, ``mentioned``, ``watching``, ``due``).
    reason: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))


class Webhook(Base):
    """An integration told of a project's events (or of every project's, ``project_id``
    None, registered by a site admin) by a signed JSON POST to ``url``.

    ``secret`` signs every delivery (HMAC-SHA256): generated here, shown to the people who
    manage the hook so they can configure the receiver, and kept in clear because signing
    needs it (like a shared key, not like a password).
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    #: What the managers call it ("CI", "Chat channel"); may be empty.
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(String(80))
    #: The event kinds delivered (``task.created``...); empty: every kind.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    #: Grows with every change: the API's ETag and If-Match.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook, and how delivering it went (the delivery log).

    ``(webhook_id, event_id)`` is unique, so an event dispatched twice is delivered once.
    The row keeps the latest attempt (status code, duration, a bounded excerpt of the
    answer, the error) and the count of attempts; earlier attempts of a retried delivery
    are not kept one by one (their outcome was a retryable failure, which the count says).
    ``event_kind`` is copied so the log reads without the outbox, which is purged.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed', 'parked')",
                        name="status"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(Integer)
    event_kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When a pending delivery is due (None: now). While an attempt runs it is pushed past
    #: the attempt's longest duration, so a worker dying mid-attempt only delays it.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    #: The start of the receiver's answer (at most 1 KB of text).
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    """A file attached to a task (or to one of its comments, ``comment_id``).

    The bytes live in the blob store (``taskdesk.storage``) under ``sha256``; identical files
    share one blob, so deleting a row never deletes a blob: the purge sweeps blobs no row
    names. ``filename`` is the uploader's name made safe (``domain.attachments``), never
    used as a path; ``media_type`` was sniffed from the bytes. Images shown inline have
    their size and a thumbnail (``thumbnail_sha256``, a PNG blob).
    """

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_task_id_id", "task_id", "id"),
        Index("ix_attachments_project_id", "project_id"),
        Index("ix_attachments_sha256", "sha256"),
        Index("ix_attachments_thumbnail_sha256", "thumbnail_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The task's project, copied: the per-project total is one indexed SUM.
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    uploader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploader: Mapped[User | None] = relationship(lazy="raise")


class TwoFactor(Base):
    """A user's authenticator (TOTP) secret: being set up while ``enabled_at`` is None,
    in force once a code confirmed it (``domain.two_factor``).

    The secret is stored sealed (``security.secrets.seal``) with a key derived from the
    session secret, so a copy of the database alone cannot produce codes.
    """

    __tablename__ = "two_factor"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_box: Mapped[bytes] = mapped_column(LargeBinary)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last time step whose code was accepted: it and older ones are refused.
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(Base):
    """A one-time recovery code, stored as a keyed SHA-256 (``domain.two_factor``)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RememberedDevice(Base):
    """A browser that skips the second factor until ``expires_at``: the SHA-256 of the
    random token in its cookie."""

    __tablename__ = "remembered_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PendingSignIn(Base):
    """A sign-in whose first factor passed and whose second is awaited: not a session.

    The browser holds the random secret in its session cookie; this row (by the secret's
    SHA-256) says whose sign-in it is, how it started and where it goes, until
    ``expires_at``. Finishing it deletes it and starts a real session.
    """

    __tablename__ = "pending_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: How the first factor was given: "password", "ldap" or "oidc".
    method: Mapped[str] = mapped_column(String(16))
    #: The page to go to afterwards (a path on this site, checked again when used).
    target: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
class SavedView(Base):
    """A named task-list filter and sort in a project: ``private`` (its owner's alone) or
    shared with the project's members (shown as a tab on the list and the board). ``params``
    holds the list's URL parameters as text (``domain.saved_views`` validates them with
    the list's own rules when they are saved and again when they are used)."""

    __tablename__ = "saved_views"
    __table_args__ = (
        Index("ix_saved_views_project_shared", "project_id", "shared"),
        Index("ix_saved_views_owner", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
class AuditEntry(Base):
    """One entry of the append-only, hash-chained security audit log (``domain.audit``).

    Entries are never changed or deleted by the application (``purge`` leaves them alone);
    on PostgreSQL a trigger made by migration 0018 refuses UPDATE and DELETE on the table.
    ``id`` is given by the writer, one more than the chain's head, under the append lock:
    a gap is a deleted entry. ``actor_id`` has no foreign key, so an entry never changes
    when its actor does.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_kind_id", "kind", "id"),
        Index("ix_audit_log_actor_id_id", "actor_id", "id"),
        Index("ix_audit_log_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A dotted name from ``domain.audit.AuditKind``.
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: What the event is about, e.g. ``user:7``, ``project:acme``, ``token:3``.
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The client's address, where a request made the change.
    address: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256 (hex) of the previous entry (64 zeros for the first one).
    previous_hash: Mapped[str] = mapped_column(String(64))
    #: SHA-256 (hex) of this entry's canonical JSON and ``previous_hash``.
    hash: Mapped[str] = mapped_column(String(64))
