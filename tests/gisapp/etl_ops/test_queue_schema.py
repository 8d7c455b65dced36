"""`gisapp db upgrade` on a fresh database creates the job queue's schema, once."""
from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from gisapp.cli import cli
from gisapp.db import provision
from gisapp.db.queue_schema import ensure_queue_schema


@pytest.fixture()
def fresh_url(test_url: str):
    """A new, empty database beside the test database; dropped afterwards."""
    base, _, name = test_url.rpartition("/")
    fresh = sql.Identifier(f"{name}_fresh")
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(fresh)
    with psycopg.connect(test_url, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(fresh))
    url = f"{base}/{name}_fresh"
    provision.ensure_database(url, log=lambda m: None)  # the extensions
    yield url
    with psycopg.connect(test_url, autocommit=True) as conn:
        conn.execute(drop)


def test_db_upgrade_on_a_fresh_database_creates_the_queue(fresh_url):
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={"DATABASE_URL": fresh_url})
    assert result.exit_code == 0, result.output
    with psycopg.connect(fresh_url) as conn:
        found = conn.execute(
            "SELECT to_regclass('public.procrastinate_jobs') IS NOT NULL,"
            " to_regprocedure('procrastinate_defer_jobs_v1(procrastinate_job_to_defer_v1[])')"
            " IS NOT NULL").fetchone()
    assert found == (True, True)
    assert ensure_queue_schema(fresh_url) is False  # a second upgrade leaves it alone
