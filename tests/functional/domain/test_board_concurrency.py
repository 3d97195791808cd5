"""Board moves at once: two requests put two cards into the same gap; both land, in a
deterministic order (same rank, then by id), and the column stays whole.

Each thread is a request of its own on a committed database (see test_concurrency.py); the
barrier releases them together, after each has read the column, so both compute the same
midpoint. On SQLite the writes queue on its write lock; PostgreSQL runs them side by side.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import transaction
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload

from taskdesk.domain import projects, tasks
from taskdesk.domain.board import move_task
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.models import Task, User, get_session_factory, get_tm_session
from taskdesk.settings import TaskdeskSettings, parse_settings
from tests.support.apps import app_settings
from tests.support.databases import create_database, migrated_engine
from tests.support.factories import Factory

pytestmark = pytest.mark.slow


@pytest.fixture
def column(backend: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Engine, TaskdeskSettings, int, int]]:
    """A committed project whose open column holds, top to bottom: top, bottom, a, b."""
    if backend == "sqlite":
        pytest.skip("SQLite runs writers one after the other (BEGIN IMMEDIATE): two moves "
                    "cannot read the column before either writes")
    for url in create_database(backend, tmp_path_factory):
        engine = migrated_engine(url)
        settings = parse_settings(app_settings(url))
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(get_session_factory(engine), manager)
            owner = Factory(dbsession, settings).user("mover")
            project = projects.create_project(dbsession, owner, {"slug": "moves", "name": "M"})
            for title in ("b", "a", "bottom", "top"):
                tasks.create_task(dbsession, settings, project, owner, {"title": title},
                                  may=UNRESTRICTED)
            dbsession.flush()
            ids = project.id, owner.id
        try:
            yield engine, settings, *ids
        finally:
            engine.dispose()


def _order(engine: Engine, project_id: int) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(Task.status, Task.title).where(Task.project_id == project_id)
            .order_by(Task.status, Task.rank, Task.id))]


def test_two_moves_into_the_same_gap_both_land(
        column: tuple[Engine, TaskdeskSettings, int, int]) -> None:
    engine, settings, project_id, owner_id = column
    session_factory = get_session_factory(engine)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def move(title: str, status: str) -> None:
        try:
            manager = transaction.TransactionManager(explicit=True)
            with manager:
                dbsession = get_tm_session(session_factory, manager)
                actor = dbsession.get(User, owner_id)
                task = dbsession.scalars(select(Task).where(
                    Task.project_id == project_id, Task.title == title)).one()
                top = dbsession.scalars(select(Task.number).where(
                    Task.project_id == project_id, Task.title == "top")).one()
                assert actor is not None
                dbsession.execute(select(Task.rank).where(Task.project_id == project_id)).all()
                barrier.wait(timeout=30)
                move_task(dbsession, settings, task, actor, {"status": status, "after": top},
                          may=UNRESTRICTED, wip_limits={})
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=move, args=args)
               for args in (("a", "open"), ("b", "open"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a move hung"
    assert errors == []
    # Both right after "top"; when both read the column before either wrote (the usual
    # case here), they share a rank and stand by id ("b" was created first).
    order = _order(engine, project_id)
    assert order[0] == ("open", "top")
    assert order[3] == ("open", "bottom")
    assert sorted(order[1:3]) == [("open", "a"), ("open", "b")]
    with engine.connect() as connection:
        ranks = {title: rank for title, rank in connection.execute(
            select(Task.title, Task.rank).where(Task.project_id == project_id,
                                                Task.title.in_(("a", "b"))))}
    if ranks["a"] == ranks["b"]:
        assert order[1:3] == [("open", "b"), ("open", "a")]


def test_two_cards_moved_to_another_column_at_once_both_land(
        column: tuple[Engine, TaskdeskSettings, int, int]) -> None:
    engine, settings, project_id, owner_id = column
    session_factory = get_session_factory(engine)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def move(title: str) -> None:
        try:
            manager = transaction.TransactionManager(explicit=True)
            with manager:
                dbsession = get_tm_session(session_factory, manager)
                actor = dbsession.get(User, owner_id)
                task = dbsession.scalars(select(Task).options(joinedload(Task.project)).where(
                    Task.project_id == project_id, Task.title == title)).one()
                assert actor is not None
                barrier.wait(timeout=30)
                move_task(dbsession, settings, task, actor, {"status": "done"},
                          may=UNRESTRICTED, wip_limits={})
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=move, args=(title,)) for title in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    order = _order(engine, project_id)
    assert sorted(order[:2]) == [("done", "a"), ("done", "b")]
    assert order[2:] == [("open", "top"), ("open", "bottom")]
