"""SQLite writers of one process take turns in arrival order (issue 18), on a real database
file through the engine Taskdesk builds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from taskdesk.models import DatabaseBusyError, get_engine, read_only_engine
from taskdesk.models.writers import WriterQueue


def _until(condition: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = get_engine(f"sqlite:///{tmp_path / 'writers.sqlite'}", sqlite_busy_timeout=5000)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE turns (id INTEGER PRIMARY KEY, writer INTEGER)"))
    yield engine
    engine.dispose()


def _queue(engine: Engine) -> WriterQueue:
    queue = getattr(engine.dialect, "writers", None)
    assert isinstance(queue, WriterQueue)
    return queue


def test_writers_write_in_the_order_they_arrived(engine: Engine) -> None:
    queue = _queue(engine)
    holder = engine.connect()
    holder.begin()
    holder.execute(text("INSERT INTO turns (writer) VALUES (0)"))
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO turns (writer) VALUES (:w)"), {"w": writer})
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = []
    for writer in range(1, 7):
        thread = threading.Thread(target=write, args=(writer,))
        thread.start()
        threads.append(thread)
        # The next writer arrives only once this one is in line.
        _until(lambda count=writer: queue.waiting == count)
    holder.commit()
    holder.close()
    for thread in threads:
        thread.join(20)
    assert errors == []
    with engine.connect() as connection:
        order = connection.scalars(text("SELECT writer FROM turns ORDER BY id")).all()
    assert order == [0, 1, 2, 3, 4, 5, 6]
    assert queue.waiting == 0


def test_a_writer_gives_up_after_the_busy_timeout(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'busy.sqlite'}", sqlite_busy_timeout=200)
    try:
        holder = engine.connect()
        holder.begin()
        refused: list[BaseException] = []

        def write() -> None:
            try:
                with engine.begin():
                    pass
            except DatabaseBusyError as error:
                refused.append(error)

        thread = threading.Thread(target=write)
        started = time.monotonic()
        thread.start()
        thread.join(10)
        assert len(refused) == 1
        assert time.monotonic() - started >= 0.2
        # Giving up left the line as it was: the holder's turn ends normally and the next
        # writer gets in at once.
        assert _queue(engine).waiting == 0
        holder.rollback()
        holder.close()
        with engine.begin() as connection:
            assert connection.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()


def test_a_rolled_back_or_failed_transaction_hands_the_turn_on(engine: Engine) -> None:
    with pytest.raises(Exception, match="no such table"), engine.begin() as connection:
        connection.execute(text("INSERT INTO missing VALUES (1)"))
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO turns (writer) VALUES (1)"))
    with engine.connect() as connection:
        connection.begin()
        connection.execute(text("INSERT INTO turns (writer) VALUES (2)"))
        connection.rollback()
    with engine.begin() as connection:
        assert connection.scalar(text("SELECT count(*) FROM turns")) == 1


def test_readers_do_not_wait_for_writers(engine: Engine) -> None:
    """Read-only requests begin DEFERRED on their own engine: they read beside a writer."""
    reader = read_only_engine(engine)
    holder = engine.connect()
    holder.begin()
    holder.execute(text("INSERT INTO turns (writer) VALUES (1)"))
    try:
        with reader.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM turns")) == 0
    finally:
        holder.rollback()
        holder.close()


def test_the_turn_passes_to_a_writer_whose_wait_is_just_ending() -> None:
    queue = WriterQueue(timeout=5)
    first, second = object(), object()
    assert queue.acquire(first)
    got: list[bool] = []
    thread = threading.Thread(target=lambda: got.append(queue.acquire(second)))
    thread.start()
    _until(lambda: queue.waiting == 1)
    queue.release(object())  # not the holder: nothing happens
    assert queue.waiting == 1
    queue.release(first)
    thread.join(5)
    assert got == [True]
    queue.release(second)
    assert queue.acquire(first)
