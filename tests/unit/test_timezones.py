"""The one rule for the reader's date, and which zone names are accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.schemas import PROFILE
from taskdesk.timezones import is_zone, local_midnight, local_today, user_zone

SHANGHAI = ZoneInfo("Asia/Shanghai")
SITE = ZoneInfo("Europe/Berlin")
#: 20:30 on Sunday in UTC is 04:30 on Monday in Shanghai.
SUNDAY_EVENING = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)


def test_today_is_the_date_in_the_readers_zone() -> None:
    assert local_today(UTC, SUNDAY_EVENING) == date(2026, 3, 1)
    assert local_today(SHANGHAI, SUNDAY_EVENING) == date(2026, 3, 2)
    assert local_today(ZoneInfo("America/Los_Angeles"), SUNDAY_EVENING) == date(2026, 3, 1)


def test_a_day_begins_at_local_midnight() -> None:
    assert local_midnight(date(2026, 3, 2), SHANGHAI) == datetime(2026, 3, 1, 16, tzinfo=UTC)
    # Summer time: Berlin is UTC+1 in winter, UTC+2 from 29 March 2026.
    assert local_midnight(date(2026, 3, 29), SITE) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert local_midnight(date(2026, 3, 30), SITE) == datetime(2026, 3, 29, 22, tzinfo=UTC)


def test_user_zone_falls_back_to_the_site_zone() -> None:
    assert user_zone("Asia/Shanghai", SITE) == SHANGHAI
    assert user_zone(None, SITE) == SITE
    assert user_zone("", SITE) == SITE
    # A name the zone data no longer knows must not break every page.
    assert user_zone("Mars/Olympus_Mons", SITE) == SITE


def test_zone_names_are_exact_iana_names() -> None:
    for name in ("Asia/Shanghai", "UTC", "Etc/GMT-8"):
        assert is_zone(name), name
    for name in ("asia/shanghai", "Asia/Beijing", "localtime", "Factory", "", "../UTC"):
        assert not is_zone(name), name


def test_profile_schema_accepts_a_zone_or_empty_for_the_site_default() -> None:
    assert PROFILE.validate({"time_zone": " Asia/Shanghai "}, partial=True) == {
        "time_zone": "Asia/Shanghai"}
    assert PROFILE.validate({"time_zone": ""}, partial=True) == {"time_zone": None}
    assert PROFILE.validate({"time_zone": None}, partial=True) == {"time_zone": None}
    for bad in ("Asia/Beijing", 8, ["UTC"]):
        with pytest.raises(ValidationError) as caught:
            PROFILE.validate({"time_zone": bad}, partial=True)
        assert set(caught.value.fields) == {"time_zone"}
