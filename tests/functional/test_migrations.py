"""Migrations produce exactly the models' schema, and go down and up again, on both backends.

Each test gets a database of its own: the shared session engine is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from taskdesk.migrations import alembic_config, downgrade, upgrade
from taskdesk.models import UNMANAGED_SCHEMA_NAMES, Base, get_engine
from tests.support.databases import INI, create_database


@pytest.fixture
def empty_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    for url in create_database(backend, tmp_path_factory):
        engine = get_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """As alembic/env.py: the hand-made full-text machinery is not in the models."""
    return name not in UNMANAGED_SCHEMA_NAMES


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """As alembic/env.py: UTCDateTime is rendered as a timezone-aware DateTime."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "target_metadata": Base.metadata,
            "compare_type": True,
            "include_name": include_name,
            "render_item": render_item,
            "render_as_batch": True,
        })
        return list(compare_metadata(context, Base.metadata))


def alembic_check(engine: Engine) -> None:
    """Alembic's own ``check`` through env.py: fails when autogenerate would write anything."""
    config = alembic_config(INI)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config(INI)).get_current_head()
    assert head is not None
    return head


def user_tables(engine: Engine) -> set[str]:
    names = set(inspect(engine).get_table_names())
    return {n for n in names if n not in UNMANAGED_SCHEMA_NAMES and not n.startswith("sqlite_")}


def test_upgrade_head_on_an_empty_database_is_exactly_the_models(empty_engine: Engine) -> None:
    assert user_tables(empty_engine) == set()
    upgrade(empty_engine, INI)
    assert current_revision(empty_engine) == head_revision()
    assert user_tables(empty_engine) == set(Base.metadata.tables) | {"alembic_version"}
    differences = schema_differences(empty_engine)
    assert differences == [], f"migrations and models differ: {differences}"
    alembic_check(empty_engine)


def test_downgrade_base_then_upgrade_head(empty_engine: Engine) -> None:
    upgrade(empty_engine, INI)
    downgrade(empty_engine, INI, "base")
    assert current_revision(empty_engine) is None
    assert user_tables(empty_engine) <= {"alembic_version"}
    assert not set(inspect(empty_engine).get_table_names()) & UNMANAGED_SCHEMA_NAMES

    upgrade(empty_engine, INI)
    assert current_revision(empty_engine) == head_revision()
    differences = schema_differences(empty_engine)
    assert differences == [], f"migrations and models differ after down and up: {differences}"


def test_every_revision_steps_down_and_up(empty_engine: Engine) -> None:
    """Each revision's downgrade undoes exactly its upgrade."""
    script = ScriptDirectory.from_config(alembic_config(INI))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        upgrade(empty_engine, INI, revision)
        tables = user_tables(empty_engine)
        downgrade(empty_engine, INI, "-1")
        upgrade(empty_engine, INI, revision)
        assert user_tables(empty_engine) == tables
        assert current_revision(empty_engine) == revision


def test_search_stems_rebuilds_the_search_bodies(empty_engine: Engine, settings: Any) -> None:
    """0013 rewrites every task's search body with stems (and back on the way down), so
    tasks written before it are found by other forms of their words."""
    from sqlalchemy import select, text
    from sqlalchemy.orm import Session

    from taskdesk.domain.comments import add_comment
    from taskdesk.domain.search import matching_task_ids, search_expression
    from tests.support.factories import Factory

    upgrade(empty_engine, INI)
    with Session(empty_engine) as session:
        factory = Factory(session, settings)
        project = factory.project(slug="stems")
        task = factory.task(project, title="Database migration")
        factory.task(project, title="迁移数据库")
        add_comment(session, task, factory.user(), {"body": "Deploying soon"})
        session.commit()
    bodies = "SELECT body FROM task_search ORDER BY task_id"
    downgrade(empty_engine, INI, "0011")
    with empty_engine.connect() as connection:
        assert list(connection.execute(text(bodies)).scalars()) == [
            "database migration deploying soon", "迁 移 数 据 库"]
    upgrade(empty_engine, INI)
    dialect = empty_engine.dialect.name
    with empty_engine.connect() as connection:
        assert list(connection.execute(text(bodies)).scalars()) == [
            "databas migrat deploy soon database migration deploying soon", "迁 移 数 据 库"]
        for query, found in (("migrating", 1), ("deploys", 1), ("数据", 1)):
            ids = connection.execute(select(matching_task_ids(dialect).subquery()),
                                     {"search": search_expression(dialect, query)}).all()
            assert len(ids) == found, query
