"""Alembic environment: the database URL comes from the same INI the application reads."""

from __future__ import annotations

from alembic import context
from pyramid.paster import get_appsettings, setup_logging

from taskdesk.models import UNMANAGED_SCHEMA_NAMES, Base, get_engine
from taskdesk.settings import resolve_database_url

config = context.config
config_file = config.config_file_name
assert config_file is not None, "run alembic with -c development.ini (or another INI)"
setup_logging(config_file)
settings = get_appsettings(config_file)
target_metadata = Base.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write the UTC timestamp type as a plain timezone-aware DateTime in revisions."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the full-text index machinery the migrations make by hand out of comparisons."""
    return name not in UNMANAGED_SCHEMA_NAMES


def run_migrations_offline() -> None:
    context.configure(url=resolve_database_url(settings), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed in by the test suite or the taskdesk command
        _run(connection)
        return
    engine = get_engine(resolve_database_url(settings))
    with engine.connect() as connection:
        _run(connection)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=render_item,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
