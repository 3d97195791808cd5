"""Sending webhook deliveries: the event consumer, the delivery job and the retry sweep.

- The consumer ``webhooks`` turns each event into a pending delivery per interested hook
  (``domain.webhooks.create_deliveries``), in the dispatcher's transaction; each delivery is
  sent by the job ``webhooks.deliver`` once that commits.
- ``webhooks.deliver(delivery_id)`` claims the delivery (a short transaction), POSTs it with
  no transaction open, and writes the outcome (another short one). Retries are ours, not
  Huey's: the schedule lives in the row (``next_attempt_at``), where the delivery log shows
  it, where a redeliver resets it, and where it survives a lost queue. The periodic job
  ``webhooks.retry`` enqueues every due pending delivery once a minute.
- Sending checks the target against ``taskdesk.webhooks.allow`` again (a name may resolve
  elsewhere now: DNS rebinding) and connects to exactly the addresses it checked; it never
  follows a redirect, uses no proxy, stops after ``taskdesk.webhooks.timeout`` seconds per
  step, and reads at most 64 KB of the answer (the log keeps 1 KB).

The signature header is ``X-Taskdesk-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the hook's secret>`` (see the README for the receiver's side).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import socket
import ssl
import time
from typing import Any

import orjson
from pyramid.config import Configurator
from sqlalchemy.orm import Session

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.webhooks import (
    DELIVER_JOB,
    RESPONSE_READ_LIMIT,
    Outcome,
    check_target,
    claim_delivery,
    create_deliveries,
    due_deliveries,
    excerpt,
    parse_url,
    record_attempt,
)
from taskdesk.models import Event
from taskdesk.models.meta import utcnow
from taskdesk.queue import JobContext, queue_of
from taskdesk.settings import WebhookAllowList

log = logging.getLogger(__name__)

USER_AGENT = "Taskdesk-Webhooks/1.0"
RETRY_JOB = "webhooks.retry"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Taskdesk-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _message(error: ValidationError) -> str:
    """The English text of a refusal, for the log (admins read it; it is not a page)."""
    parts = []
    for message in error.fields.values():
        interpolate = getattr(message, "interpolate", None)
        parts.append(interpolate() if interpolate else str(message))
    return " ".join(parts)


def _connection(scheme: str, host: str, port: int, addresses: list[str],
                timeout: float) -> http.client.HTTPConnection:
    """A connection to ``host`` (its name in ``Host`` and, for HTTPS, in SNI and the
    certificate check) that reaches one of the checked ``addresses``, in order, never a
    fresh DNS answer."""
    connection: http.client.HTTPConnection
    if scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def create_connection(_address: Any, timeout: Any = None, source: Any = None) -> socket.socket:
        failure: OSError | None = None
        for address in addresses:
            try:
                return socket.create_connection((address, port), timeout)
            except OSError as error:
                failure = error
        assert failure is not None
        raise failure

    connection._create_connection = create_connection  # type: ignore[attr-defined]
    return connection


def send(url: str, body: bytes, headers: dict[str, str], allow: WebhookAllowList,
         timeout: float) -> Outcome:
    """POST ``body`` to ``url`` once; the outcome, never an exception."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = parse_url(url)
        addresses = check_target(target, allow)
    except ValidationError as error:
        return Outcome(None, elapsed(), error=_message(error), refused=True)
    connection = _connection(target.scheme, target.host, target.port,
                             [str(address) for address in addresses], timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        received = b""
        while len(received) <= RESPONSE_READ_LIMIT:
            if time.monotonic() - started > timeout * 2:
                break
            chunk = response.read1(RESPONSE_READ_LIMIT + 1 - len(received))
            if not chunk:
                break
            received += chunk
        status = response.status
        location = response.getheader("Location", "")
    except TimeoutError:
        return Outcome(None, elapsed(), error=f"timed out after {timeout:g} s")
    except ssl.SSLError as error:
        return Outcome(None, elapsed(), error=f"TLS error: {error}")
    except (OSError, http.client.HTTPException) as error:
        return Outcome(None, elapsed(), error=f"{type(error).__name__}: {error}".strip())
    finally:
        connection.close()
    problem = ""
    if 300 <= status < 400:
        problem = f"answered {status}: redirects are not followed (Location: {location[:200]})"
    elif not 200 <= status < 300:
        problem = f"answered {status}"
    return Outcome(status, elapsed(), excerpt=excerpt(received), error=problem)


def deliver(context: JobContext, delivery_id: int) -> None:
    """The job: one attempt of one delivery, if it is due (see the module docstring)."""
    settings = context.settings
    with context.transaction() as dbsession:
        attempt = claim_delivery(dbsession, settings, delivery_id)
    if attempt is None:
        return
    body = orjson.dumps(attempt.document)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Taskdesk-Event": attempt.kind,
        "X-Taskdesk-Delivery": str(attempt.delivery_id),
        "X-Taskdesk-Signature": signature(attempt.secret, timestamp, body),
    }
    outcome = send(attempt.url, body, headers, settings.webhooks_allow,
                   settings.webhooks_timeout)
    with context.transaction() as dbsession:
        delivery = record_attempt(dbsession, settings, delivery_id, outcome)
        if delivery is not None and delivery.status != "delivered":
            log.info("webhook delivery %s: %s (%s)", delivery_id, delivery.status,
                     outcome.error)


def retry_due(context: JobContext) -> None:
    """The periodic job: enqueue every due pending delivery (retries, lost jobs)."""
    with context.transaction() as dbsession:
        due = due_deliveries(dbsession, utcnow())
    queue = queue_of(context.registry)
    for delivery_id in due:
        queue.enqueue(DELIVER_JOB, delivery_id)


def consume(context: JobContext, dbsession: Session, event: Event) -> None:
    """The event consumer: a pending delivery for every hook that wants ``event``."""
    create_deliveries(dbsession, event)


def includeme(config: Configurator) -> None:
    # retries=0: a failed attempt is rescheduled in its row (see the module docstring).
    config.add_job(DELIVER_JOB, deliver, retries=0)
    config.add_periodic_job(RETRY_JOB, retry_due)
    config.add_event_consumer("webhooks", consume)
