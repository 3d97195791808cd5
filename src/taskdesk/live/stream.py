"""The event streams: an ASGI app answering ``/live/...`` itself and passing every other
request on (to ``taskdesk.asgi``'s WSGI bridge, so one process and one INI serve both).

``GET /live/projects/<slug>`` streams the project's changes and the caller's inbox pings;
``GET /live/me`` the inbox pings alone (pages showing no project). Server-sent events::

    id: 1234
    event: change
    data: {"id": 1234, "kind": "task.updated", "task": 56, "comment": null}

    event: inbox
    data: {"unread": 3}

One event name, ``change``, for every kind (the kind is in the data): a browser's
EventSource hands named events only to listeners of that exact name, so the page would
otherwise need the list of kinds. Also ``reset`` (the stream fell behind: reload what the
page shows), ``closed`` (ended for good: signed out, no longer allowed) and heartbeats
(``: heartbeat`` comment lines every ``taskdesk.live.heartbeat_seconds``).

Who may listen is decided by the WSGI app itself: opening a stream, and every
``taskdesk.live.recheck_seconds`` after, the stream calls the page's poll view
(``/projects/<slug>/changes``, ``/me/notifications/changes``) with the stream request's
cookies, in a thread. Its answer is the same as for a poll: the session, traversal and the
project's ACL decide (404 for a project the caller may not see), and it returns the changes
after the stream's last event (a ``Last-Event-ID`` resume, and a catch-up on anything the
broker did not bring: a change made in another process with the in-memory broker, a broker
down for a while). So the rule lives in one view, and a removed member's stream ends within
the re-check interval. With the in-memory broker the re-check runs at every heartbeat, so a
notification the worker (another process) wrote reaches the bell that soon.

Limits: ``taskdesk.live.max_connections`` streams per process (503 beyond), and
``taskdesk.live.max_per_user`` per person (429); the page then polls. On shutdown
(:meth:`LiveApp.close`) every stream ends at once, so Hypercorn's graceful shutdown does not
wait for them; browsers reconnect (to another process behind the balancer) with their
``Last-Event-ID``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from webob import Request as WebObRequest

from taskdesk.domain.live import STREAM_PREFIX, STREAMS_ENVIRON_KEY
from taskdesk.guard import error_body
from taskdesk.live.brokers import Broker, Hub, MemoryBroker, Message, Subscriber
from taskdesk.security.policy import BACKGROUND_HEADER
from taskdesk.settings import TaskdeskSettings

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
ASGIApp = Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]
WSGIApp = Callable[..., Any]

log = logging.getLogger(__name__)
access_log = logging.getLogger("taskdesk.access")

#: Milliseconds a browser waits before reconnecting a stream that ended (``retry:``).
RECONNECT_MS = 2000
#: Ids of changes a stream remembers having sent, to skip a change both the broker and a
#: re-check bring.
REMEMBERED = 2000


@dataclass
class Live:
    """What ``taskdesk.live`` keeps on the registry: settings, broker, this process's hub."""

    settings: TaskdeskSettings
    broker: Broker
    hub: Hub


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def sse(event: str, data: Any, ident: int | None = None) -> bytes:
    head = f"id: {ident}\n" if ident is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


class LiveApp:
    def __init__(self, app: ASGIApp, wsgi: WSGIApp, live: Live) -> None:
        self.app = app
        self.wsgi = wsgi
        self.live = live
        self.settings = live.settings
        self.closing = asyncio.Event()
        self.open_streams = 0
        self.per_user: dict[int, int] = {}
        self._relay: asyncio.Task[None] | None = None

    @property
    def check_seconds(self) -> float:
        """How often an open stream asks the WSGI app again (see the module docstring)."""
        recheck = float(self.settings.live_recheck_seconds)
        if isinstance(self.live.broker, MemoryBroker):
            return min(recheck, float(self.settings.live_heartbeat_seconds))
        return recheck

    def close(self) -> None:
        """Shutdown: end every open stream now, refuse new ones."""
        self.closing.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http" and self._stream_path(scope).startswith(STREAM_PREFIX):
            await self.stream(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @staticmethod
    def _stream_path(scope: Scope) -> str:
        path: str = scope.get("path", "")
        root = scope.get("root_path", "")
        return path[len(root):] if root and path.startswith(root) else path

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                hub = self.live.hub
                hub.loop = asyncio.get_running_loop()
                self._relay = asyncio.create_task(self.live.broker.relay(hub))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                if self._relay is not None:
                    self._relay.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._relay
                self.live.hub.loop = None
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- one stream ------------------------------------------------------------------------
    def _check_target(self, scope: Scope) -> str:
        """The poll view's path for a stream path, or :class:`Refused`."""
        rest = self._stream_path(scope)[len(STREAM_PREFIX):]
        if rest == "me":
            return "/me/notifications/changes"
        slug = rest.removeprefix("projects/")
        if rest.startswith("projects/") and slug and "/" not in slug:
            return f"/projects/{quote(slug)}/changes"
        raise Refused(404, "not_found", "No event stream at this address.")

    def check(self, scope: Scope, path: str, after: int | None) -> tuple[int, Any]:
        """In a thread: the poll view's (status, JSON body) for the stream's caller."""
        query = f"after={after}" if after is not None else ""
        environ: dict[str, Any] = {
            "SCRIPT_NAME": scope.get("root_path", ""),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            STREAMS_ENVIRON_KEY: True,
        }
        client = scope.get("client")
        if client is not None:
            environ["REMOTE_ADDR"] = client[0]
        request = WebObRequest.blank(path, environ, query_string=query)
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1")
            if name in ("cookie", "host", "accept-language", "user-agent"):
                request.headers[name] = raw_value.decode("latin-1")
        request.headers["Accept"] = "application/json"
        request.headers[BACKGROUND_HEADER] = "1"  # not the person's activity
        response = request.get_response(self.wsgi)
        if response.status_code == 200 and response.content_type == "application/json":
            return 200, orjson.loads(response.body)
        return response.status_code, None

    async def refuse(self, scope: Scope, send: Send, refusal: Refused) -> None:
        content_type, body = error_body(self._stream_path(scope), refusal.status,
                                        refusal.code, refusal.message)
        headers = [(b"content-type", content_type.encode()),
                   (b"content-length", str(len(body)).encode()),
                   (b"cache-control", b"no-store")]
        if refusal.status in (429, 503):
            headers.append((b"retry-after", str(self.settings.live_poll_seconds).encode()))
        await send({"type": "http.response.start", "status": refusal.status,
                    "headers": headers})
        await send({"type": "http.response.body", "body": body})
        access_log.info("request_id=- user=- method=%s path=%s status=%d refused=%s",
                        scope["method"], self._stream_path(scope), refusal.status,
                        refusal.code)

    def _admit(self, user: int) -> None:
        if self.per_user.get(user, 0) >= self.settings.live_max_per_user:
            raise Refused(429, "too_many_streams",
                          f"You have {self.settings.live_max_per_user} live update streams "
                          "open already; this page checks for changes every "
                          f"{self.settings.live_poll_seconds} s instead.")
        self.per_user[user] = self.per_user.get(user, 0) + 1
        self.open_streams += 1

    def _release(self, user: int) -> None:
        self.open_streams -= 1
        left = self.per_user.get(user, 1) - 1
        if left > 0:
            self.per_user[user] = left
        else:
            self.per_user.pop(user, None)

    async def stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        try:
            path = self._check_target(scope)
            if scope["method"] != "GET":
                raise Refused(405, "method_not_allowed", "Event streams are read with GET.")
            if self.closing.is_set():
                raise Refused(503, "shutting_down", "The server is shutting down.")
            if self.open_streams >= self.settings.live_max_connections:
                raise Refused(503, "too_many_streams",
                              "This server holds as many live update streams as it may; "
                              "the page checks for changes every "
                              f"{self.settings.live_poll_seconds} s instead.")
            resume = _last_event_id(scope)
            status, data = await asyncio.to_thread(self.check, scope, path, resume)
            if status != 200:
                raise _refusal_for(status)
            user = int(data["user"])
            self._admit(user)
        except Refused as refusal:
            await self.refuse(scope, send, refusal)
            return
        try:
            await self._serve(scope, receive, send, path, resume, data)
        finally:
            self._release(user)
            access_log.info("request_id=- user=%s method=%s path=%s status=200 stream=%.1fs",
                            user, scope["method"], self._stream_path(scope),
                            time.monotonic() - started)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, path: str,
                     resume: int | None, data: dict[str, Any]) -> None:
        keys = [f"user:{data['user']}"]
        if data.get("project") is not None:
            keys.append(f"project:{data['project']}")
        subscriber = Subscriber(tuple(keys))
        hub = self.live.hub
        hub.subscribe(subscriber)
        disconnected = asyncio.create_task(_until_disconnect(receive))
        closing = asyncio.create_task(self.closing.wait())
        sent: dict[int, None] = {}  # ordered: the oldest is forgotten first
        unread: int | None = None
        cursor = data["last"]

        async def write(chunk: bytes) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

        async def catch_up(found: dict[str, Any]) -> None:
            nonlocal unread
            if found.get("reset") and resume is not None:
                await write(sse("reset", {}))
            for change in found.get("changes", ()):
                if change["id"] not in sent:
                    await deliver(change)
            if found.get("unread") != unread:
                unread = found.get("unread")
                await write(sse("inbox", {"unread": unread}))

        async def deliver(change: dict[str, Any]) -> None:
            sent[change["id"]] = None
            if len(sent) > REMEMBERED:
                del sent[next(iter(sent))]
            await write(sse("change", change, change["id"]))

        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-store"),
                (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
            ]})
            await write(f"retry: {RECONNECT_MS}\n\n".encode())
            await catch_up(data)
            heartbeat = float(self.settings.live_heartbeat_seconds)
            next_check = time.monotonic() + self.check_seconds
            while True:
                subscriber.wakeup.clear()
                woke = asyncio.create_task(subscriber.wakeup.wait())
                timeout = max(0.0, min(heartbeat, next_check - time.monotonic()))
                done, _pending = await asyncio.wait(
                    {woke, disconnected, closing}, timeout=timeout,
                    return_when=asyncio.FIRST_COMPLETED)
                woke.cancel()
                if disconnected in done or closing in done:
                    break
                if subscriber.overflowed:
                    subscriber.overflowed = False
                    await write(sse("reset", {}))
                while subscriber.messages:
                    message = subscriber.messages.popleft()
                    await self._relay_message(message, write, deliver, sent)
                if not done:
                    await write(b": heartbeat\n\n")
                if time.monotonic() >= next_check:
                    status, found = await asyncio.to_thread(self.check, scope, path, cursor)
                    if status != 200:
                        await write(sse("closed", {"status": status}))
                        break
                    cursor = found["last"]
                    await catch_up(found)
                    next_check = time.monotonic() + self.check_seconds
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the client went away while we wrote
        finally:
            hub.unsubscribe(subscriber)
            disconnected.cancel()
            closing.cancel()

    @staticmethod
    async def _relay_message(message: Message, write: Callable[[bytes], Awaitable[None]],
                             deliver: Callable[[dict[str, Any]], Awaitable[None]],
                             sent: dict[int, None]) -> None:
        change = message.get("change")
        if change is not None:
            if change["id"] not in sent:
                await deliver(change)
        elif message.get("users"):
            await write(sse("inbox", {}))


def _last_event_id(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"last-event-id":
            text = value.decode("latin-1").strip()
            if text.isascii() and text.isdigit() and len(text) <= 15:
                return int(text)
    return None


def _refusal_for(status: int) -> Refused:
    if status in (401, 403) or 300 <= status < 400:  # 3xx: sent to the sign-in page
        return Refused(403, "forbidden", "Sign in to receive live updates.")
    if status == 404:
        return Refused(404, "not_found", "No such project, or you may not see it.")
    return Refused(503, "unavailable", "Live updates are not available right now.")


async def _until_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
