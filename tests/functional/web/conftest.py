"""Fixtures for the web UI tests (the admin and profile pages too): a small project world, a
SQL statement counter, and more browsers signed in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import webtest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.support.factories import Factory
from tests.support.web import login


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


@pytest.fixture
def make_task(factory: Factory) -> Callable[..., Any]:
    """``factory.task`` that also flushes the activity entry the creation wrote."""

    def make(project: Any, actor: Any = None, **values: Any) -> Any:
        task = factory.task(project, actor, **values)
        factory.dbsession.flush()
        return task

    return make


@pytest.fixture
def signed_in(make_testapp: Callable[[], webtest.TestApp]) -> Callable[[str], webtest.TestApp]:
    """``signed_in(username)``: another browser, signed in as ``username``."""

    def sign_in(username: str, password: str = Factory.PASSWORD) -> webtest.TestApp:
        app = make_testapp()
        assert login(app, username, password).status_int == 303
        return app

    return sign_in
