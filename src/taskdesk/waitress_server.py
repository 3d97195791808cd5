"""Waitress for ``pserve production.ini`` (``use = call:taskdesk.waitress_server:server_factory``),
with unambiguous request framing, a whole-request deadline and a graceful drain.

Waitress as shipped (3.0) differs in three ways, each fixed here on the server objects
Waitress builds (its own ``Adjustments`` still validate every standard option):

* **Framing.** A request with both ``Content-Length`` and ``Transfer-Encoding: chunked`` is
  framed by the chunks, its ``Content-Length`` silently replaced and the connection kept
  open, so a proxy framing by the length sees a different request boundary (request
  smuggling). :class:`GuardedParser` refuses it, and ``Transfer-Encoding`` in HTTP/1.0,
  with Waitress's own 400, after which Waitress closes the connection.
* **Slow clients.** ``channel_timeout`` counts idle time, so a client trickling a byte now and
  then holds a connection for ever. ``request_timeout`` (seconds, default 30) closes a
  connection whose current request (head and body) is not complete that long after its
  first byte; checked every ``cleanup_interval``. Waitress only hands complete requests to
  its threads, so slow clients cost a connection slot and a little memory, never a thread:
  ``connection_limit`` must be far above the number of slow connections to expect
  (benchmarks/README.md measures 1,000).
* **Shutdown.** Waitress ends at once on SIGTERM. Here SIGTERM/SIGINT sets
  :data:`taskdesk.health.DRAINING` (``/readyz`` answers 503, responses carry
  ``Connection: close``), keeps the listener open for ``drain_seconds`` (default 5), then
  closes it and every idle or half-received connection, waits up to ``graceful_timeout``
  (default 15) for requests in flight to be answered and exits 0. A second signal skips the
  rest of the drain.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from waitress import create_server, wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import BaseWSGIServer
from waitress.task import WSGITask

from taskdesk.health import DRAINING

log = logging.getLogger(__name__)

#: Options of [server:main] read here, not by Waitress, with their defaults.
OWN_OPTIONS = {"request_timeout": 30.0, "drain_seconds": 5.0, "graceful_timeout": 15.0}


class GuardedParser(HTTPRequestParser):  # type: ignore[misc]
    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("The request has both Content-Length and Transfer-Encoding.")
        if "TRANSFER_ENCODING" in self.headers:  # left in place for HTTP/1.0 only
            raise ParsingError("Transfer-Encoding is not allowed in HTTP/1.0.")


class DrainingTask(WSGITask):  # type: ignore[misc]
    def build_response_header(self) -> bytes:
        if DRAINING.is_set():
            self.set_close_on_finish()
        return super().build_response_header()  # type: ignore[no-any-return]


class GuardedChannel(HTTPChannel):  # type: ignore[misc]
    parser_class = GuardedParser
    task_class = DrainingTask
    request_started = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.time()
        return super().received(data)  # type: ignore[no-any-return]

    @property
    def busy(self) -> bool:
        """A request is being served or its answer is still being sent."""
        return bool(self.requests or self.total_outbufs_len)


def _with_request_deadline(server: Any, timeout: float) -> Callable[[float], None]:
    original = server.maintenance

    def maintenance(now: float) -> None:
        original(now)
        cutoff = now - timeout
        for channel in list(server.active_channels.values()):
            if channel.request is not None and channel.request_started < cutoff:
                channel.will_close = True

    return maintenance


def server_factory(global_conf: dict[str, str], **options: Any) -> Callable[[Any], int]:
    """PasteDeploy server factory (``use = call:taskdesk.waitress_server:server_factory``)."""
    return lambda app: serve(app, **options)


def serve(app: Any, **options: Any) -> int:
    """Serve ``app`` with Waitress ``options`` plus those of :data:`OWN_OPTIONS` until a
    signal, then drain (see the module's docstring)."""
    own = {key: float(options.pop(key, default)) for key, default in OWN_OPTIONS.items()}
    server = create_server(app, **options)
    # One listener: the server is its own map's owner; several: a MultiSocketServer.
    socket_map: dict[int, Any] = getattr(server, "map", None) or server._map
    listeners = [item for item in socket_map.values() if isinstance(item, BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = GuardedChannel
        listener.maintenance = _with_request_deadline(listener, own["request_timeout"])
        listener.print_listen("Serving on http://{}:{}")

    stop_at: list[float] = []

    def on_signal(number: int, frame: FrameType | None) -> None:
        if stop_at:
            stop_at[0] = 0.0  # a second signal: stop draining now
            return
        DRAINING.set()
        stop_at.append(time.monotonic() + own["drain_seconds"])
        log.info("shutting down: /readyz answers 503 for %g s, then the listener closes",
                 own["drain_seconds"])

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    adj = server.adj
    step = min(adj.asyncore_loop_timeout, 0.5)

    def poll() -> None:
        wasyncore.loop(timeout=step, map=socket_map, use_poll=adj.asyncore_use_poll, count=1)

    while not stop_at or time.monotonic() < stop_at[0]:
        poll()

    for listener in listeners:
        listener.accepting = False
        wasyncore.dispatcher.close(listener)  # the socket only: its trigger still wakes us
    deadline = time.monotonic() + own["graceful_timeout"]
    while time.monotonic() < deadline:
        channels = [item for item in socket_map.values() if isinstance(item, GuardedChannel)]
        for channel in channels:
            if not channel.busy:
                channel.will_close = True  # idle, or a request not yet complete: close
        if not any(channel.busy for channel in channels):
            break
        poll()
    poll()  # let closing channels close
    server.task_dispatcher.shutdown(timeout=1)
    log.info("stopped")
    return 0
