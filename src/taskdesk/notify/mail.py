"""E-mail: notifications on the ``email`` channel soon after they arrive, those on ``digest``
once a day, over SMTP (``taskdesk.mail.*``).

Two periodic jobs in the worker:

- ``mail.send`` (every minute): everyone whose oldest unmailed ``email`` notification is older
  than ``taskdesk.mail.batch_seconds`` gets ONE mail with all of their unmailed ones, so ten
  quick edits make one mail, sent at most a batch window (plus a minute) after the first;
- ``mail.digest`` (every quarter hour): once it is ``taskdesk.mail.digest_hour`` or later in
  a person's time zone, the ``digest`` notifications that arrived before that hour today
  go in one mail. A worker that was down at that hour catches up later the same day.

Each recipient is one database transaction: their notifications are read again with their
permissions (one about a project they can no longer see, or about their own action, is marked
handled and not told), the mail is sent, then ``mailed_at`` is set and the transaction commits.

**At least once.** Sending comes before the commit that records it. A worker that dies
between the two (or a commit that fails) sends that mail again on the next run, with the same
``Message-ID`` so mail programs can show it once. The other order (record, then send) would
lose the mail instead; a duplicate is the lesser harm for "you were assigned a task".

**Failures.** The SMTP server unreachable, a 4xx answer, a refused sign-in or sender: the job
raises (Huey logs it) and nothing of that recipient is marked, so the next run tries again;
after a failure the runs back off (1, 2, 4 ... up to 30 minutes) so a server that is down is not
asked every minute. A recipient refused with a 5xx answer (no such mailbox) or a message
refused for good is logged and marked handled: it would fail the same way forever.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from pyramid.config import Configurator
from sqlalchemy.orm import Session

from taskdesk.domain.mailing import mark_mailed, pending_items, pending_recipients
from taskdesk.domain.preferences import Channel
from taskdesk.models import User
from taskdesk.models.meta import utcnow
from taskdesk.notify.compose import Composer
from taskdesk.queue import JobContext
from taskdesk.settings import TaskdeskSettings, settings_of
from taskdesk.timezones import user_zone

log = logging.getLogger(__name__)

#: Notifications older than this are not mailed any more (a worker or mail server down for
#: longer than a week): they are in the inbox.
LOOKBACK = timedelta(days=7)
#: Seconds to wait for the SMTP server at each step.
SMTP_TIMEOUT = 30
#: The longest pause after failures before the next attempt.
MAX_BACKOFF = timedelta(minutes=30)
#: Registry key of the application's :class:`Mailer`.
MAILER_KEY = "taskdesk.notify.mailer"


class PermanentFailure(Exception):
    """The server refused this mail for good (5xx for the recipient or the message)."""


class SmtpConnection:
    """One SMTP session, opened on first use and shared by the mails of a job run."""

    def __init__(self, settings: TaskdeskSettings) -> None:
        self.settings = settings
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if settings.mail_security == "tls":
            client = smtplib.SMTP_SSL(settings.mail_host, settings.mail_port,
                                      timeout=SMTP_TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(settings.mail_host, settings.mail_port, timeout=SMTP_TIMEOUT)
            if settings.mail_security == "starttls":
                client.starttls(context=context)
        if settings.mail_username:
            client.login(settings.mail_username, settings.mail_password)
        return client

    def send(self, message: EmailMessage, recipient: str) -> None:
        """Hand ``message`` to the server for ``recipient``; :class:`PermanentFailure` when
        it is refused for good, any other exception for a failure worth retrying."""
        if self._client is None:
            self._client = self._connect()
        sender = parseaddr(self.settings.mail_from)[1]
        try:
            refused = self._client.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            if 500 <= code < 600:
                raise PermanentFailure(f"{code} {reply!r}") from error
            raise
        except smtplib.SMTPDataError as error:
            if 500 <= error.smtp_code < 600:
                raise PermanentFailure(f"{error.smtp_code} {error.smtp_error!r}") from error
            raise
        if refused:  # pragma: no cover - one recipient: refusing it raises above
            raise PermanentFailure(repr(refused))

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                self._client.close()
            self._client = None


class Backoff:
    """Pauses between attempts after SMTP failures, per worker process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failures = 0
        self.resume_at: datetime | None = None

    def waiting(self, now: datetime) -> bool:
        with self._lock:
            return self.resume_at is not None and now < self.resume_at

    def failed(self, now: datetime) -> None:
        with self._lock:
            self.failures += 1
            pause = min(timedelta(minutes=2 ** (self.failures - 1)), MAX_BACKOFF)
            self.resume_at = now + pause

    def succeeded(self) -> None:
        with self._lock:
            self.failures, self.resume_at = 0, None


class Mailer:
    """What the mail jobs share: the composer and the back-off state."""

    def __init__(self, registry: Any, settings: TaskdeskSettings) -> None:
        self.settings = settings
        self.composer = Composer(registry, settings)
        self.backoff = Backoff()


def mailer_of(registry: Any) -> Mailer:
    mailer: Mailer = registry[MAILER_KEY]
    return mailer


@contextmanager
def _smtp_run(mailer: Mailer, now: datetime) -> Iterator[SmtpConnection]:
    connection = SmtpConnection(mailer.settings)
    try:
        yield connection
    except Exception:
        mailer.backoff.failed(now)
        raise
    else:
        mailer.backoff.succeeded()
    finally:
        connection.close()


def deliver(dbsession: Session, mailer: Mailer, smtp: SmtpConnection, user_id: int,
            channel: Channel, *, since: datetime, until: datetime | None,
            now: datetime) -> bool:
    """Send ``user_id`` one mail with their pending ``channel`` notifications and mark them;
    True when a mail went out. Raises (marking nothing) when sending may succeed later."""
    user = dbsession.get(User, user_id)
    if user is None:
        return False
    items = pending_items(dbsession, user, channel, since=since, until=until)
    if not items:
        return False
    told = [item for item in items if item.visible]
    if not told or not user.is_active or not user.email:
        mark_mailed(dbsession, [item.id for item in items], now)
        return False
    if not user.email.isascii():
        # Such an address needs SMTPUTF8 end to end, which this mailer does not use.
        log.warning("cannot mail user %s: their address has non-ASCII characters; its %d "
                    "notifications stay in the inbox only", user.id, len(items))
        mark_mailed(dbsession, [item.id for item in items], now)
        return False
    try:
        message = mailer.composer.compose(user, told, digest=channel == Channel.DIGEST,
                                          now=now)
    except Exception:
        # A fault of ours, not the server's: the others still get their mails, and this
        # one is tried again by the next run (the log shows why it failed).
        log.exception("could not compose the mail to user %s; trying again next run", user.id)
        return False
    try:
        smtp.send(message, user.email)
    except PermanentFailure as failure:
        log.warning("the mail server refused the mail to user %s for good (%s); its %d "
                    "notifications stay in the inbox only", user.id, failure, len(items))
        mark_mailed(dbsession, [item.id for item in items], now)
        return False
    mark_mailed(dbsession, [item.id for item in items], now)
    return True


def send_mail(context: JobContext, now: datetime | None = None) -> int:
    """The ``mail.send`` job: one mail to each person whose oldest waiting ``email``
    notification is older than the batch window. Returns how many mails went out."""
    now = now or utcnow()
    mailer = mailer_of(context.registry)
    if mailer.backoff.waiting(now):
        log.info("mail: waiting after a failure until %s", mailer.backoff.resume_at)
        return 0
    since = now - LOOKBACK
    ready_before = now - timedelta(seconds=context.settings.mail_batch_seconds)
    with context.transaction() as dbsession:
        due = [recipient.user_id for recipient in
               pending_recipients(dbsession, Channel.EMAIL, since=since)
               if recipient.oldest <= ready_before]
    sent = 0
    if not due:
        return sent
    with _smtp_run(mailer, now) as smtp:
        for user_id in due:
            with context.transaction() as dbsession:
                sent += deliver(dbsession, mailer, smtp, user_id, Channel.EMAIL, since=since,
                                until=None, now=now)
    return sent


def digest_cut(now: datetime, zone: Any, hour: int) -> datetime:
    """The latest digest moment at or before ``now``: ``hour`` o'clock today in ``zone``, or
    yesterday's when that is still to come."""
    local = now.astimezone(zone)
    cut = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if cut > local:
        cut = (cut - timedelta(days=1)).replace(hour=hour)
    result: datetime = cut.astimezone(now.tzinfo)
    return result


def send_digests(context: JobContext, now: datetime | None = None) -> int:
    """The ``mail.digest`` job: to each person whose digest hour has come in their zone, one
    mail with the ``digest`` notifications that arrived before it. Returns mails sent."""
    now = now or utcnow()
    mailer = mailer_of(context.registry)
    if mailer.backoff.waiting(now):
        return 0
    settings = context.settings
    since = now - LOOKBACK
    with context.transaction() as dbsession:
        due = []
        for recipient in pending_recipients(dbsession, Channel.DIGEST, since=since):
            zone = user_zone(recipient.time_zone, settings.time_zone)
            cut = digest_cut(now, zone, settings.mail_digest_hour)
            if recipient.oldest < cut:
                due.append((recipient.user_id, cut))
    sent = 0
    if not due:
        return sent
    with _smtp_run(mailer, now) as smtp:
        for user_id, cut in due:
            with context.transaction() as dbsession:
                sent += deliver(dbsession, mailer, smtp, user_id, Channel.DIGEST, since=since,
                                until=cut, now=now)
    return sent


def includeme(config: Configurator) -> None:
    settings = settings_of(config.registry)
    if not settings.mail_enabled:
        log.info("e-mail is off: taskdesk.mail.host is not set, so notifications stay in "
                 "the inbox")
        return
    config.registry[MAILER_KEY] = Mailer(config.registry, settings)
    config.add_periodic_job("mail.send", send_mail)
    config.add_periodic_job("mail.digest", send_digests, minute="*/15")
