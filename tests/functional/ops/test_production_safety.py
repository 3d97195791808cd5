"""Production refuses debug settings, the debug toolbar, and missing or example secrets."""

from __future__ import annotations

import pytest

from taskdesk import main
from taskdesk.settings import SettingsError, parse_settings

SECRET = "s" * 40
BASE = {"sqlalchemy.url": "sqlite://", "taskdesk.environment": "production",
        "taskdesk.session.secret": SECRET}


@pytest.mark.parametrize("key", [
    "pyramid.reload_templates", "pyramid.reload_all", "pyramid.reload_assets",
    "pyramid.debug_all", "pyramid.debug_authorization", "pyramid.debug_notfound",
    "pyramid.debug_routematch",
])
@pytest.mark.parametrize("on", ["true", "1", "on", "YES"])
def test_debug_settings_are_refused_in_production(key: str, on: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_settings({**BASE, key: on})
    assert raised.value.key == key
    assert "debug settings must be off" in str(raised.value)


@pytest.mark.parametrize("key", ["pyramid.debug_all", "pyramid.reload_templates"])
def test_debug_settings_off_are_fine(key: str) -> None:
    parse_settings({**BASE, key: "false"})


def test_debug_environment_variable_is_refused_in_production(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYRAMID_DEBUG_ALL", "true")
    with pytest.raises(SettingsError, match="PYRAMID_DEBUG_ALL"):
        parse_settings(BASE)


@pytest.mark.parametrize("key", ["pyramid.includes", "taskdesk.includes"])
def test_debug_toolbar_is_refused_in_production(key: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_settings({**BASE, key: "pyramid_tm\npyramid_debugtoolbar"})
    assert raised.value.key == key
    assert "debug toolbar" in str(raised.value)


def test_development_may_debug() -> None:
    parse_settings({**BASE, "taskdesk.environment": "development",
                    "pyramid.reload_templates": "true", "pyramid.debug_all": "true",
                    "pyramid.includes": "pyramid_debugtoolbar"})


@pytest.mark.parametrize(("secret", "reason"), [
    (None, "a secret is required"),
    ("", "a secret is required"),
    ("change-me", "not an example value"),
    ("short-secret", "at least 32 characters"),
])
def test_start_up_stops_with_one_line_on_a_bad_secret(secret: str | None, reason: str) -> None:
    settings = {k: v for k, v in BASE.items() if k != "taskdesk.session.secret"}
    if secret is not None:
        settings["taskdesk.session.secret"] = secret
    with pytest.raises(SystemExit) as raised:
        main({}, **settings)
    message = str(raised.value.code)
    assert message.startswith("taskdesk: invalid setting taskdesk.session.secret")
    assert reason in message
    assert "\n" not in message


def test_start_up_stops_with_one_line_on_the_toolbar() -> None:
    with pytest.raises(SystemExit) as raised:
        main({}, **BASE, **{"pyramid.includes": "pyramid_debugtoolbar"})
    assert str(raised.value.code) == (
        "taskdesk: invalid setting pyramid.includes = 'pyramid_debugtoolbar': the debug "
        "toolbar must not be included when taskdesk.environment = production"
    )


@pytest.mark.parametrize("allow", ["localhost", "127.0.0.1/33", "10.0.0.0/8 nonsense"])
def test_metrics_allow_list_must_be_addresses(allow: str) -> None:
    with pytest.raises(SettingsError, match=r"taskdesk\.metrics\.allow"):
        parse_settings({**BASE, "taskdesk.metrics.allow": allow})


def test_metrics_allow_list_parses_networks() -> None:
    settings = parse_settings({**BASE, "taskdesk.metrics.allow": "10.0.0.0/8, ::1"})
    assert [str(n) for n in settings.metrics_allow] == ["10.0.0.0/8", "::1/128"]
