"""Forwarding headers under Hypercorn are believed from trusted proxies only (taskdesk.proxies)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from taskdesk.proxies import TrustedProxies, trusted_networks


def _scope(peer: str, *headers: tuple[str, str]) -> dict[str, Any]:
    return {"type": "http", "scheme": "http", "client": (peer, 40000),
            "headers": [(b"host", b"10.1.2.3:6543")]
            + [(name.encode(), value.encode()) for name, value in headers]}


def _seen(networks: list[str], scope: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(scope)

    asyncio.run(TrustedProxies(app, trusted_networks(networks))(scope, None, None))
    return seen


FORWARDED = (("x-forwarded-for", "198.51.100.1, 203.0.113.7"),
             ("x-forwarded-proto", "https"), ("x-forwarded-host", "tasks.example.com"))


def test_a_trusted_proxy_names_the_client_scheme_and_host() -> None:
    seen = _seen(["10.0.0.0/8"], _scope("10.4.0.9", *FORWARDED))
    # The last hop: what the trusted proxy itself appended, not what the client claimed.
    assert seen["client"] == ("203.0.113.7", 0)
    assert seen["scheme"] == "https"
    assert dict(seen["headers"])[b"host"] == b"tasks.example.com"


def test_anyone_else_loses_the_forwarding_headers() -> None:
    seen = _seen(["10.0.0.0/8"], _scope("192.0.2.50", *FORWARDED, ("forwarded", "proto=https")))
    assert seen["client"] == ("192.0.2.50", 40000)
    assert seen["scheme"] == "http"
    assert [name for name, _ in seen["headers"]] == [b"host"]


def test_garbage_is_not_believed_even_from_a_trusted_proxy() -> None:
    seen = _seen(["127.0.0.1"], _scope("127.0.0.1", ("x-forwarded-for", "not-an-address"),
                                       ("x-forwarded-proto", "gopher")))
    assert seen["client"] == ("127.0.0.1", 40000)
    assert seen["scheme"] == "http"


def test_without_trusted_proxies_nothing_changes() -> None:
    scope = _scope("127.0.0.1", *FORWARDED)
    assert _seen([], scope) == scope


def test_a_bad_network_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300' is not an IP address or network"):
        trusted_networks(["127.0.0.1", "10.0.0.300"])
