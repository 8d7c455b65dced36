"""First loads into an empty layer: shadow tables filled, indexed on several connections, moved in.

A large first load (BULK_MIN_ROWS or more valid rows in the first batch) into a layer whose
table and history are empty COPies its rows into a table of the same name in schema
etl_load, in the transaction that creates it (no WAL under wal_level=minimal), and commits
it. Other connections can then work on it at the same time: PostgreSQL builds one index per
backend, so the table's indexes, its history rows and their indexes and the overview are
built side by side (on 2 cores, two at a time). The caller's load transaction then checks
that the layer is still empty, drops its empty tables and moves the shadows in (ALTER TABLE
SET SCHEMA takes their indexes, keys and identity sequence along) and replaces the overview
rows: a short transaction, the only one that locks the layer's tables. Until it commits the
layer is untouched; a failed or killed load leaves shadow tables that discard() or the
layer's next first load drops.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Callable

import numpy as np
import pandas as pd
import psycopg
import shapely
from psycopg import sql

from etl.bulk_indexes import BULK_MIN_ROWS
from etl.errors import ImportRefused
from etl.load import BatchCopy, Box, LoadOutcome
from etl.overviews import encode_overview_tiles, overview_columns, refresh_overview
from layers import Layer

SHADOW_SCHEMA = "etl_load"  # migration 0017
BUILD_CONNECTIONS = 4  # 2 cores: two builds run while others wait on I/O or locks
BUILD_MAINTENANCE_MEM = "256MB"  # per build connection (sorts of the btree and GiST builds)
OVERVIEW_PARTS = 2  # the overview is the longest build (4 s of 200,000 parcels' 11 s)

Task = Callable[[psycopg.Connection], list["Task"]]  # runs on a build connection, may add tasks


def _is_empty(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(
        sql.Identifier("public", table))).fetchone()[0]


def _is_plain(conn: psycopg.Connection, table: str) -> bool:
    """True when moving a new table in keeps all there is: no grants, triggers, policies,
    options, foreign keys either way, dependent views; owned by this role (it drops it)."""
    return conn.execute(
        "SELECT c.relacl IS NULL AND c.reloptions IS NULL AND NOT c.relrowsecurity"
        " AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        " AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.contype = 'f'"
        "                 AND (k.conrelid = c.oid OR k.confrelid = c.oid))"
        " AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid"
        "                 WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = c.oid"
        "                 AND r.ev_class <> c.oid)"
        " FROM pg_class c WHERE c.oid = %s::regclass",
        (f"public.{table}",)).fetchone()[0]  # a registry name, as a regclass literal


def is_first_load(conn: psycopg.Connection, layer: Layer, first_batch_rows: int) -> bool:
    """True when this load may take the shadow path: big, into an empty, plain layer."""
    if first_batch_rows < BULK_MIN_ROWS or not _schema_exists(conn):
        return False
    tables = [layer.table] + ([layer.versions_table] if layer.versioned else [])
    return all(_is_empty(conn, t) and _is_plain(conn, t) for t in tables)


def _schema_exists(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)",
                        (SHADOW_SCHEMA,)).fetchone()[0]


def _shadow(table: str) -> sql.Identifier:
    return sql.Identifier(SHADOW_SCHEMA, table)


def _public(table: str) -> sql.Identifier:
    return sql.Identifier("public", table)


def _create_like(conn: psycopg.Connection, table: str) -> None:
    """CREATE the shadow of a public table: its columns, defaults, generated columns, checks,
    identity continuing from the public table's sequence; no indexes or keys yet."""
    conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL EXCLUDING INDEXES)").format(
        _shadow(table), _public(table)))
    for column, sequence in conn.execute(
            "SELECT attname, pg_get_serial_sequence(%s, attname) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attidentity <> '' AND NOT attisdropped",
            (f"public.{table}", f"public.{table}")).fetchall():
        nxt = conn.execute("SELECT nextval(%s)", (sequence,)).fetchone()[0]
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} RESTART WITH {}").format(
            _shadow(table), sql.Identifier(column), sql.Literal(nxt)))


def _index_tasks(conn: psycopg.Connection, table: str) -> tuple[list[Task], list[sql.Composable]]:
    """One task per index of the public table, built on its shadow; and the statements that
    turn the key indexes into the primary key and unique constraints afterwards."""
    rows = conn.execute(
        "SELECT i.relname, x.indisunique, pg_get_indexdef(x.indexrelid), k.conname, k.contype"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " LEFT JOIN pg_constraint k ON k.conindid = x.indexrelid AND k.conrelid = x.indrelid"
        "  AND k.contype IN ('p', 'u')"
        " JOIN pg_am m ON m.oid = i.relam WHERE x.indrelid = %s::regclass"
        # the trigram (GIN) and GiST builds take longest: start them first
        " ORDER BY m.amname = 'gin' DESC, m.amname = 'gist' DESC, i.relname",
        (f"public.{table}",)).fetchall()
    tasks: list[Task] = []
    keys: list[sql.Composable] = []
    for name, unique, definition, conname, contype in rows:
        # catalogue text: "CREATE [UNIQUE] INDEX name ON public.table USING method (...)..."
        method_and_columns = definition.split(" USING ", 1)[1]
        tasks.append(_statement_task(sql.SQL("CREATE {}INDEX {} ON {} USING {}").format(
            sql.SQL("UNIQUE " if unique else ""), sql.Identifier(name), _shadow(table),
            sql.SQL(method_and_columns))))
        if conname is not None:
            keys.append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}").format(
                _shadow(table), sql.Identifier(conname),
                sql.SQL("PRIMARY KEY" if contype == "p" else "UNIQUE"), sql.Identifier(name)))
    return tasks, keys


def _statement_task(statement: sql.Composable) -> Task:
    def run(conn: psycopg.Connection) -> list[Task]:
        with conn.transaction():
            conn.execute(statement)
        return []
    return run


class ShadowLoad:
    """One first load through shadow tables; see the module docstring.

    open(), then copy() per batch, build() once, swap(conn) inside the load transaction,
    discard() always (after that transaction ended).
    """

    def __init__(self, conninfo: str, layer: Layer, run_id: int):
        self.conninfo, self.layer, self.run_id = conninfo, layer, run_id
        self.tables = [layer.table] + ([layer.versions_table] if layer.versioned else [])
        self.conn: psycopg.Connection | None = None
        self.rows = 0
        self.extent: Box | None = None
        self.timings: dict[str, float] = {}
        self.keys: list[sql.Composable] = []  # key constraints to add once indexes exist
        self._copy: BatchCopy | None = None

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.conninfo, autocommit=True)
        conn.execute("SET client_connection_check_interval = 1000")
        conn.execute(sql.SQL("SET maintenance_work_mem = {}").format(
            sql.Literal(BUILD_MAINTENANCE_MEM)))
        return conn

    def open(self) -> None:
        """Drop a killed load's leftovers and start the transaction that creates the shadow."""
        self.conn = self._connect()
        self._drop_shadows(self.conn)
        self.conn.execute("BEGIN")
        _create_like(self.conn, self.layer.table)
        self._copy = BatchCopy(self.conn, _shadow(self.layer.table))

    def copy(self, frame: pd.DataFrame, geoms: np.ndarray) -> None:
        """Queue one batch (fields, geom as hex EWKB; no row_number) for the shadow's COPY.

        One COPY takes every batch; a thread of psycopg's sends the queued data, so the
        server ingests a batch while the next one is read and checked.
        """
        self._copy.write(frame.assign(source_run_id=self.run_id))
        self.rows += len(frame)
        if len(geoms):
            box = tuple(float(v) for v in shapely.total_bounds(geoms))
            self.extent = box if self.extent is None else (
                min(self.extent[0], box[0]), min(self.extent[1], box[1]),
                max(self.extent[2], box[2]), max(self.extent[3], box[3]))

    def build(self, valid_from: datetime, progress: Callable[[int, int], None]) -> None:
        """Commit the shadow, then build its indexes, history and overview in parallel."""
        started = time.perf_counter()
        self._copy.close()
        self.conn.execute("COMMIT")
        indexes, self.keys = _index_tasks(self.conn, self.layer.table)
        # longest first (on 200,000 parcels, quiet: the trigram index 2.3 s, the history
        # and its indexes 2.8 s, the overview 3.7 s in parts, the rest 0.3-0.9 s each)
        tasks = indexes[:1]
        if self.layer.versioned:
            tasks.append(self._versions_task(valid_from))
        if self.layer.overview is not None:
            tasks += self._overview_tasks()
        tasks += indexes[1:]
        total = len(tasks)
        done = 0
        progress(done, total)
        connections: list[psycopg.Connection] = []
        with ThreadPoolExecutor(BUILD_CONNECTIONS) as pool:
            def run(task: Task) -> list[Task]:
                conn = connections.pop() if connections else self._connect()
                try:
                    return task(conn)
                finally:
                    connections.append(conn)
            pending: set[Future] = {pool.submit(run, t) for t in tasks}
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        more = future.result()
                        total += len(more)
                        pending |= {pool.submit(run, t) for t in more}
                        done += 1
                        progress(done, total)
            finally:
                for future in pending:
                    future.cancel()
                wait(pending)
                for conn in connections:
                    conn.close()
        with self.conn.transaction():
            for statement in self.keys:
                self.conn.execute(statement)
        for table in self.tables:  # statistics, or the next merge plans for an empty table
            self.conn.execute(sql.SQL("ANALYZE {}").format(_shadow(table)))
        self.timings["build"] = round(time.perf_counter() - started, 4)

    def _versions_task(self, valid_from: datetime) -> Task:
        layer = self.layer
        names = [f.name for f in layer.fields]

        def run(conn: psycopg.Connection) -> list[Task]:
            with conn.transaction():
                _create_like(conn, layer.versions_table)
                conn.execute(sql.SQL(
                    "INSERT INTO {v} (feature_id, {cols}, geom, valid_from, change, source_run_id)"
                    # in the table's order, which is id order (COPY appended the rows)
                    " SELECT id, {cols}, geom, %(at)s, 'insert', %(run)s FROM {t}").format(
                    v=_shadow(layer.versions_table), t=_shadow(layer.table),
                    cols=sql.SQL(", ").join(map(sql.Identifier, names))),
                    {"at": valid_from, "run": self.run_id})
            tasks, keys = _index_tasks(conn, layer.versions_table)
            self.keys.extend(keys)
            return tasks
        return run

    def _overview_tasks(self) -> list[Task]:
        """The overview rebuilt in OVERVIEW_PARTS parts (cell columns), one task each; the
        last part to finish adds one task per zoom encoding the overview tiles."""
        layer = self.layer
        with self.conn.transaction():
            _create_like(self.conn, layer.overview_table)  # ids after the public ones
            self.conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(
                _shadow(layer.overview_tiles_table), _public(layer.overview_tiles_table)))
        remaining = [OVERVIEW_PARTS]
        lock = threading.Lock()

        def part(i: int) -> Task:
            def run(conn: psycopg.Connection) -> list[Task]:
                with conn.transaction():
                    conn.execute("SET LOCAL jit = off")  # ~1 s of compiling per part
                    refresh_overview(conn, layer, None, encode_tiles=False,
                                     schema=SHADOW_SCHEMA, part=(i, OVERVIEW_PARTS))
                with lock:
                    remaining[0] -= 1
                    if remaining[0]:
                        return []
                with conn.transaction():  # each tile's rows are found by it
                    conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom_3857)").format(
                        _shadow(layer.overview_table)))
                return [encode(z) for z in range(layer.minzoom, layer.overview.maxzoom + 1)]
            return run

        def encode(z: int) -> Task:
            def run(conn: psycopg.Connection) -> list[Task]:
                with conn.transaction():
                    conn.execute("SET LOCAL jit = off")
                    encode_overview_tiles(conn, layer, schema=SHADOW_SCHEMA, zooms=[z])
                return []
            return run
        return [part(i) for i in range(OVERVIEW_PARTS)]

    def swap(self, conn: psycopg.Connection) -> LoadOutcome:
        """In the caller's load transaction: move the shadows in if the layer is still empty."""
        started = time.perf_counter()
        conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
            sql.SQL(", ").join(_public(t) for t in self.tables)))
        if not all(_is_empty(conn, t) for t in self.tables):
            raise ImportRefused(f"layer {self.layer.id} received features while this first load "
                                "ran, so nothing was changed; run the import again")
        for table in self.tables:
            conn.execute(sql.SQL("DROP TABLE {}").format(_public(table)))
            conn.execute(sql.SQL("ALTER TABLE {} SET SCHEMA public").format(_shadow(table)))
        if self.layer.overview is not None:
            # the rows with their ids (the encoded tiles carry them), the sequence after them;
            # the tiles encoded on the build connections: every tile, the overview is new
            ov, tiles = self.layer.overview_table, self.layer.overview_tiles_table
            for table, cols in ((ov, ["id", *overview_columns(self.layer)]),
                                (tiles, ["z", "x", "y", "mvt"])):
                names = sql.SQL(", ").join(map(sql.Identifier, cols))
                conn.execute(sql.SQL("DELETE FROM {}").format(_public(table)))
                conn.execute(sql.SQL("INSERT INTO {} ({c}) SELECT {c} FROM {}").format(
                    _public(table), _shadow(table), c=names))
                conn.execute(sql.SQL("DROP TABLE {}").format(_shadow(table)))
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'id'), max(id))"
                                 " FROM {} HAVING max(id) IS NOT NULL").format(_public(ov)),
                         (f"public.{ov}",))
        self.timings["swap"] = round(time.perf_counter() - started, 4)
        out = LoadOutcome(extent=self.extent)
        out.summary["added"] = self.rows
        return out

    def _drop_shadows(self, conn: psycopg.Connection) -> None:
        names = self.tables + ([self.layer.overview_table, self.layer.overview_tiles_table]
                               if self.layer.overview else [])
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
            sql.SQL(", ").join(_shadow(t) for t in names)))

    def discard(self) -> None:
        """Drop what is left in etl_load (all of it unless swapped in and committed); close."""
        if self.conn is None or self.conn.closed:
            return
        try:
            try:
                if self._copy is not None:
                    self._copy.close(ImportRefused("the load stopped"))
            except psycopg.Error:
                pass  # the COPY ends in error, as asked: its transaction rolls back below
            if not self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                self.conn.rollback()
            self._drop_shadows(self.conn)
        finally:
            self.conn.close()
