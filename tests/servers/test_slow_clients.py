"""Slow clients (a bounded version of benchmarks/slow_clients.py), both servers as production
configures them: 50 connections trickle request heads and bodies while normal requests on
new connections keep being answered, and every slow connection is cut off by a deadline
(shortened here through the same settings: Waitress ``request_timeout`` 3 s, Hypercorn
``body_timeout`` 3 s and ``keep_alive_timeout`` 3 s for heads) however steadily it trickles.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.support.servers import Client, hypercorn_config, make_site, peer_closed

pytestmark = pytest.mark.slow

SLOW = 50
DEADLINE = 3
INTERVAL = 0.5


def pieces(kind: str) -> list[bytes]:
    if kind == "head":
        return [b"GET /healthz HTTP/1.1\r\n"] + [f"X-Slow-{n}: y\r\n".encode()
                                                 for n in range(100)]
    return [b"POST /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            b"\r\nContent-Length: 100000\r\n\r\n"] + [b" "] * 100


def test_slow_clients_are_cut_off_and_deny_no_service(tmp_path: Path, server_kind: str) -> None:
    site = make_site(tmp_path, server_overrides={"request_timeout": str(DEADLINE),
                                                 "cleanup_interval": "1"})
    settings = {"config": hypercorn_config(tmp_path, body_timeout=DEADLINE,
                                           keep_alive_timeout=DEADLINE)
                } if server_kind == "hypercorn" else {}
    with site.server(server_kind, **settings):
        slow = {}
        for number in range(SLOW):
            sock = socket.create_connection(("127.0.0.1", site.port), timeout=5)
            kind = "head" if number % 2 else "body"
            slow[sock] = (kind, pieces(kind), time.monotonic())

        answers: list[int] = []

        def legitimate() -> None:
            for _ in range(20):
                try:
                    answers.append(Client(site.port).get("/healthz", timeout=5).status)
                except OSError:
                    answers.append(0)
                time.sleep(0.2)

        traffic = threading.Thread(target=legitimate, daemon=True)
        traffic.start()
        lasted: dict[str, list[float]] = {"head": [], "body": []}
        try:
            stop = time.monotonic() + DEADLINE + 7
            while slow and time.monotonic() < stop:
                for sock, (kind, remaining, opened) in list(slow.items()):
                    if peer_closed(sock):
                        lasted[kind].append(time.monotonic() - opened)
                        del slow[sock]
                        sock.close()
                    elif remaining:
                        with contextlib.suppress(OSError):  # closed: seen next round
                            sock.sendall(remaining.pop(0))
                time.sleep(INTERVAL)
        finally:
            for sock in slow:
                sock.close()
        traffic.join(30)

    assert answers == [200] * 20
    assert not slow, f"{len(slow)} slow connections were still open after {DEADLINE + 7} s"
    assert len(lasted["head"]) == len(lasted["body"]) == SLOW // 2
    assert max(lasted["head"] + lasted["body"]) < DEADLINE + 4
