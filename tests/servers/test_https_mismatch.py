"""production.ini (``taskdesk.https = true``) under each real server: a sign-in page that
came over plain HTTP says so, one that the TLS proxy forwarded (``X-Forwarded-Proto:
https``) does not; the log carries the fix once. (The client names an intranet host: on a
loopback address browsers send Secure cookies over plain HTTP, so nothing is wrong there.)"""

from __future__ import annotations

import pytest

from tests.support.servers import Client, Site

pytestmark = pytest.mark.slow

MESSAGE = "this site is set up for HTTPS (taskdesk.https = true)"
INTRANET = {"Host": "tasks.intranet.example"}


def test_plain_http_is_explained_and_proxied_https_is_not(site: Site, server_kind: str) -> None:
    with site.server(server_kind) as server:
        client = Client(site.port)
        forwarded = client.get("/login", **INTRANET, **{"X-Forwarded-Proto": "https"})
        assert forwarded.status == 200
        assert MESSAGE not in forwarded.text
        for _attempt in range(2):
            plain = client.get("/login", **INTRANET)
            assert plain.status == 200
            assert MESSAGE in plain.text
        assert MESSAGE not in client.get("/login").text  # 127.0.0.1: cookies come back
    assert server.output().count("set taskdesk.https = false for a plain-HTTP intranet") == 1
