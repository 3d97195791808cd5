"""Behind a TLS-terminating proxy each real server sees the client's scheme and host: from a
trusted proxy's forwarding headers (Waitress: trusted_proxy in production.ini; Hypercorn:
trusted_proxies in hypercorn.toml), and never from an untrusted peer's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.servers import Client, Site, hypercorn, hypercorn_config

pytestmark = pytest.mark.slow

PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tasks.intranet.example",
           "X-Forwarded-For": "203.0.113.7"}
MESSAGE = "this site is set up for HTTPS (taskdesk.https = true)"


def _trusting_hypercorn(site: Site, networks: list[str]) -> object:
    config = hypercorn_config(site.directory, trusted_proxies=networks)
    return hypercorn(site.ini, site.port, site.directory / "hypercorn.log", config=config)


@pytest.mark.parametrize("kind", ["waitress", "hypercorn"])
def test_a_trusted_proxy_gives_the_clients_scheme_and_host(site: Site, kind: str) -> None:
    server = (site.server("waitress") if kind == "waitress"
              else _trusting_hypercorn(site, ["127.0.0.1"]))
    with server:  # type: ignore[attr-defined]
        client = Client(site.port)
        page = client.get("/projects/", **PROXIED)
        assert page.status in (302, 303)
        assert page.header("Location").startswith("https://tasks.intranet.example/login")
        assert MESSAGE not in client.get("/login", **PROXIED).text


def test_hypercorn_ignores_forwarding_headers_from_an_untrusted_peer(site: Site,
                                                                     tmp_path: Path) -> None:
    with _trusting_hypercorn(site, ["192.0.2.1"]):  # type: ignore[attr-defined]
        client = Client(site.port)
        page = client.get("/projects/", **PROXIED)
        assert page.header("Location").startswith("http://127.0.0.1")
        # Told to the admin: the page came over plain HTTP, whatever the client claimed.
        assert MESSAGE in client.get("/login", **{**PROXIED, "Host": "tasks.intranet.example"}).text
