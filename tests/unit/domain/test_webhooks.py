"""Where a webhook may point, and its retry schedule: the rules without a database."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest

from taskdesk.domain.errors import ValidationError
from taskdesk.domain.webhooks import (
    Outcome,
    address_allowed,
    check_target,
    parse_url,
    retry_delay,
)
from taskdesk.settings import SettingsError, WebhookAllowList, parse_settings

NOTHING = WebhookAllowList((), ())


def allow(text: str) -> WebhookAllowList:
    settings = parse_settings({"taskdesk.environment": "development",
                               "taskdesk.webhooks.allow": text})
    return settings.webhooks_allow


@pytest.mark.parametrize("address", [
    "127.0.0.1", "::1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254",
    "fe80::1", "fc00::1", "100.64.0.1", "0.0.0.0",  # noqa: S104 - an address refused, not bound
    "224.0.0.1", "::ffff:127.0.0.1",
    "192.0.2.10",
])
def test_internal_addresses_are_refused_by_default(address: str) -> None:
    assert not address_allowed(ipaddress.ip_address(address), "x.example.com", NOTHING)


@pytest.mark.parametrize("address", ["1.1.1.1", "93.184.215.14", "2606:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(ipaddress.ip_address(address), "x.example.com", NOTHING)


def test_listed_networks_and_names_open_internal_addresses() -> None:
    listed = allow("10.20.0.0/16 ci.corp.example .build.corp.example")
    ten = ipaddress.ip_address("10.20.1.1")
    assert address_allowed(ten, "anything", listed)
    assert not address_allowed(ipaddress.ip_address("10.21.0.1"), "anything", listed)
    private = ipaddress.ip_address("192.168.5.5")
    assert address_allowed(private, "ci.corp.example", listed)
    assert address_allowed(private, "a.build.corp.example", listed)
    assert not address_allowed(private, "evil.example", listed)
    assert not address_allowed(private, "xci.corp.example", listed)
    # A listed name never reaches the metadata address; only its network listed does.
    metadata = ipaddress.ip_address("169.254.169.254")
    assert not address_allowed(metadata, "ci.corp.example", listed)
    assert address_allowed(metadata, "x", allow("169.254.169.254"))


@pytest.mark.parametrize("value", ["not a host!", "10.0.0.0/33", "-bad.example"])
def test_a_bad_allow_list_stops_start_up(value: str) -> None:
    with pytest.raises(SettingsError, match=r"taskdesk\.webhooks\.allow"):
        allow(value)


def test_urls_are_taken_apart_for_the_sender() -> None:
    target = parse_url("https://Hooks.Example.com:8443/in?x=1")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https", "hooks.example.com", 8443, "/in?x=1")
    assert target.host_header == "hooks.example.com:8443"
    assert parse_url("http://[::1]/").host_header == "[::1]"
    for bad in ("ftp://x/", "http://", "http://u:p@x/", "http://x/#f", "http://x:99999/",
                "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            parse_url(bad)


def test_an_ip_literal_is_checked_without_dns() -> None:
    assert [str(a) for a in check_target(parse_url("http://1.1.1.1/"), NOTHING)] == ["1.1.1.1"]
    with pytest.raises(ValidationError, match="validation failed"):
        check_target(parse_url("http://127.0.0.1:8080/"), NOTHING)


def test_retries_back_off_exponentially_up_to_six_hours() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(30) == timedelta(hours=6)


@pytest.mark.parametrize(("status", "delivered", "retryable"), [
    (200, True, False), (204, True, False), (302, False, False), (404, False, False),
    (410, False, False), (429, False, True), (500, False, True), (503, False, True),
    (None, False, True),
])
def test_which_answers_are_retried(status: int | None, delivered: bool, retryable: bool) -> None:
    outcome = Outcome(status, 5)
    assert outcome.delivered is delivered
    assert (not delivered and outcome.retryable) is retryable
    assert not Outcome(None, 0, refused=True).retryable
