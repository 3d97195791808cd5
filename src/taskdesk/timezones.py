"""Time zones: which names Taskdesk accepts, and the reader's current date in one.

Timestamps are stored and sent by the API in UTC; people read them in a zone: their own
(``users.time_zone``) or else the site's (``taskdesk.time_zone``). "Today", "this week" and
"overdue" are dates in that zone, so they all come from :func:`local_today`.

Only the standard library (plus the ``tzdata`` package, which ``zoneinfo`` reads when the
machine has no time zone database of its own): settings, the domain and the web use it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

#: Names ``available_timezones`` may list that are not zones a person would choose.
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
#: The areas of the IANA database people look for a city in, in the order shown.
REGIONS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
           "Europe", "Indian", "Pacific")
#: Zones offered first, so most teams find theirs without scrolling.
COMMON_ZONES = (
    "UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo",
    "Asia/Seoul", "Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Paris",
    "Europe/Berlin", "Europe/Moscow", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Australia/Sydney",
    "Pacific/Auckland",
)
#: The longest zone name a user may store (the column's width).
MAX_ZONE_LENGTH = 64


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine's time zone data knows (read once)."""
    return frozenset(
        name for name in available_timezones()
        if name not in _NOT_ZONES and len(name) <= MAX_ZONE_LENGTH
    )


def is_zone(name: str) -> bool:
    return name in zone_names()


def user_zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The zone a user reads times in: their own if set (and still known), else ``default``
    (the site's). A name that left the time zone data falls back rather than failing."""
    if name and is_zone(name):
        return ZoneInfo(name)
    return default


def local_today(zone: tzinfo, now: datetime | None = None) -> date:
    """The date it is in ``zone`` at ``now`` (an aware instant; the present by default)."""
    return (now or datetime.now(UTC)).astimezone(zone).date()


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The instant ``day`` begins in ``zone``, in UTC (for comparing stored timestamps)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
