"""How each person wants to hear of their notifications: per reason, one channel.

- ``inbox``: in the inbox only;
- ``email``: in the inbox, and by e-mail soon after (changes close together share one mail);
- ``digest``: in the inbox, and in one daily e-mail;
- ``off``: not at all (not even in the inbox).

A person without a row for a reason has :data:`DEFAULT_CHANNELS`'s channel. A new choice of
``email`` or ``digest`` applies from the moment it is made: notifications that arrived before
under another channel are not mailed afterwards (switching "watching" from inbox to e-mail
does not send a month of old changes).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import Session

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.events import Reason
from taskdesk.messages import _
from taskdesk.models import Notification, NotificationPreference
from taskdesk.models.meta import utcnow


class Channel(StrEnum):
    INBOX = "inbox"
    EMAIL = "email"
    DIGEST = "digest"
    OFF = "off"


REASONS = frozenset(reason.value for reason in Reason)
CHANNELS = frozenset(channel.value for channel in Channel)
#: What people hear without choosing: directed at them by e-mail, the rest in the inbox.
DEFAULT_CHANNELS: dict[Reason, Channel] = {
    Reason.ASSIGNED: Channel.EMAIL,
    Reason.MENTIONED: Channel.EMAIL,
    Reason.DUE: Channel.EMAIL,
    Reason.WATCHING: Channel.INBOX,
    Reason.MEMBER: Channel.INBOX,
}

#: What each reason covers, in the words the profile page and the mails use.
REASON_LABELS: dict[Reason, str] = {
    Reason.ASSIGNED: _("Tasks assigned to me"),
    Reason.MENTIONED: _("Mentions of me"),
    Reason.WATCHING: _("Changes to tasks and projects I watch"),
    Reason.DUE: _("Reminders of my tasks' due dates"),
    Reason.MEMBER: _("Being added to a project"),
}
REASON_HINTS: dict[Reason, str] = {
    Reason.ASSIGNED: _("Someone makes you the assignee of a task."),
    Reason.MENTIONED: _("Someone writes @ and your user name in a task or a comment."),
    Reason.WATCHING: _("Edits and comments on tasks you created, were assigned or commented "
                       "on, and on everything in projects you watch."),
    Reason.DUE: _("The day before a task assigned to you is due, and on the day."),
    Reason.MEMBER: _("Someone gives you a role in a project, or changes or removes it."),
}
CHANNEL_LABELS: dict[Channel, str] = {
    Channel.INBOX: _("Inbox only"),
    Channel.EMAIL: _("E-mail right away"),
    Channel.DIGEST: _("Daily e-mail digest"),
    Channel.OFF: _("Off"),
}
CHANNEL_HINTS: dict[Channel, str] = {
    Channel.INBOX: _("Shown in your inbox in Taskdesk; no e-mail."),
    Channel.EMAIL: _("In your inbox and by e-mail within a few minutes; changes made close "
                     "together arrive in one mail."),
    Channel.DIGEST: _("In your inbox, and once a day in one e-mail with everything since "
                      "the last one."),
    Channel.OFF: _("Not at all, not even in your inbox."),
}


def channel_column() -> ColumnElement[str]:
    """The channel of each ``Notification`` row's reason for its recipient, as SQL: the
    chosen one from a ``NotificationPreference`` outer-joined on user and reason, else the
    default (reasons without a default: inbox)."""
    default = case({reason.value: channel.value for reason, channel in DEFAULT_CHANNELS.items()},
                   value=Notification.reason, else_=Channel.INBOX.value)
    return func.coalesce(NotificationPreference.channel, default)


def preference_join() -> ColumnElement[bool]:
    """The ON clause joining a notification to its recipient's choice for its reason."""
    return ((NotificationPreference.user_id == Notification.user_id)
            & (NotificationPreference.reason == Notification.reason))


def channels(dbsession: Session, user_ids: Iterable[int]) -> dict[int, dict[Reason, Channel]]:
    """Every reason's channel for each of ``user_ids``, defaults filled in; one statement."""
    ids = sorted(set(user_ids))
    chosen: dict[int, dict[Reason, Channel]] = {uid: dict(DEFAULT_CHANNELS) for uid in ids}
    if not ids:
        return chosen
    rows = dbsession.execute(
        select(NotificationPreference.user_id, NotificationPreference.reason,
               NotificationPreference.channel)
        .where(NotificationPreference.user_id.in_(ids))
    )
    for user_id, reason, channel in rows:
        if reason in REASONS and channel in CHANNELS:
            chosen[user_id][Reason(reason)] = Channel(channel)
    return chosen


def set_channels(
    dbsession: Session, user_id: int, choices: dict[str, str]
) -> dict[Reason, Channel]:
    """Save ``{reason: channel}`` for ``user_id`` (all or some reasons); an unknown reason or
    channel raises ValidationError naming it and saves nothing. Returns the full choice."""
    errors: dict[str, str] = {}
    clean: dict[Reason, Channel] = {}
    for reason, channel in choices.items():
        if reason not in REASONS:
            errors[reason] = _("Unknown kind of notification.")
        elif channel not in CHANNELS:
            errors[reason] = _("Choose one of: inbox, email, digest, off.")
        else:
            clean[Reason(reason)] = Channel(channel)
    if errors:
        raise ValidationError(errors)
    existing = {
        row.reason: row for row in dbsession.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id))
    }
    before = channels(dbsession, [user_id])[user_id]
    for reason, channel in clean.items():
        row = existing.get(reason.value)
        if row is None:
            dbsession.add(NotificationPreference(user_id=user_id, reason=reason.value,
                                                 channel=channel.value))
        else:
            row.channel = channel.value
    mailed = (Channel.EMAIL, Channel.DIGEST)
    newly_mailed = [reason.value for reason, channel in clean.items()
                    if channel in mailed and before[reason] not in mailed]
    if newly_mailed:
        # From now on: what arrived under the old channel is not mailed after the fact.
        dbsession.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.reason.in_(newly_mailed),
                   Notification.mailed_at.is_(None))
            .values(mailed_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
    dbsession.flush()
    return channels(dbsession, [user_id])[user_id]


def stop_mail(dbsession: Session, user_id: int, reasons: Iterable[Reason]) -> list[Reason]:
    """Turn ``reasons`` that ``user_id`` gets by e-mail or digest to inbox only (a reason
    switched off stays off); the one-click link of a mail does this. Returns those changed."""
    current = channels(dbsession, [user_id])[user_id]
    changed = [reason for reason in dict.fromkeys(reasons)
               if current[reason] in (Channel.EMAIL, Channel.DIGEST)]
    if changed:
        set_channels(dbsession, user_id, {reason.value: Channel.INBOX.value for reason in changed})
    return changed
