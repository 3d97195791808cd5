"""Request framing on the wire, both servers: ambiguous or broken framing never reaches a
view (nor smuggles a second request), and valid chunked uploads work.

Each server starts once for the module, with the body deadlines shortened to 2 s through
the same settings production uses (Waitress ``request_timeout``, Hypercorn ``body_timeout``).
"View never ran" is read from the access log: the app writes one ``taskdesk.access`` line
with a request id for every request it handles; the adapters' own refusals log
``request_id=-`` and Waitress's parser refusals log nothing.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import (
    Client,
    ServerProcess,
    hypercorn_config,
    make_site,
    raw_connection,
    trickle,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["waitress", "hypercorn"])
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    kind = str(request.param)
    directory = tmp_path_factory.mktemp(kind)
    site = make_site(directory, server_overrides={"request_timeout": "2",
                                                  "cleanup_interval": "1"})
    settings = {"config": hypercorn_config(directory, body_timeout=2)} if kind == "hypercorn" \
        else {}
    with site.server(kind, **settings) as server:
        client = Client(site.port)
        assert client.login("alice").status == 303
        yield server, client.create_token()


def exchange(port: int, data: bytes, wait: float = 10, close_write: bool = False) -> bytes:
    """Send ``data``, then read until the server closes (or ``wait`` seconds pass)."""
    with raw_connection(port, timeout=wait) as sock:
        sock.sendall(data)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        deadline = time.monotonic() + wait
        try:
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def statuses(received: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", received)]


def app_saw(server: ServerProcess, path: str) -> bool:
    time.sleep(0.3)  # the log line is written after the answer
    return re.search(rf"request_id=(?!-)\S+ .*path={re.escape(path)} ", server.output()) \
        is not None


def head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_content_length_with_chunked_is_refused_and_smuggles_nothing(
        served: tuple[ServerProcess, str]) -> None:
    server, _ = served
    smuggled = head("GET", "/smuggled-request")
    received = exchange(server.port, head(
        "POST", "/api/v1/framing-a", "Content-Type: application/json",
        f"Content-Length: {len(b'0' + smuggled)}", "Transfer-Encoding: chunked",
    ) + b"0\r\n\r\n" + smuggled)
    assert statuses(received) == [400]  # one answer, then the connection is closed
    assert not app_saw(server, "/api/v1/framing-a")
    assert "/smuggled-request" not in server.output()


@pytest.mark.parametrize("chunks", [
    b"zz\r\nabc\r\n0\r\n\r\n",          # not a hexadecimal size
    b"3\r\nabcdef\r\n0\r\n\r\n",        # more data than the size says
    b"-3\r\nabc\r\n0\r\n\r\n",          # negative
], ids=["not-hex", "overlong", "negative"])
def test_invalid_chunks_are_refused_before_any_view(
        served: tuple[ServerProcess, str], chunks: bytes) -> None:
    server, token = served
    path = f"/api/v1/projects?case={chunks[:2].hex()}"
    received = exchange(server.port, head(
        "POST", path, "Content-Type: application/json", f"Authorization: Bearer {token}",
        "Transfer-Encoding: chunked") + chunks)
    assert statuses(received) in ([400], [])  # refused, or closed without an answer
    assert not app_saw(server, "/api/v1/projects")


def test_a_huge_chunk_size_is_cut_off_by_the_body_deadline(
        served: tuple[ServerProcess, str]) -> None:
    server, _ = served
    started = time.monotonic()
    received = exchange(server.port, head(
        "POST", "/api/v1/framing-huge", "Content-Type: application/json",
        "Transfer-Encoding: chunked") + f"{2**80:x}\r\nabc".encode(), wait=15)
    assert time.monotonic() - started < 8  # deadline 2 s, checked every second
    assert statuses(received) in ([408], [400], [])
    assert not app_saw(server, "/api/v1/framing-huge")


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_body_cut_by_a_disconnect_runs_no_view(
        served: tuple[ServerProcess, str], framing: str) -> None:
    server, token = served
    path = f"/api/v1/framing-cut-{framing}"
    framing_header = ("Content-Length: 100" if framing == "length"
                      else "Transfer-Encoding: chunked")
    partial = b'{"slug": "cut"' if framing == "length" else b'64\r\n{"slug": "cut"'
    exchange(server.port, head("POST", path, "Content-Type: application/json",
                               f"Authorization: Bearer {token}", framing_header) + partial,
             wait=3, close_write=True)
    assert not app_saw(server, path)


def test_a_valid_chunked_upload_is_served(served: tuple[ServerProcess, str]) -> None:
    server, token = served
    document = json.dumps({"slug": "chunky", "name": "Chunked upload"}).encode()
    first, second = document[:10], document[10:]
    body = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(first), first, len(second), second)
    received = exchange(server.port, head(
        "POST", "/api/v1/projects", "Content-Type: application/json", "Connection: close",
        f"Authorization: Bearer {token}", "Transfer-Encoding: chunked") + body)
    assert statuses(received) == [201], received[:500]
    created = json.loads(received.split(b"\r\n\r\n", 1)[1])
    assert created["slug"] == "chunky"
    assert created["name"] == "Chunked upload"


def test_the_hypercorn_toml_header_deadline_is_keep_alive_timeout(tmp_path: Path) -> None:
    """hypercorn.toml says so: a request head trickled a byte a second is cut off after
    keep_alive_timeout (here 2 s), however steadily it comes."""
    site = make_site(tmp_path)
    config = hypercorn_config(tmp_path, keep_alive_timeout=2)
    with site.server("hypercorn", config=config), raw_connection(site.port) as sock:
        data = head("GET", "/healthz", *[f"X-Slow-{n}: y" for n in range(100)])
        assert 1.5 < trickle(sock, data, interval=0.05, within=10) < 6
