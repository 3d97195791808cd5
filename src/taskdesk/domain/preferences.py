"""How each person wants to hear of their notifications: per reason, one channel.

- ``inbox``: in the inbox only;
- ``email``: in the inbox, and by e-mail soon after (changes close together share one mail);
- ``digest``: in the inbox, and in one daily e-mail;
- ``off``: not at all (not even in the inbox).

A person without a row for a reason has :data:`DEFAULT_CHANNELS`'s channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.events import Reason
from taskdesk.messages import _
from taskdesk.models import NotificationPreference


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
    for reason, channel in clean.items():
        row = existing.get(reason.value)
        if row is None:
            dbsession.add(NotificationPreference(user_id=user_id, reason=reason.value,
                                                 channel=channel.value))
        else:
            row.channel = channel.value
    dbsession.flush()
    return channels(dbsession, [user_id])[user_id]
