"""Run the Alembic migrations named by an INI file's ``[alembic]`` section."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine


def alembic_config(ini_path: str) -> Config:
    return Config(ini_path, ini_section="alembic")


def revision_names(ini_path: str) -> list[str]:
    """The revisions of the INI's migration scripts, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(ini_path))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, ini_path: str, revision: str = "head") -> None:
    config = alembic_config(ini_path)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, ini_path: str, revision: str = "base") -> None:
    config = alembic_config(ini_path)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
