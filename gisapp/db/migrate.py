"""Alembic, configured in code: upgrade, current revision, head, new revisions."""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy import Engine, create_engine, pool

from gisapp.db.engine import sqlalchemy_url
from gisapp.db.tables import metadata
from store.sensor_tables import PARTITIONED_TABLES
from store.tables import EXPRESSION_INDEXES

MIGRATIONS = Path(__file__).parent / "migrations"
VERSIONS = MIGRATIONS / "versions"


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What autogenerate compares: our tables and indexes, not PostGIS's or the job queue's."""
    # PostGIS and extension tables are not ours.
    if type_ == "table" and name in {"spatial_ref_sys", "layer", "topology"}:
        return False
    # The job queue's tables belong to procrastinate (gisapp.db.queue_schema).
    if type_ == "table" and name.startswith("procrastinate_"):
        return False
    # Partitions belong to pg_partman (migration 0012); the parent is compared.
    if type_ == "table" and reflected and name.startswith(
            tuple(f"{parent}_" for parent in PARTITIONED_TABLES)):
        return False
    # Alembic cannot compare expression indexes reliably (PostgreSQL rewrites the expression):
    # one the database has is left alone, one it lacks is created.
    if type_ == "index" and name in EXPRESSION_INDEXES and (reflected or compare_to is not None):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


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


def pending_changes(url: str) -> list:
    """What the database at `url` lacks or has beyond the registry-derived metadata."""
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include_object,
                                                             "compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def next_revision_id() -> str:
    """The head's number plus one, as wide as it ("0009" -> "0010")."""
    head = head_revision()
    return str(int(head) + 1).zfill(len(head)) if head and head.isdigit() else "0001"


def new_revision(url: str, message: str, directory: Path | None = None,
                 rev_id: str | None = None) -> Path:
    """Autogenerate a migration: the database at `url` (at head) against the registry.

    The file goes to the versions folder, or to `directory` (a review copy, or a test's).
    """
    cfg = alembic_config(url)
    target = Path(directory or VERSIONS)
    cfg.set_main_option("path_separator", "os")
    locations = [VERSIONS] if target.resolve() == VERSIONS.resolve() else [VERSIONS, target]
    cfg.set_main_option("version_locations", os.pathsep.join(map(str, locations)))
    script = command.revision(cfg, message, autogenerate=True, rev_id=rev_id or next_revision_id(),
                              version_path=str(target))
    return Path(script.path)
