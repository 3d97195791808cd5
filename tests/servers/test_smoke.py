"""A smoke flow against each real server process (Waitress via pserve, Hypercorn), then
SIGTERM."""

from __future__ import annotations

import json
import signal
import time
from urllib.parse import urlencode

import pytest

from tests.support.servers import PASSWORD, Client, Site

pytestmark = pytest.mark.slow


def test_smoke_flow_then_sigterm(site: Site, server_kind: str) -> None:
    with site.server(server_kind) as server:
        client = Client(site.port)

        health = client.get("/healthz", **{"X-Request-ID": "smoke-1"})
        assert health.status == 200
        assert json.loads(health.body) == {"status": "ok"}
        assert health.header("X-Request-ID") == "smoke-1"
        assert health.header("Cache-Control") == "no-store"

        head = client.request("HEAD", "/healthz")
        assert head.status == 200
        assert head.body == b""

        assert json.loads(client.get("/readyz").body)["database"] == "sqlite"

        page = client.get("/login")
        assert page.status == 200
        assert page.header("Content-Type").startswith("text/html")
        assert client.csrf

        signed_in = client.login("alice")
        assert signed_in.status == 303
        assert signed_in.header("Location") == f"http://127.0.0.1:{site.port}/"

        me = client.get("/api/v1/me")
        assert me.status == 200
        assert json.loads(me.body)["username"] == "alice"

        client.create_token()
        project = client.api("POST", "/api/v1/projects", {"slug": "smoke", "name": "Smoke"})
        assert project.status == 201, project.text[:500]
        task = client.api("POST", "/api/v1/projects/smoke/tasks", {"title": "First task"})
        assert task.status == 201, task.text[:500]
        number = json.loads(task.body)["number"]
        assert task.header("Location").endswith(f"/api/v1/projects/smoke/tasks/{number}")
        page = client.get(f"/projects/smoke/tasks/{number}")
        assert page.status == 200
        assert "First task" in page.text
        deleted = client.api("DELETE", f"/api/v1/projects/smoke/tasks/{number}")
        assert deleted.status == 204
        assert deleted.body == b""
        assert client.api("GET", f"/api/v1/projects/smoke/tasks/{number}").status == 404
        client.token = ""

        missing = client.get("/no-such-page")
        assert missing.status == 404
        assert "Traceback" not in missing.text

        assert client.get("/projects/%00").status == 400
        assert client.get("/projects/%FF").status == 400  # invalid UTF-8, on both servers

        signed_out = client.post_form("/logout", {})
        assert signed_out.status == 303
        assert signed_out.header("Location").endswith("/login")
        after = client.get("/api/v1/me")
        assert after.status != 200
        assert b"alice" not in after.body

        server.signal(signal.SIGTERM)
        started = time.monotonic()
        code = server.wait(20)
        # Idle: gone right after the drain period (drain_seconds = 5 in both configs).
        assert time.monotonic() - started < 8
        assert code == 0
    log = server.output()
    assert "request_id=smoke-1 user=- method=GET path=/healthz status=200" in log
    assert "Traceback" not in log


def test_waitress_builds_public_urls_from_the_trusted_proxy_headers(site: Site) -> None:
    """production.ini trusts X-Forwarded-* from 127.0.0.1 (the reverse proxy's address):
    the request counts as HTTPS on the public host, so redirects point there, and Pyramid's
    HTTPS-only Origin check of the CSRF protection applies."""
    proxy = {"Content-Type": "application/x-www-form-urlencoded",
             "X-Forwarded-Proto": "https", "X-Forwarded-Host": "tasks.example.com",
             "X-Forwarded-For": "198.51.100.7"}
    with site.server("waitress"):
        client = Client(site.port)
        client.get("/login")
        form = urlencode(
            {"username": "alice", "password": PASSWORD, "csrf_token": client.csrf}
        ).encode()
        refused = client.request("POST", "/login", form, proxy)
        assert refused.status == 400  # HTTPS without a matching Origin: CSRF refusal
        signed_in = client.request(
            "POST", "/login", form, {**proxy, "Origin": "https://tasks.example.com"}
        )
        assert signed_in.status == 303
        assert signed_in.header("Location") == "https://tasks.example.com/"
