"""Fixtures for the web UI tests: a small project world and a SQL statement counter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.support.factories import Factory


@dataclass
class World:
    """A private project with a manager, a member, a viewer; an outsider; an admin."""

    manager: Any
    member: Any
    viewer: Any
    outsider: Any
    admin: Any
    project: Any


@pytest.fixture
def world(factory: Factory) -> World:
    manager = factory.user("manny", display_name="Manny Manager")
    member = factory.user("mia", display_name="Mia Member")
    viewer = factory.user("vic", display_name="Vic Viewer")
    outsider = factory.user("olga", display_name="Olga Outsider")
    admin = factory.user("ada", admin=True, display_name="Ada Admin")
    project = factory.project(manager, slug="apollo", name="Apollo",
                              members={member: "member", viewer: "viewer"})
    return World(manager, member, viewer, outsider, admin, project)


@contextmanager
def _counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def count_statements(engine: Engine) -> Callable[[], Any]:
    """``with count_statements() as statements:`` collects every SQL statement run."""
    return lambda: _counting(engine)


def find_form(page: Any, action_suffix: str, method: str = "post") -> Any:
    """The one form of ``page`` whose action ends with ``action_suffix``."""
    found = [f for f in page.forms.values()
             if (f.action or "").endswith(action_suffix) and f.method.lower() == method]
    assert len(found) == 1, (action_suffix, [f.action for f in page.forms.values()])
    return found[0]


@pytest.fixture
def make_task(factory: Factory) -> Callable[..., Any]:
    """``factory.task`` that also flushes the activity entry the creation wrote."""

    def make(project: Any, actor: Any = None, **values: Any) -> Any:
        task = factory.task(project, actor, **values)
        factory.dbsession.flush()
        return task

    return make
