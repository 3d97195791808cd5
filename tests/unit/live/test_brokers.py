"""The hub and the brokers' message framing (the brokers themselves meet Redis and
PostgreSQL in tests/servers/test_live.py)."""

from __future__ import annotations

import asyncio

import orjson

from taskdesk.live.brokers import (
    BACKLOG_LIMIT,
    Hub,
    MemoryBroker,
    PostgresBroker,
    RedisBroker,
    Subscriber,
    _chunks,
    build_broker,
    libpq_url,
)


def _change(ident: int, project: int = 7) -> dict[str, object]:
    return {"project": project, "change": {"id": ident, "kind": "task.updated", "task": 3,
                                           "comment": None}}


def test_the_hub_hands_a_message_to_the_streams_it_is_for() -> None:
    hub = Hub()
    board = Subscriber(("user:1", "project:7"))
    other_board = Subscriber(("user:2", "project:8"))
    bell = Subscriber(("user:2",))
    for subscriber in (board, other_board, bell):
        hub.subscribe(subscriber)
    hub.deliver([_change(10), {"users": [2, 3]}])
    assert list(board.messages) == [_change(10)]
    assert list(other_board.messages) == [{"users": [2, 3]}]
    assert list(bell.messages) == [{"users": [2, 3]}]
    hub.unsubscribe(board)
    hub.deliver([_change(11)])
    assert len(board.messages) == 1
    assert "project:7" not in hub.subscribers  # nobody left listening there


def test_a_stream_that_stops_reading_is_reset_instead_of_growing() -> None:
    subscriber = Subscriber(("project:7",))
    for ident in range(BACKLOG_LIMIT + 1):
        subscriber.put(_change(ident))
    assert subscriber.overflowed
    assert len(subscriber.messages) == 0


def test_the_memory_broker_delivers_in_the_loop_from_another_thread() -> None:
    async def scenario() -> list[dict[str, object]]:
        hub, broker = Hub(), MemoryBroker()
        hub.loop = asyncio.get_running_loop()
        relay = asyncio.create_task(broker.relay(hub))
        await asyncio.sleep(0)
        subscriber = Subscriber(("project:7",))
        hub.subscribe(subscriber)
        await asyncio.to_thread(broker.publish, [_change(5)])
        await asyncio.wait_for(subscriber.wakeup.wait(), 5)
        relay.cancel()
        return list(subscriber.messages)

    assert asyncio.run(scenario()) == [_change(5)]


def test_a_memory_broker_without_streams_drops_messages() -> None:
    MemoryBroker().publish([_change(1)])  # a Waitress process or the worker: no error


def test_notifications_are_split_below_postgresqls_payload_limit() -> None:
    messages = [_change(ident) for ident in range(400)]
    chunks = list(_chunks(messages, limit=1000))
    assert len(chunks) > 1
    assert all(len(chunk) <= 1000 for chunk in chunks)
    assert [m for chunk in chunks for m in orjson.loads(chunk)] == messages


def test_the_broker_follows_the_url() -> None:
    assert isinstance(build_broker("memory:", "taskdesk"), MemoryBroker)
    redis = build_broker("redis://127.0.0.1:6379/0", "site-a")
    assert isinstance(redis, RedisBroker)
    assert redis.channel == "site-a:live"
    postgres = build_broker("postgresql+psycopg://u@db:5432/t", "site-a")
    assert isinstance(postgres, PostgresBroker)
    assert postgres.url == "postgresql://u@db:5432/t"
    assert postgres.channel == "site-a_live"
    assert len(build_broker("postgresql://db/t", "n" * 64).channel) == 63
    assert libpq_url("postgresql://u@h/d") == "postgresql://u@h/d"
