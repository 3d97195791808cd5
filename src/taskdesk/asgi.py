"""Hypercorn serving the WSGI app through our own ASGI bridge, with a graceful drain.

    TASKDESK_INI=production.ini python -m taskdesk.asgi --config hypercorn.toml

Hypercorn's own WSGI adapter (``hypercorn wsgi:...``) hands the app whatever arrived: a
chunked body without ``CONTENT_LENGTH`` or ``wsgi.input_terminated`` (so it reads as empty),
the body cut short by a disconnect or a bad chunk (and runs the view on it), a request with
both ``Content-Length`` and ``Transfer-Encoding`` (500), and it waits for a trickling body
without limit. :class:`WSGIBridge` reads the body itself before any view runs:

* both ``Content-Length`` and ``Transfer-Encoding``, or a transfer coding other than
  ``chunked`` (h11 accepts both headers and frames by the chunks; a proxy framing by the
  length would see another request in the rest): 400, connection closed;
* a declared length over ``max_body`` (Hypercorn's ``wsgi_max_body_size``): 413 at once,
  connection closed, nothing read; a chunked body growing past it: the same;
* a body not complete within ``body_timeout`` seconds of the request head (a slow or
  stalled client; also a chunk size such as 2**80 that will never arrive): 408, closed;
* the client disconnecting, or h11 refusing the framing (an invalid chunk size: h11 answers
  400 itself), before the body is complete: no view runs at all;
* otherwise the app gets ``CONTENT_LENGTH`` = the bytes received, no
  ``HTTP_TRANSFER_ENCODING`` (as Waitress does) and ``wsgi.input_terminated``, and
  ``PATH_INFO`` from the raw path (undecoded bytes as latin-1, as PEP 3333 and Waitress).

Shutdown (:func:`main`): SIGTERM or SIGINT sets :data:`taskdesk.health.DRAINING` (``/readyz``
answers 503 with ``Retry-After``, every response carries ``Connection: close``) and the
listener stays open for ``drain_seconds`` so a load balancer stops routing here first. Then
requests still waiting for their body get 503 and a closed connection, Hypercorn closes the
listener and idle connections, and the process exits as soon as the requests in flight have
answered (at most ``graceful_timeout`` later). A second signal skips the rest of the drain.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tomllib
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from io import BytesIO
from typing import Any
from urllib.parse import unquote_to_bytes

from taskdesk.domain.live import STREAMS_ENVIRON_KEY
from taskdesk.guard import error_body
from taskdesk.health import DRAINING
from taskdesk.live import live_of
from taskdesk.live.stream import LiveApp
from taskdesk.proxies import TrustedProxies, trusted_networks

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Coroutine[Any, Any, None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

log = logging.getLogger(__name__)
access_log = logging.getLogger("taskdesk.access")

#: Keys of hypercorn.toml read by :func:`main`, not by Hypercorn.
#: hypercorn.toml keys read here, not by Hypercorn (``trusted_proxies`` too: see
#: ``taskdesk.proxies``).
OWN_KEYS = {"body_timeout": 30.0, "drain_seconds": 5.0}
_INTAKE_CLOSED = "taskdesk: intake closed for shutdown"


class Refusal(Exception):
    """A request answered by the bridge itself, before the app, on a closed connection."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def declared_framing(headers: Iterable[tuple[bytes, bytes]]) -> tuple[int | None, bool]:
    """(Content-Length or None, chunked?) of a request, or :class:`Refusal` when ambiguous."""
    length: int | None = None
    codings: list[bytes] = []
    for name, value in headers:
        if name == b"content-length":
            length = int(value)  # h11 has already checked it is digits, and one value
        elif name == b"transfer-encoding":
            codings.extend(part.strip().lower() for part in value.split(b","))
    if codings and length is not None:
        raise Refusal(400, "ambiguous_framing",
                      "The request has both Content-Length and Transfer-Encoding.")
    if codings and codings != [b"chunked"]:
        raise Refusal(400, "unsupported_transfer_encoding",
                      "Only the chunked transfer coding is supported.")
    return length, bool(codings)


def build_environ(scope: Scope, body: bytes) -> dict[str, Any]:
    server = scope.get("server") or ("localhost", 80)
    root_path = scope.get("root_path", "")
    path = unquote_to_bytes(scope["raw_path"]).decode("latin-1")
    script_name = root_path.encode("utf-8").decode("latin-1")
    if script_name and path.startswith(script_name):
        path = path[len(script_name):] or "/"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client is not None:
        environ["REMOTE_ADDR"] = client[0]
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1")
        if name in ("content-length", "transfer-encoding"):
            continue
        key = ("CONTENT_TYPE" if name == "content-type"
               else "HTTP_" + name.upper().replace("-", "_"))
        value = raw_value.decode("latin-1")
        if key in environ:
            value = f"{environ[key]},{value}"
        environ[key] = value
    if body or scope["method"] not in ("GET", "HEAD"):
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


class WSGIBridge:
    """An ASGI app running ``application`` (WSGI) in the loop's default thread pool, once
    the whole request body is in (see the module's docstring)."""

    def __init__(self, application: WSGIApp, *, max_body: int, body_timeout: float,
                 extra_environ: dict[str, Any] | None = None) -> None:
        self.application = application
        self.extra_environ = extra_environ or {}
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.closing = False
        self._reading: set[asyncio.Task[Any]] = set()

    def close_intake(self) -> None:
        """Shutdown: refuse new requests, and those still waiting for their body."""
        self.closing = True
        for task in list(self._reading):
            task.cancel(_INTAKE_CLOSED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        else:  # websocket: not served
            await send({"type": "websocket.close"})

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if self.closing:
                raise Refusal(503, "shutting_down", "The server is shutting down.")
            length, chunked = declared_framing(scope["headers"])
            if length is not None and length > self.max_body:
                raise Refusal(413, "payload_too_large",
                              f"The request body is larger than {self.max_body} bytes.")
            # HTTP/1: without either header there is no body (h11 frames it so). HTTP/2 and
            # 3 frame the body themselves, with or without a Content-Length.
            if length or chunked or scope["http_version"] not in ("1.1", "1.0"):
                body = await self.read_body(receive)
            else:
                body = b""
        except Refusal as refusal:
            await self.refuse(scope, send, refusal)
            return
        except EOFError:  # disconnected or malformed (h11 answered): no view runs
            return
        environ = build_environ(scope, body)
        environ.update(self.extra_environ)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.run_app, environ, send, loop)

    async def read_body(self, receive: Receive) -> bytes:
        task = asyncio.current_task()
        assert task is not None
        self._reading.add(task)
        body = bytearray()
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        raise EOFError
                    body += message.get("body", b"")
                    if len(body) > self.max_body:
                        raise Refusal(413, "payload_too_large",
                                      f"The request body is larger than {self.max_body} bytes.")
                    if not message.get("more_body", False):
                        return bytes(body)
        except TimeoutError:
            raise Refusal(408, "request_timeout",
                          f"The request body did not arrive within {self.body_timeout:g} s."
                          ) from None
        except asyncio.CancelledError as error:
            if error.args != (_INTAKE_CLOSED,):
                raise
            task.uncancel()
            raise Refusal(503, "shutting_down", "The server is shutting down.") from None
        finally:
            self._reading.discard(task)

    async def refuse(self, scope: Scope, send: Send, refusal: Refusal) -> None:
        path = unquote_to_bytes(scope["raw_path"]).decode("latin-1")
        content_type, body = error_body(path, refusal.status, refusal.code, refusal.message)
        headers = [(b"content-type", content_type.encode()),
                   (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        if refusal.status == 503:
            headers.append((b"retry-after", b"5"))
        await send({"type": "http.response.start", "status": refusal.status,
                    "headers": headers})
        await send({"type": "http.response.body", "body": body})
        access_log.info("request_id=- user=- method=%s path=%s status=%d refused=%s",
                        scope["method"], path, refusal.status, refusal.code)

    def run_app(self, environ: dict[str, Any], send: Send,
                loop: asyncio.AbstractEventLoop) -> None:
        """In a worker thread: call the app, hand each chunk to the loop as it comes."""
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [int(status.split(" ", 1)[0]), [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in headers
            ]]
            return lambda data: None  # the legacy write(); unused by Pyramid

        def deliver(messages: list[Message]) -> None:
            asyncio.run_coroutine_threadsafe(_send_all(send, messages), loop).result()

        sent_head = False

        def push(chunk: bytes, more: bool) -> None:
            nonlocal sent_head
            messages = [] if sent_head else [head()]
            sent_head = True
            messages.append({"type": "http.response.body", "body": chunk, "more_body": more})
            deliver(messages)

        def head() -> Message:
            status, headers = started
            if DRAINING.is_set():
                headers = [*headers, (b"connection", b"close")]
            return {"type": "http.response.start", "status": status, "headers": headers}

        # One hand-over to the event loop per chunk, the head travelling with the first and
        # "no more body" with the last: a chunk is held until the next one shows it is not the
        # last, so the usual one-chunk response costs one thread-to-loop round trip.
        body = self.application(environ, start_response)
        try:
            held: bytes | None = None
            for chunk in body:
                if not chunk:
                    continue
                if held is not None:
                    push(held, True)
                held = chunk
            push(held or b"", False)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


async def _send_all(send: Send, messages: list[Message]) -> None:
    for message in messages:
        await send(message)


def _quiet_cancellations(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Connections still open after ``graceful_timeout`` are cancelled by Hypercorn; say so
    in one line instead of a CancelledError traceback per connection."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        log.warning("a connection still open after graceful_timeout was closed")
        return
    loop.default_exception_handler(context)


def main(argv: list[str] | None = None) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    parser = argparse.ArgumentParser(prog="python -m taskdesk.asgi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="hypercorn.toml")
    parser.add_argument("--bind", action="append", help="host:port, overrides the file's")
    arguments = parser.parse_args(argv)
    with open(arguments.config, "rb") as handle:
        options = tomllib.load(handle)
    own = {key: float(options.pop(key, default)) for key, default in OWN_KEYS.items()}
    try:
        trusted = trusted_networks(options.pop("trusted_proxies", []))
    except ValueError as error:
        raise SystemExit(f"{arguments.config}: {error}") from None
    config = Config.from_mapping(options)
    config.workers = 1  # this process serves; Hypercorn's worker processes are not used
    if arguments.bind:
        config.bind = arguments.bind

    from taskdesk.wsgi import app, router  # configures logging from the INI, builds the app

    live = live_of(router.registry)
    # Pages served here may open event streams when taskdesk.live is included.
    bridge = WSGIBridge(app, max_body=config.wsgi_max_body_size,
                        body_timeout=own["body_timeout"],
                        extra_environ={STREAMS_ENVIRON_KEY: True} if live else None)
    served: Any = bridge if live is None else LiveApp(bridge, app, live)
    proxied: Any = TrustedProxies(served, trusted) if trusted else served

    async def shutdown_trigger() -> None:
        signalled = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, signalled.set)
        await signalled.wait()
        DRAINING.set()
        log.info("shutting down: /readyz answers 503 for %g s, then the listener closes",
                 own["drain_seconds"])
        signalled.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(signalled.wait(), own["drain_seconds"])
        bridge.close_intake()
        if isinstance(served, LiveApp):
            served.close()  # open event streams end now; browsers reconnect elsewhere

    loop_factory = None
    if config.worker_class == "uvloop":
        import uvloop  # type: ignore[import-not-found]

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.get_loop().set_exception_handler(_quiet_cancellations)
        runner.run(serve(proxied, config, shutdown_trigger=shutdown_trigger, mode="asgi"))


if __name__ == "__main__":
    main()
