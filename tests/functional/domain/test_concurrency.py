"""Task numbers under concurrency: 20 simultaneous creates in one project get 1..20.

Each thread is a request of its own: its own session and transaction manager on a real,
committed database (not the rolled-back test connection), released together by a barrier.
A ``DatabaseBusyError`` on SQLite would mean the busy timeout failed to absorb the
contention: that is a bug, so the test does not retry.
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
from taskdesk.domain.errors import ValidationError
from taskdesk.domain.rights import UNRESTRICTED
from taskdesk.domain.schema import plain_text
from taskdesk.models import Project, Task, User, get_session_factory, get_tm_session
from taskdesk.settings import TaskdeskSettings, parse_settings
from tests.support.apps import app_settings
from tests.support.databases import create_database, migrated_engine
from tests.support.factories import Factory

pytestmark = pytest.mark.slow

WRITERS = 20


@pytest.fixture
def committed(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, TaskdeskSettings, int, int]]:
    """A fresh database holding one committed project and its manager."""
    for url in create_database(backend, tmp_path_factory):
        engine = migrated_engine(url)
        settings = parse_settings(app_settings(url))
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(get_session_factory(engine), manager)
            owner = Factory(dbsession, settings).user("racer")
            project = projects.create_project(dbsession, owner, {"slug": "race", "name": "Race"})
            dbsession.flush()
            ids = project.id, owner.id
        try:
            yield engine, settings, *ids
        finally:
            engine.dispose()


def test_concurrent_creates_number_without_gaps_or_duplicates(
    committed: tuple[Engine, TaskdeskSettings, int, int],
) -> None:
    engine, settings, project_id, owner_id = committed
    session_factory = get_session_factory(engine)
    barrier = threading.Barrier(WRITERS)
    numbers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def create(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            manager = transaction.TransactionManager(explicit=True)
            with manager:
                dbsession = get_tm_session(session_factory, manager)
                project = dbsession.get(Project, project_id)
                actor = dbsession.get(User, owner_id)
                assert project is not None
                assert actor is not None
                task = tasks.create_task(dbsession, settings, project, actor,
                                         {"title": f"Concurrent task {index}"}, may=UNRESTRICTED)
                number = task.number
            with lock:
                numbers.append(number)
        except BaseException as error:  # reported below, with the thread's index
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert errors == [], f"{len(errors)} of {WRITERS} creates failed: {errors!r}"
    assert sorted(numbers) == list(range(1, WRITERS + 1))

    with engine.connect() as connection:
        stored = connection.scalars(
            select(Task.number).where(Task.project_id == project_id).order_by(Task.number)
        ).all()
        counter = connection.scalar(
            select(Project.task_counter).where(Project.id == project_id)
        )
    assert list(stored) == list(range(1, WRITERS + 1))
    assert counter == WRITERS


def test_two_tasks_made_each_others_parent_at_once_make_no_cycle(
    committed: tuple[Engine, TaskdeskSettings, int, int],
) -> None:
    """Each of two requests makes the other's task its parent: the first wins, the second
    (which waits for the first's row locks on PostgreSQL, its write lock on SQLite) sees that
    change and is refused; never both."""
    engine, settings, project_id, owner_id = committed
    session_factory = get_session_factory(engine)
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(session_factory, manager)
        project = dbsession.get(Project, project_id)
        actor = dbsession.get(User, owner_id)
        assert project is not None
        assert actor is not None
        pair = [tasks.create_task(dbsession, settings, project, actor, {"title": title},
                                  may=UNRESTRICTED).number for title in ("A", "B")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def make_parent(number: int, parent: int) -> None:
        try:
            barrier.wait(timeout=30)
            manager = transaction.TransactionManager(explicit=True)
            with manager:
                dbsession = get_tm_session(session_factory, manager)
                task = dbsession.scalars(
                    select(Task).options(joinedload(Task.project))
                    .where(Task.project_id == project_id, Task.number == number)).one()
                actor = dbsession.get(User, owner_id)
                assert actor is not None
                tasks.update_task(dbsession, settings, task, actor, {"parent": parent},
                                  may=UNRESTRICTED)
            outcome = "saved"
        except ValidationError as error:
            outcome = f"refused: {plain_text(error.fields['parent'])}"
        except BaseException as error:  # reported below
            outcome = f"failed: {error!r}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=make_parent, args=(pair[0], pair[1])),
               threading.Thread(target=make_parent, args=(pair[1], pair[0]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "saved"], outcomes
    with engine.connect() as connection:
        linked = connection.execute(
            select(Task.number, Task.parent_id).where(Task.project_id == project_id,
                                                      Task.parent_id.is_not(None))).all()
    assert len(linked) == 1
