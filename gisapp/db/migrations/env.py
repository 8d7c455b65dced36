"""Alembic environment: target metadata is the store's (derived from the registry) and the app's."""
from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from gisapp.db.tables import metadata
from store.tables import EXPRESSION_INDEXES

config = context.config


def include_object(obj, name, type_, reflected, compare_to):
    # PostGIS and extension tables are not ours.
    if type_ == "table" and name in {"spatial_ref_sys", "layer", "topology"}:
        return False
    # The job queue's tables belong to procrastinate (gisapp.db.queue_schema).
    if type_ == "table" and name.startswith("procrastinate_"):
        return False
    # Alembic cannot compare expression indexes reliably (PostgreSQL rewrites the expression).
    if type_ == "index" and name in EXPRESSION_INDEXES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_object=include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
