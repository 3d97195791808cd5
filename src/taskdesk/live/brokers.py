"""How a live update gets from the process where the change happened to the processes
holding event streams: the hub (the streams of this process) and three brokers.

A message is a small dict: ``{"project": <id>, "change": <Change.payload()>}`` for a change
to a project, ``{"users": [<id>...]}`` when those people's inbox changed. Brokers carry
lists of them, one list per committed transaction.

* :class:`MemoryBroker` (``memory:``): straight to this process's hub. One process only:
  a change made in another one (a second server, the worker) is seen at the stream's next
  re-check, from the events table.
* :class:`RedisBroker` (``redis://``): ``PUBLISH`` on one channel per installation; every
  serving process subscribes to it, its own messages included.
* :class:`PostgresBroker` (``postgresql://``): ``NOTIFY`` / ``LISTEN`` on the database, for
  sites without Redis. A notification carries at most 8,000 bytes, so a big transaction's
  messages are split over several.

``publish`` runs in the thread that committed (a request's, a job's): it never raises, a
failure is logged (the change is committed; the streams catch up at their next re-check).
``relay`` runs in the serving process's event loop as long as it serves, and reconnects
after a lost connection.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

log = logging.getLogger(__name__)

Message = dict[str, Any]

#: Messages one stream may have waiting before it is told to reload instead (a client that
#: stopped reading must not grow the process's memory).
BACKLOG_LIMIT = 500
#: Bytes of one PostgreSQL notification's payload we use (the server allows 8,000).
NOTIFY_BYTES = 7000
#: Seconds between attempts to get a lost broker connection back, at most.
RECONNECT_MAX = 30.0


@dataclass(eq=False)
class Subscriber:
    """One open stream's mailbox, filled by the hub, emptied by the stream."""

    keys: tuple[str, ...]
    messages: deque[Message] = field(default_factory=deque)
    overflowed: bool = False
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, message: Message) -> None:
        if len(self.messages) >= BACKLOG_LIMIT:
            self.messages.clear()
            self.overflowed = True
        else:
            self.messages.append(message)
        self.wakeup.set()


def keys_of(message: Message) -> Iterator[str]:
    """The hub keys a message is for: ``project:<id>`` or ``user:<id>`` each."""
    project = message.get("project")
    if project is not None:
        yield f"project:{project}"
    for user in message.get("users") or ():
        yield f"user:{user}"


class Hub:
    """The open streams of this process by key, and the loop they run in."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.subscribers: dict[str, set[Subscriber]] = {}

    def subscribe(self, subscriber: Subscriber) -> None:
        for key in subscriber.keys:
            self.subscribers.setdefault(key, set()).add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        for key in subscriber.keys:
            found = self.subscribers.get(key)
            if found is not None:
                found.discard(subscriber)
                if not found:
                    del self.subscribers[key]

    def deliver(self, messages: Iterable[Message]) -> None:
        """In the loop: hand each message to the streams it is for."""
        for message in messages:
            for key in keys_of(message):
                for subscriber in self.subscribers.get(key, ()):
                    subscriber.put(message)

    def deliver_threadsafe(self, messages: list[Message]) -> None:
        """From any thread: deliver in the loop (nothing when no loop serves streams)."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.deliver, messages)


class Broker(Protocol):
    def publish(self, messages: list[Message]) -> None: ...

    async def relay(self, hub: Hub) -> None: ...


class MemoryBroker:
    """Messages go to this process's hub only."""

    def __init__(self) -> None:
        self.hub: Hub | None = None

    def publish(self, messages: list[Message]) -> None:
        if self.hub is not None:
            self.hub.deliver_threadsafe(messages)

    async def relay(self, hub: Hub) -> None:
        self.hub = hub
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            self.hub = None


async def _reconnecting(name: str, attempt: Any) -> None:
    """Run ``attempt()`` again after each failure, waiting longer each time (to 30 s)."""
    delay = 0.5
    while True:
        try:
            await attempt()
            delay = 0.5
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("live updates: lost the %s connection (%s: %s); retrying in %.1f s",
                        name, type(error).__name__, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX)


class RedisBroker:
    """Redis pub/sub on the channel ``<queue name>:live``."""

    def __init__(self, url: str, channel: str) -> None:
        import redis

        self.url = url
        self.channel = channel
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def publish(self, messages: list[Message]) -> None:
        try:
            self.client.publish(self.channel, orjson.dumps(messages))
        except Exception as error:
            log.warning("live updates: could not publish to Redis (%s: %s)",
                        type(error).__name__, error)

    async def relay(self, hub: Hub) -> None:
        import redis.asyncio

        async def attempt() -> None:
            client = redis.asyncio.Redis.from_url(self.url, socket_connect_timeout=5)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for item in pubsub.listen():
                        if item.get("type") == "message":
                            hub.deliver(orjson.loads(item["data"]))
            finally:
                await client.aclose()

        await _reconnecting("Redis", attempt)


def _chunks(messages: list[Message], limit: int = NOTIFY_BYTES) -> Iterator[bytes]:
    """``messages`` as JSON lists of at most ``limit`` bytes each (a message is small)."""
    batch: list[bytes] = []
    size = 2
    for message in messages:
        encoded = orjson.dumps(message)
        if batch and size + len(encoded) + 1 > limit:
            yield b"[" + b",".join(batch) + b"]"
            batch, size = [], 2
        batch.append(encoded)
        size += len(encoded) + 1
    if batch:
        yield b"[" + b",".join(batch) + b"]"


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://``) as libpq takes it (``postgresql://``)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}://{rest}"


class PostgresBroker:
    """PostgreSQL ``NOTIFY`` / ``LISTEN`` on the channel ``<queue name>_live``."""

    def __init__(self, url: str, channel: str) -> None:
        self.url = libpq_url(url)
        self.channel = channel
        self._connection: Any = None
        self._lock = threading.Lock()

    def _publish_connection(self) -> Any:
        import psycopg

        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        return self._connection

    def publish(self, messages: list[Message]) -> None:
        # One connection per process, kept open: publishing runs in whichever thread
        # committed, so it is used under a lock.
        with self._lock:
            try:
                connection = self._publish_connection()
                for chunk in _chunks(messages):
                    connection.execute("SELECT pg_notify(%s, %s)",
                                       (self.channel, chunk.decode()))
            except Exception as error:
                log.warning("live updates: could not notify through PostgreSQL (%s: %s)",
                            type(error).__name__, error)
                self._connection = None

    async def relay(self, hub: Hub) -> None:
        import psycopg
        from psycopg import sql

        async def attempt() -> None:
            async with await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=5) as connection:
                await connection.execute(sql.SQL("LISTEN {}").format(
                    sql.Identifier(self.channel)))
                async for notice in connection.notifies():
                    hub.deliver(orjson.loads(notice.payload))

        await _reconnecting("PostgreSQL", attempt)


def build_broker(url: str, name: str) -> Broker:
    """The broker for ``taskdesk.live.url``; ``name`` (``taskdesk.queue.name``) keeps
    installations sharing one Redis or database apart."""
    if url.startswith(("redis://", "rediss://")):
        return RedisBroker(url, f"{name}:live")
    if url.startswith(("postgres://", "postgresql://", "postgresql+")):
        return PostgresBroker(url, f"{name}_live"[-63:])  # an identifier: 63 bytes at most
    return MemoryBroker()
