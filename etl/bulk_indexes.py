"""Initial loads: drop an empty table's secondary indexes, insert, rebuild them (same transaction).

Building an index once over all rows is several times cheaper than maintaining it row by
row (PostgreSQL manual, "Populating a Database"). Only for empty tables: DROP INDEX takes
an ACCESS EXCLUSIVE lock until commit, which blocks readers of that table meanwhile.
Indexes backing constraints (primary key, business key) stay.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg import sql

BULK_MIN_ROWS = 10_000


def _secondary_indexes(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = quote_ident(%s)::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        " ORDER BY i.relname", (table,)).fetchall()


def _is_empty(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(
        sql.Identifier(table))).fetchone()[0]


@contextmanager
def indexes_rebuilt_after(conn: psycopg.Connection, tables: list[str], rows: int
                          ) -> Iterator[list[str]]:
    """Inside the caller's transaction: for each empty table, drop and later rebuild its indexes.

    Yields the tables handled. Small loads (< BULK_MIN_ROWS) and non-empty tables are left
    alone. The rebuild uses the catalogue's own definitions (pg_get_indexdef), so the
    indexes come back exactly as the migrations made them; a failure rolls everything back.
    """
    saved: list[str] = []
    handled: list[str] = []
    if rows >= BULK_MIN_ROWS:
        for table in tables:
            if not _is_empty(conn, table):
                continue
            handled.append(table)
            for name, definition in _secondary_indexes(conn, table):
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
                saved.append(definition)
    yield handled
    for definition in saved:
        conn.execute(sql.SQL(definition))  # catalogue text, not built from input
