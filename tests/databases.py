"""The test databases: names derived from TEST_DATABASE_URL, clones, and the scratch reset.

Every name derives from the test database's, plus the pytest-xdist worker id when tests run
in parallel (`gisapp_test_gw0`, `gisapp_test_gw0_scratch`), so helpers, CI and workers never
share a database. A worker's test database is a clone of the demo-city test database
(`CREATE DATABASE … TEMPLATE`, about a second), made again only when the demo city changed.

Resetting the scratch database between tests empties only the tables a test wrote and
restarts only the sequences it drew from. Measured on PostgreSQL 15 (2 cores shared with
other work): truncating all 35 tables took 130–430 ms; cloning a migrated template took
150–220 ms but dropping the clone again forces a checkpoint (3–7 s, minutes when the
cluster is busy); the selective reset took 75–90 ms, 20 of them the connection, and takes
about 13 ms on a connection kept open with its query prepared.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import psycopg
from psycopg import sql

from gisapp.db import migrate, provision

KEEP_TABLES = {"spatial_ref_sys", "alembic_version"}
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … under pytest -n N


def dbname(url: str) -> str:
    """The database a URL names."""
    return provision.libpq_url(url).rpartition("/")[2].split("?")[0]


def with_dbname(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    base, _, _ = provision.libpq_url(url).rpartition("/")
    return f"{base}/{name}"


def per_worker(url: str) -> str:
    """The URL this test process uses in place of `url`: its own under pytest-xdist."""
    return with_dbname(url, f"{dbname(url)}_{WORKER}") if WORKER else provision.libpq_url(url)


@contextmanager
def locked(name: str) -> Iterator[None]:
    """One test process at a time (xdist workers of one run) for the block."""
    path = Path(tempfile.gettempdir()) / f"gisapp-tests-{name}.lock"
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare(url: str, admin_url: str) -> None:
    """Create (where missing), provision and migrate the database of `url`."""
    if not provision.is_local_url(url):
        with psycopg.connect(provision.libpq_url(admin_url), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (dbname(url),)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname(url))))
    provision.ensure_database(url, log=lambda m: None)
    migrate.upgrade(url)


def _stamp(url: str) -> tuple | None:
    """What says a clone still matches its template: the migration head and the last run."""
    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT (SELECT max(version_num) FROM alembic_version),"
                                " (SELECT max(id) FROM etl_runs)").fetchone()
    except psycopg.Error:
        return None


def clone(template_url: str, name: str) -> str:
    """A database `name` copied from the template's; an existing copy is kept while it has the
    template's migration head and last ETL run (dropping forces a checkpoint: seconds)."""
    target = with_dbname(template_url, name)
    if _stamp(target) is not None and _stamp(target) == _stamp(template_url):
        return target
    with psycopg.connect(with_dbname(template_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        deadline = time.monotonic() + 60
        while True:  # the template must have no other session for the instant of the copy
            try:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(dbname(template_url))))
                break
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    return target


def public_tables(url: str) -> list[str]:
    """The tables a reset empties: every table of schema public but PostGIS's and Alembic's,
    partitions left to their parent (the observations' 64 would double the reset's query)."""
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY relname")
            if r[0] not in KEEP_TABLES]


def written_tables_query(tables: list[str]) -> sql.Composed:
    """One statement naming the tables that hold a row."""
    return sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {} WHERE EXISTS (SELECT FROM {})").format(
            sql.Literal(t), sql.Identifier(t)) for t in tables)


_RESET_CONNECTIONS: dict[str, psycopg.Connection] = {}


def _reset_connection(url: str) -> psycopg.Connection:
    """This process's connection for resets of `url`, kept open (a new one costs 13-20 ms, a
    reset before each of about 600 tests) and opened again when a test dropped it."""
    conn = _RESET_CONNECTIONS.get(url)
    if conn is not None and not conn.closed:
        try:
            conn.execute("SELECT 1")
            return conn
        except psycopg.OperationalError:
            conn.close()
    conn = _RESET_CONNECTIONS[url] = psycopg.connect(url, autocommit=True)
    return conn


def reset(url: str, tables: list[str]) -> None:
    """Empty the tables holding rows and restart the sequences that were drawn from."""
    conn = _reset_connection(url)
    # the same query every time: prepared once on the kept connection
    written = [r[0] for r in conn.execute(written_tables_query(tables), prepare=True)]
    if written:
        conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in written)))
    drawn = conn.execute("SELECT schemaname, sequencename FROM pg_sequences"
                         " WHERE last_value IS NOT NULL AND schemaname = 'public'").fetchall()
    for schema, sequence in drawn:
        conn.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(
            sql.Identifier(schema, sequence)))


def _world_state(conn: psycopg.Connection, tables: list[str]) -> dict[str, str]:
    """What a world is: each table's rows (an md5 of them, in order) and its sequences' values."""
    rows = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, (SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text))"
                " FROM {} t)").format(sql.Literal(t), sql.Identifier(t)) for t in tables)
    state = {name: digest for name, digest in conn.execute(rows)}
    for table, sequence, value in _sequences(conn):
        if table in state:
            state[f"{table}:{sequence}"] = str(value)
    return state


def _sequences(conn: psycopg.Connection) -> list[tuple[str, str, int | None]]:
    """(table, sequence, last value) of every sequence a public table owns (identity, serial)."""
    return conn.execute(
        "SELECT t.relname, s.relname, q.last_value FROM pg_class s"
        " JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass"
        "  AND d.refclassid = 'pg_class'::regclass"
        " JOIN pg_class t ON t.oid = d.refobjid"
        " JOIN pg_sequences q ON q.schemaname = 'public' AND q.sequencename = s.relname"
        " WHERE s.relkind = 'S' AND t.relnamespace = 'public'::regnamespace").fetchall()


def _delete_rows(conn: psycopg.Connection, tables: list[str]) -> bool:
    """DELETE every row of the tables, in passes until the referencing ones are gone first;
    False when a row stays referenced (by a world row: the world must be built again)."""
    left = tables
    while left:
        failed = []
        for table in left:
            try:
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            except psycopg.errors.ForeignKeyViolation:
                failed.append(table)
        if len(failed) == len(left):
            return False
        left = failed
    return True


class KeptWorld:
    """A world built into the scratch database once and kept while tests leave it as built.

    `ensure(build)` compares the world's tables (their rows and sequences) with what `build`
    left; when they match it empties only the other tables that hold rows (what the last test
    wrote: users, audit entries) and restarts their sequences, else it resets the database and
    builds again. A test therefore sees exactly the freshly built world, whatever ran before.
    """

    def __init__(self, url: str, tables: list[str]) -> None:
        self.url, self.tables = url, tables
        self.build: Callable[[str], None] | None = None
        self.state: dict[str, str] = {}
        self.builds = 0  # how many times a world was built (apps over it are made again)

    def ensure(self, build: Callable[[str], None]) -> str:
        """The scratch database holding the world `build` makes; returns its URL."""
        if build is self.build and self._keep():
            return self.url
        reset(self.url, self.tables)
        build(self.url)
        self.builds += 1
        conn = _reset_connection(self.url)
        self.build, self.state = build, _world_state(conn, self._written(conn))
        return self.url

    def _written(self, conn: psycopg.Connection) -> list[str]:
        return [r[0] for r in conn.execute(written_tables_query(self.tables), prepare=True)]

    def _keep(self) -> bool:
        """Empty what the last test added outside the world; False if the world changed."""
        world = {t for t in self.state if ":" not in t}
        conn = _reset_connection(self.url)
        written = self._written(conn)
        if not world <= set(written) or _world_state(conn, sorted(world)) != self.state:
            return False
        extra = [t for t in written if t not in world]
        if extra:
            try:  # no CASCADE: a world table referencing one of them means rebuilding
                conn.execute(sql.SQL("TRUNCATE {}").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in extra)))
            except psycopg.errors.FeatureNotSupported:  # a world table may refer to one
                if not _delete_rows(conn, extra):
                    return False
        for table, sequence, value in _sequences(conn):
            if table not in world and value is not None:
                conn.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(
                    sql.Identifier("public", sequence)))
        return True
