"""Webhooks: integrations told of a project's events by a signed JSON POST.

A project's managers (``manage_webhooks``) keep the project's hooks; site admins keep hooks
for every project (``project_id`` None). Everything about them that is a rule lives here:
what a hook may point at (:func:`check_target`, asked when a hook is saved and again by the
sender before every delivery), which hooks hear an event (:func:`create_deliveries`), what a
delivery sends (:func:`payload`), the states of a delivery and its retry schedule
(:func:`claim_delivery`, :func:`record_attempt`), and the reads of the delivery log. Sending
is done by ``taskdesk.notify.webhooks``.

Delivery states: ``pending`` (due at ``next_attempt_at``, or now when None), ``delivered``
(the receiver answered 2xx), ``failed`` (an answer that retrying will not change: 3xx, since
redirects are not followed, or 4xx other than 429; or a target the allow-list refuses) and
``parked`` (retryable failures, network errors, timeouts, 5xx and 429, after
``taskdesk.webhooks.attempts`` attempts). A manager can redeliver any of them.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from taskdesk.domain import audit
from taskdesk.domain.audit import AuditKind
from taskdesk.domain.errors import ConflictError, ValidationError
from taskdesk.domain.events import DUE_SOON, DUE_TODAY, run_after_commit
from taskdesk.domain.keyset import window
from taskdesk.domain.schema import Boolean, ChoiceList, Schema, Text
from taskdesk.messages import _
from taskdesk.models import (
    Comment,
    Event,
    Project,
    Task,
    TaskLabel,
    User,
    Webhook,
    WebhookDelivery,
    insert_missing,
)
from taskdesk.models.meta import utcnow
from taskdesk.settings import TaskdeskSettings, WebhookAllowList

#: The job that sends one delivery (registered by taskdesk.notify.webhooks).
DELIVER_JOB = "webhooks.deliver"

#: The event kinds a hook may choose: every activity action, and the due-date reminders.
EVENT_KINDS: tuple[str, ...] = (
    "task.created", "task.updated", "task.deleted",
    "comment.added", "comment.edited", "comment.deleted",
    "attachment.added", "attachment.deleted",
    "member.added", "member.changed", "member.removed",
    "project.created", "project.updated",
    DUE_SOON, DUE_TODAY,
)

STATUSES = ("pending", "delivered", "failed", "parked")
#: The most of a receiver's answer that is read, and what of it the log keeps.
RESPONSE_READ_LIMIT = 64 * 1024
EXCERPT_LIMIT = 1024
#: Retry delays: the first after a minute, doubling, at most this far apart.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
#: Hooks per project (and all-projects hooks): a bound on the work one event causes.
MAX_HOOKS = 20
MAX_URL_LENGTH = 2000

WEBHOOK_SCHEMA = Schema(
    "Webhook",
    (
        Text("payload_url", required=True, max_length=MAX_URL_LENGTH,
             description="Where deliveries are POSTed: an http:// or https:// URL"),
        Text("description", max_length=200, nullable=False,
             description="What the hook is for, as the managers call it"),
        ChoiceList("events", choices=EVENT_KINDS, nullable=False,
                   description="The event kinds delivered; empty for every kind"),
        Boolean("active", nullable=False, description="Deliveries are made while true"),
    ),
)


def new_secret() -> str:
    """A signing secret: 32 random bytes as hex."""
    return secrets.token_hex(32)


# -- where a hook may point ------------------------------------------------------------------

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A hook's URL taken apart: what the sender connects to and says in ``Host``."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def parse_url(url: str) -> Target:
    """The target of ``url``, or ValidationError (field ``payload_url``) saying what is wrong."""
    def refuse(message: Any) -> ValidationError:
        return ValidationError({"payload_url": message})

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refuse(_("This is not a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise refuse(_("Use an http:// or https:// URL."))
    if not parts.hostname:
        raise refuse(_("The URL names no host."))
    if parts.username is not None or parts.password is not None:
        raise refuse(_("Put no user name or password in the URL; the signature "
                       "authenticates deliveries."))
    if parts.fragment:
        raise refuse(_("Leave out the #fragment: it is never sent."))
    host = parts.hostname.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise refuse(_("This host name is not valid.")) from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if any(ord(c) <= 32 or ord(c) == 127 for c in path):
        raise refuse(_("This is not a valid URL."))
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _plain(address: Address) -> Address:
    """An IPv4 address written as IPv6 (``::ffff:127.0.0.1``) is the IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_allowed(address: Address, host: str, allow: WebhookAllowList) -> bool:
    """Whether a hook for ``host`` may connect to ``address``.

    Listed networks always; public addresses always; an address that is not public
    (loopback, private, link-local with the metadata address, shared, reserved...) only
    through a listed network, or through a listed host name unless it is link-local,
    multicast or unspecified (those need their network listed)."""
    address = _plain(address)
    if any(address in network for network in allow.networks):
        return True
    if address.is_multicast or address.is_unspecified:
        return False
    if address.is_global:
        return True
    return allow.names(host) and not address.is_link_local


def resolve(host: str, port: int) -> list[Address]:
    """The addresses of ``host`` (an IP literal is its own); OSError when there are none."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"no address for {host}")
    return addresses


def check_target(target: Target, allow: WebhookAllowList) -> list[Address]:
    """The addresses to connect to for ``target``, every one of them allowed; else
    ValidationError (field ``payload_url``). The sender calls this before every delivery and
    connects to the addresses returned, so a name that resolves elsewhere later (DNS
    rebinding) is checked again."""
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError):
        raise ValidationError({"payload_url": _("No address was found for ${host}.",
                                        mapping={"host": target.host})}) from None
    refused = [str(a) for a in addresses if not address_allowed(a, target.host, allow)]
    if refused:
        raise ValidationError({"payload_url": _(
            "${host} is at ${addresses}, an internal address webhooks may not reach. An "
            "administrator can allow it in taskdesk.webhooks.allow.",
            mapping={"host": target.host, "addresses": ", ".join(refused)})})
    return addresses


# -- keeping hooks ---------------------------------------------------------------------------

def webhooks_of(dbsession: Session, project_id: int | None, *, after: int = 0,
                limit: int | None = None, offset: int = 0) -> list[Webhook]:
    """A project's hooks (None: the all-projects hooks), oldest first."""
    condition = (Webhook.project_id.is_(None) if project_id is None
                 else Webhook.project_id == project_id)
    return list(dbsession.scalars(window(select(Webhook).where(condition), Webhook.id,
                                         after=after, limit=limit, offset=offset)))


def find_webhook(dbsession: Session, project_id: int | None, webhook_id: int) -> Webhook | None:
    """The hook ``webhook_id`` if it belongs to ``project_id`` (None: all projects)."""
    hook = dbsession.get(Webhook, webhook_id)
    if hook is None or hook.project_id != project_id:
        return None
    return hook


def _validated(settings: TaskdeskSettings, data: Mapping[str, Any], *, partial: bool,
               strict: bool) -> dict[str, Any]:
    values, errors = WEBHOOK_SCHEMA.check(data, partial=partial, strict=strict)
    if "payload_url" in values:
        try:
            check_target(parse_url(values["payload_url"]), settings.webhooks_allow)
        except ValidationError as error:
            errors.update(error.fields)
    if errors:
        raise ValidationError(errors)
    return values


def create_webhook(dbsession: Session, settings: TaskdeskSettings, actor: User,
                   project_id: int | None, data: Mapping[str, Any], *,
                   strict: bool = False) -> Webhook:
    """Register a hook for ``project_id`` (None: every project) with a new secret."""
    values = _validated(settings, data, partial=False, strict=strict)
    if len(webhooks_of(dbsession, project_id)) >= MAX_HOOKS:
        raise ValidationError({"": _("At most ${n} webhooks each.", mapping={"n": MAX_HOOKS})})
    hook = Webhook(project_id=project_id, url=values["payload_url"],
                   description=values.get("description", ""),
                   events=values.get("events", []), is_active=values.get("active", True),
                   secret=new_secret(), created_by_id=actor.id)
    dbsession.add(hook)
    dbsession.flush()
    _audit(dbsession, AuditKind.WEBHOOK_CREATED, hook, actor.id,
           {"events": hook.events, "active": hook.is_active})
    return hook


def _audit(dbsession: Session, kind: AuditKind, hook: Webhook, actor_id: int | None,
           details: dict[str, Any] | None = None) -> None:
    """Audit a change of ``hook`` (never its URL, which may carry credentials, nor its
    secret)."""
    audit.record(dbsession, kind=kind, actor_id=actor_id, target=f"webhook:{hook.id}",
                 details={"project_id": hook.project_id, **(details or {})})


def update_webhook(dbsession: Session, settings: TaskdeskSettings, hook: Webhook,
                   data: Mapping[str, Any], *, actor_id: int, partial: bool = False,
                   strict: bool = False,
                   expected_version: int | None = None) -> dict[str, list[Any]]:
    """Change a hook's URL, description, events or active flag; return what changed."""
    if expected_version is not None and expected_version != hook.version:
        raise ConflictError(hook.version)
    values = _validated(settings, data, partial=partial, strict=strict)
    changes: dict[str, list[Any]] = {}
    for field, value in values.items():
        attribute = {"active": "is_active", "payload_url": "url"}.get(field, field)
        old = getattr(hook, attribute)
        if old != value:
            changes[field] = [old, value]
            setattr(hook, attribute, value)
    if changes:
        hook.version += 1
        hook.updated_at = utcnow()
        _audit(dbsession, AuditKind.WEBHOOK_CHANGED, hook, actor_id,
               {"fields": sorted(changes)})
    return changes


def regenerate_secret(dbsession: Session, hook: Webhook, *, actor_id: int) -> str:
    """Give ``hook`` a new secret (deliveries from now on are signed with it)."""
    hook.secret = new_secret()
    hook.version += 1
    hook.updated_at = utcnow()
    _audit(dbsession, AuditKind.WEBHOOK_SECRET_CHANGED, hook, actor_id)
    return hook.secret


def delete_webhook(dbsession: Session, hook: Webhook, *, actor_id: int) -> None:
    """Remove a hook and its delivery log."""
    _audit(dbsession, AuditKind.WEBHOOK_DELETED, hook, actor_id)
    dbsession.delete(hook)
    dbsession.flush()


# -- the delivery log ------------------------------------------------------------------------

def deliveries(dbsession: Session, webhook_id: int, *, after: int = 0,
               limit: int | None = None, offset: int = 0) -> list[WebhookDelivery]:
    """A hook's deliveries, newest first (``after``: the last id of the previous page)."""
    statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    return list(dbsession.scalars(window(statement, WebhookDelivery.id, after=after,
                                         limit=limit, offset=offset, descending=True)))


def find_delivery(dbsession: Session, webhook_id: int, delivery_id: int
                  ) -> WebhookDelivery | None:
    delivery = dbsession.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.webhook_id != webhook_id:
        return None
    return delivery


def redeliver(dbsession: Session, delivery: WebhookDelivery) -> None:
    """Deliver again, whatever became of it: pending, due now, with a fresh count of
    attempts; sent once this transaction commits."""
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.error = ""
    delivery.updated_at = utcnow()
    run_after_commit(dbsession, DELIVER_JOB, delivery.id)


# -- from events to deliveries ---------------------------------------------------------------

def create_deliveries(dbsession: Session, event: Event) -> list[int]:
    """A pending delivery of ``event`` for every active hook that wants it (the project's
    and the all-projects hooks); each is sent after commit. Returns the ids of the
    deliveries, new or made before (an event dispatched twice is delivered once)."""
    if event.kind not in EVENT_KINDS:
        return []
    scope: ColumnElement[bool] = Webhook.project_id.is_(None)
    if event.project_id is not None:
        scope = or_(scope, Webhook.project_id == event.project_id)
    hooks = dbsession.execute(
        select(Webhook.id, Webhook.events).where(Webhook.is_active, scope)).all()
    wanted = [hook_id for hook_id, kinds in hooks if not kinds or event.kind in kinds]
    if not wanted:
        return []
    now = utcnow()
    insert_missing(dbsession, WebhookDelivery, [
        {"webhook_id": hook_id, "event_id": event.id, "event_kind": event.kind,
         "status": "pending", "attempts": 0, "response_excerpt": "", "error": "",
         "created_at": now, "updated_at": now}
        for hook_id in wanted
    ])
    ids = list(dbsession.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.event_id == event.id, WebhookDelivery.webhook_id.in_(wanted),
        WebhookDelivery.status == "pending", WebhookDelivery.attempts == 0)))
    for delivery_id in ids:
        run_after_commit(dbsession, DELIVER_JOB, delivery_id)
    return ids


def due_deliveries(dbsession: Session, now: datetime, limit: int = 100) -> list[int]:
    """Pending deliveries whose time has come (retries, and any whose job was lost)."""
    return list(dbsession.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending",
               or_(WebhookDelivery.next_attempt_at.is_(None),
                   WebhookDelivery.next_attempt_at <= now))
        .order_by(WebhookDelivery.id).limit(limit)))


@dataclass(frozen=True)
class Attempt:
    """What the sender needs for one attempt (read in the claiming transaction)."""

    delivery_id: int
    url: str
    secret: str
    kind: str
    #: The JSON document to send (:func:`payload`).
    document: dict[str, Any]


def claim_delivery(dbsession: Session, settings: TaskdeskSettings, delivery_id: int
                   ) -> Attempt | None:
    """Take a due pending delivery for one attempt, or None when it is not due (delivered,
    failed, parked, or taken by another worker). The claim pushes ``next_attempt_at`` past
    the attempt's longest duration: a second worker leaves it alone, and a worker that dies
    mid-attempt only delays it."""
    now = utcnow()
    lease = now + timedelta(seconds=settings.webhooks_timeout * 2 + 60)
    claimed = dbsession.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
               or_(WebhookDelivery.next_attempt_at.is_(None),
                   WebhookDelivery.next_attempt_at <= now))
        .values(next_attempt_at=lease, last_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    delivery = dbsession.get_one(WebhookDelivery, delivery_id, populate_existing=True)
    hook = dbsession.get_one(Webhook, delivery.webhook_id)
    event = dbsession.get(Event, delivery.event_id)
    if not hook.is_active or event is None:
        delivery.status = "failed"
        delivery.error = ("the webhook is switched off" if not hook.is_active
                          else "the event is no longer kept")
        delivery.next_attempt_at = None
        return None
    return Attempt(delivery.id, hook.url, hook.secret, event.kind,
                   payload(dbsession, settings, delivery, event))


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: the answer's status (None: no answer), its duration, the
    start of its body, and an error in words."""

    status: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""
    #: The target was refused (allow-list) or unusable: retrying cannot help.
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        if self.refused:
            return False
        return self.status is None or self.status >= 500 or self.status == 429


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4... minutes, at most 6 h."""
    delay: timedelta = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20)
    return min(delay, LONGEST_RETRY)


def record_attempt(dbsession: Session, settings: TaskdeskSettings, delivery_id: int,
                   outcome: Outcome) -> WebhookDelivery | None:
    """Write an attempt's outcome to the log and decide what comes next."""
    delivery = dbsession.get(WebhookDelivery, delivery_id)
    if delivery is None:  # the hook was deleted meanwhile
        return None
    now = utcnow()
    delivery.attempts += 1
    delivery.response_status = outcome.status
    delivery.duration_ms = outcome.duration_ms
    delivery.response_excerpt = outcome.excerpt[:EXCERPT_LIMIT]
    delivery.error = outcome.error[:2000]
    delivery.updated_at = now
    delivery.next_attempt_at = None
    if outcome.delivered:
        delivery.status = "delivered"
    elif not outcome.retryable:
        delivery.status = "failed"
    elif delivery.attempts >= settings.webhooks_attempts:
        delivery.status = "parked"
    else:
        delivery.status = "pending"
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    return delivery


# -- what a delivery says --------------------------------------------------------------------

def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def payload(dbsession: Session, settings: TaskdeskSettings, delivery: WebhookDelivery,
            event: Event) -> dict[str, Any]:
    """The JSON document a delivery POSTs (documented in the README's Webhooks section).

    The task and project are read now, at delivery: a receiver sees the current title and
    status. A task deleted since is described from the event (``deleted``: true)."""
    base = settings.public_url
    data = event.data or {}
    project = dbsession.get(Project, event.project_id) if event.project_id else None
    project_url = f"{base}/projects/{project.slug}/" if project is not None and base else None
    task_doc: dict[str, Any] | None = None
    task = dbsession.get(Task, event.task_id) if event.task_id else None
    if task is not None and project is not None:
        assignee = dbsession.get(User, task.assignee_id) if task.assignee_id else None
        task_doc = {
            "id": task.id, "number": task.number, "title": task.title,
            "status": task.status, "priority": task.priority,
            "assignee": assignee.username if assignee is not None else None,
            "due_date": task.due_date.isoformat() if task.due_date else None,
            "labels": list(dbsession.scalars(select(TaskLabel.name).where(
                TaskLabel.task_id == task.id).order_by(TaskLabel.name))),
            "url": f"{project_url}tasks/{task.number}" if project_url else None,
            "deleted": False,
        }
    elif event.task_id is not None or "number" in data:
        task_doc = {"id": data.get("task_id", event.task_id), "number": data.get("number"),
                    "deleted": True}
    comment_doc: dict[str, Any] | None = None
    if "comment_id" in data:
        comment = dbsession.get(Comment, data["comment_id"])
        comment_doc = {"id": data["comment_id"], "deleted": comment is None}
        if task_doc is not None and task_doc.get("url") and comment is not None:
            comment_doc["url"] = f"{task_doc['url']}#comment-{comment.id}"
    actor = dbsession.get(User, event.actor_id) if event.actor_id else None
    return {
        "id": event.id,
        "delivery": delivery.id,
        "kind": event.kind,
        "occurred_at": _iso(event.created_at),
        "project": None if project is None else {
            "id": project.id, "slug": project.slug, "name": project.name, "url": project_url},
        "task": task_doc,
        "comment": comment_doc,
        "actor": None if actor is None else {
            "username": actor.username, "display_name": actor.display_name},
        "changes": data.get("changes", {}),
    }


def excerpt(body: bytes) -> str:
    """The start of an answer as text for the log."""
    return body[:EXCERPT_LIMIT].decode("utf-8", errors="replace")


def event_names(events: Sequence[str]) -> list[str]:
    """The kinds a hook hears, for display: every kind when it chose none."""
    return list(events) if events else list(EVENT_KINDS)
