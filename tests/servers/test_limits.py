"""Oversized bodies and slow clients against the real servers, and the limits' consistency."""

from __future__ import annotations

import configparser
import json
import socket
import time
import tomllib
from pathlib import Path

import pytest

from tests.support.servers import (
    ROOT,
    Client,
    Site,
    hypercorn_config,
    make_site,
    raw_connection,
    read_status,
)

pytestmark = pytest.mark.slow

MiB = 1024 * 1024


def production_limits() -> tuple[int, int, dict[str, object]]:
    ini = configparser.RawConfigParser()
    ini.read(ROOT / "production.ini", encoding="utf-8")
    app_limit = max(int(ini["app:main"]["taskdesk.max_body_bytes"]),
                    int(ini["app:main"]["taskdesk.max_upload_bytes"]))
    waitress_limit = int(ini["server:main"]["max_request_body_size"])
    hypercorn = tomllib.loads((ROOT / "hypercorn.toml").read_text("utf-8"))
    return app_limit, waitress_limit, hypercorn


def test_server_body_limits_sit_just_above_the_apps() -> None:
    """So the app answers 413 itself (its largest limit is the upload limit), while a server
    never buffers much more than that."""
    app_limit, waitress_limit, hypercorn = production_limits()
    assert app_limit < waitress_limit <= 2 * app_limit
    hypercorn_limit = hypercorn["wsgi_max_body_size"]
    assert isinstance(hypercorn_limit, int)
    assert app_limit < hypercorn_limit <= 2 * app_limit


def test_hypercorn_timeouts_are_set() -> None:
    _, _, hypercorn = production_limits()
    assert hypercorn["read_timeout"]
    assert hypercorn["graceful_timeout"]
    assert hypercorn["keep_alive_timeout"]
    assert hypercorn["body_timeout"]
    assert hypercorn["drain_seconds"] + hypercorn["graceful_timeout"] < 30  # TimeoutStopSec


def test_body_over_the_app_limit_gets_the_apps_413(site: Site, server_kind: str) -> None:
    with site.server(server_kind):
        started = time.monotonic()
        response = Client(site.port).request(
            "POST", "/api/v1/me", b"x" * (MiB + 1), {"Content-Type": "application/json"}
        )
        assert response.status == 413
        assert json.loads(response.body)["error"]["code"] == "payload_too_large"
        assert time.monotonic() - started < 5


def send_headers(sock: socket.socket, length: int) -> None:
    sock.sendall(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
    )


def test_a_huge_declared_body_is_refused_before_it_is_read(site: Site, server_kind: str) -> None:
    """Both servers answer 413 from Content-Length alone (Hypercorn through taskdesk.asgi,
    which refuses past wsgi_max_body_size)."""
    with site.server(server_kind), raw_connection(site.port, timeout=5) as sock:
        started = time.monotonic()
        send_headers(sock, 500 * MiB)  # and never send the body
        assert read_status(sock) == 413
        assert time.monotonic() - started < 2


def test_a_chunked_body_past_the_server_limit_is_refused(site: Site, server_kind: str) -> None:
    """A chunked body has no declared length: each server reads it up to its own limit (just
    above the app's upload limit) and refuses it there."""
    _, waitress_limit, hypercorn = production_limits()
    server_limit = max(waitress_limit, int(str(hypercorn["wsgi_max_body_size"])))
    with site.server(server_kind), raw_connection(site.port, timeout=10) as sock:
        sock.sendall(b"POST /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        started = time.monotonic()
        sent = 0
        try:
            while sent < server_limit + 2 * MiB:
                sock.sendall(b"10000\r\n" + b"x" * 65536 + b"\r\n")
                sent += 65536
        except OSError:
            pass  # the server answered and closed mid-upload
        assert read_status(sock) == 413
        assert time.monotonic() - started < 15


def closed_by_server(sock: socket.socket, within: float) -> float:
    """Seconds until the server closes ``sock`` (any bytes it sends first are skipped)."""
    started = time.monotonic()
    sock.settimeout(within)
    while sock.recv(4096):
        pass
    return time.monotonic() - started


@pytest.mark.parametrize("kind", ["waitress", "hypercorn"])
def test_a_stalled_request_is_dropped(tmp_path: Path, kind: str) -> None:
    """A client that sends half a request and stalls loses the connection after the idle
    timeout (production: 30 s; shortened here to 2 s through the same settings)."""
    site = make_site(tmp_path, server_overrides={"channel_timeout": "2", "cleanup_interval": "1"})
    settings = {"config": hypercorn_config(tmp_path, keep_alive_timeout=2, read_timeout=2)
                } if kind == "hypercorn" else {}
    with site.server(kind, **settings), raw_connection(site.port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: stalls
        assert 1.5 < closed_by_server(sock, within=10) < 6
