"""What the notification-preference tests compare: the channels a person has chosen."""

from __future__ import annotations

from sqlalchemy.orm import Session

from taskdesk.domain import preferences
from taskdesk.models import User

#: Written out here rather than read from taskdesk.domain.preferences: the tests say what a
#: person who chose nothing gets.
DEFAULTS = {"assigned": "email", "mentioned": "email", "watching": "inbox", "due": "email",
            "member": "inbox"}
CHANNELS = ["inbox", "email", "digest", "off"]


def chosen(dbsession: Session, user: User) -> dict[str, str]:
    """``user``'s channel per reason as stored now, defaults filled in."""
    dbsession.expire_all()
    return {reason.value: channel.value
            for reason, channel in preferences.channels(dbsession, [user.id])[user.id].items()}
