"""Alembic, driven from code: the migrations live in the top-level `migrations/` folder."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from .localdb import project_root


def migrations_dir() -> Path:
    """The folder holding env.py and versions/."""
    return project_root() / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic Config for `database_url`, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "-1") -> None:
    """Migrate the database down to `revision` (default: one step)."""
    command.downgrade(alembic_config(database_url), revision)


@cache
def head_revision() -> str | None:
    """The newest revision in migrations/versions."""
    return ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()


def current_revision(connection: sa.Connection) -> str | None:
    """The revision the connected database is at (None before the first migration)."""
    return MigrationContext.configure(connection).get_current_revision()
