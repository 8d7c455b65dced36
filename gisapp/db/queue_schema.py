"""procrastinate's own tables (the job queue), created beside the Alembic-managed schema.

They are not in the store's metadata (env.py leaves `procrastinate_*` alone), so
the queue library owns them; `gisapp db upgrade` creates them once, idempotently.
procrastinate is pinned to one minor version: upgrading it means applying its
migration files from `procrastinate/sql/migrations` here.
"""
from __future__ import annotations

import psycopg
from procrastinate.schema import SchemaManager

from gisapp.db.provision import libpq_url

QUEUE_TABLE_PREFIX = "procrastinate_"


def ensure_queue_schema(url: str) -> bool:
    """Create the queue schema if missing; True when it was created now."""
    with psycopg.connect(libpq_url(url)) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('gisapp.queue_schema'))")
        if conn.execute("SELECT to_regclass('public.procrastinate_jobs')").fetchone()[0]:
            return False
        conn.execute(SchemaManager.get_schema())  # no parameters: '%' in it is literal
        return True
