"""Alembic, configured in code: upgrade, current revision, head."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from gisapp.db.engine import sqlalchemy_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations, then make sure the job queue's own schema exists."""
    from gisapp.db.queue_schema import ensure_queue_schema

    command.upgrade(alembic_config(url), revision)
    ensure_queue_schema(url)


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("postgresql://x@h/d")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
