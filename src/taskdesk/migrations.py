"""Run the Alembic migrations named by an INI file's ``[alembic]`` section."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine


def alembic_config(ini_path: str) -> Config:
    return Config(ini_path, ini_section="alembic")


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
