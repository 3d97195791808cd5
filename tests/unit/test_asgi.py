"""taskdesk.asgi.WSGIBridge called as an ASGI server calls it (the framing cases a real
Hypercorn can reach over HTTP/1.1 are in tests/servers/test_framing.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from taskdesk.asgi import WSGIBridge


def echo(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{environ.get('CONTENT_LENGTH')}:{environ['wsgi.input_terminated']}:".encode(),
            body]


def call(scope: dict[str, Any], messages: list[dict[str, Any]],
         body_timeout: float = 5) -> list[dict[str, Any]]:
    bridge = WSGIBridge(echo, max_body=100, body_timeout=body_timeout)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # a client that sends nothing more
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    base = {"type": "http", "method": "POST", "raw_path": b"/echo", "query_string": b"",
            "root_path": "", "scheme": "http", "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 2)}
    # (tests/conftest.py sets a browser test's idle Playwright loop aside, so asyncio.run
    # works here whatever ran before.)
    asyncio.run(asyncio.wait_for(bridge({**base, **scope}, receive, send), 60))
    return sent


def body_of(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_an_http2_body_without_content_length_is_read() -> None:
    sent = call({"http_version": "2", "headers": []}, [
        {"type": "http.request", "body": b"abc", "more_body": True},
        {"type": "http.request", "body": b"def", "more_body": False}])
    assert sent[0]["status"] == 200
    assert body_of(sent) == b"6:True:abcdef"


def test_a_body_not_complete_in_time_gets_408_and_no_view() -> None:
    sent = call({"http_version": "1.1", "headers": [(b"transfer-encoding", b"chunked")]},
                [{"type": "http.request", "body": b"abc", "more_body": True}],
                body_timeout=0.2)
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert b"abc" not in body_of(sent)


def test_a_body_growing_past_the_limit_gets_413() -> None:
    sent = call({"http_version": "1.1", "headers": [(b"transfer-encoding", b"chunked")]},
                [{"type": "http.request", "body": b"x" * 60, "more_body": True},
                 {"type": "http.request", "body": b"x" * 60, "more_body": True}])
    assert sent[0]["status"] == 413
