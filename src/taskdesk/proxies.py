"""Behind a reverse proxy under Hypercorn: the client's address, scheme and host, as the proxy
saw them, for requests that come from a proxy we trust.

Waitress does this itself (``trusted_proxy`` in production.ini's ``[server:main]``); Hypercorn
does not, so without this a TLS-terminating proxy or Kubernetes Ingress in front of
``taskdesk.asgi`` makes every request look like plain HTTP from the proxy's address: the API's
URLs and redirects say ``http://``, and sign-in throttling counts the whole company as one
client address (30 failures in 15 minutes would lock everybody out).

:class:`TrustedProxies` wraps the ASGI app. For a request whose peer address is in the
trusted networks (``trusted_proxies`` in hypercorn.toml) it takes the last value of
``X-Forwarded-For`` as the client, of ``X-Forwarded-Proto`` as the scheme and of
``X-Forwarded-Host`` as the host: one proxy hop, each value as the trusted proxy appended it
(values further left came from the client and are not believed). From any other peer those
headers are removed, so a client cannot claim an address or HTTPS. With no trusted proxies
configured nothing is changed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded")


def trusted_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The networks of ``trusted_proxies`` (addresses or CIDR networks); ValueError names a
    bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted_proxies: {value!r} is not an IP address or network"
                             ) from None
    return tuple(networks)


def _last(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The last comma-separated value of header ``name`` (all its lines joined)."""
    values = [value for key, value in headers if key == name]
    if not values:
        return None
    last = b",".join(values).decode("latin-1").rsplit(",", 1)[-1].strip()
    return last or None


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class TrustedProxies:
    """The ASGI middleware described in the module's docstring."""

    def __init__(self, app: ASGIApp, networks: tuple[IPNetwork, ...]) -> None:
        self.app = app
        self.networks = networks

    def trusts(self, address: str | None) -> bool:
        if address is None:
            return False
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.networks:
            scope = self.rewrite(scope)
        await self.app(scope, receive, send)

    def rewrite(self, scope: Scope) -> Scope:
        """``scope`` as the client sent it to the trusted proxy; or without the forwarding
        headers when the peer is not a trusted proxy."""
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        client = scope.get("client")
        kept = [(key, value) for key, value in headers if key not in _FORWARDED]
        if not self.trusts(client[0] if client else None):
            return {**scope, "headers": kept}
        changed: Scope = {**scope}
        forwarded_for = _last(headers, b"x-forwarded-for")
        if forwarded_for is not None and _is_address(forwarded_for):
            changed["client"] = (forwarded_for, 0)
        proto = (_last(headers, b"x-forwarded-proto") or "").lower()
        if proto in ("http", "https"):
            changed["scheme"] = proto
        host = _last(headers, b"x-forwarded-host")
        if host is not None and host.isprintable():
            headers = [(key, value) for key, value in headers if key != b"host"]
            headers.append((b"host", host.encode("latin-1", "replace")))
        changed["headers"] = headers
        return changed
