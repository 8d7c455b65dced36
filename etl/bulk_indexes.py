"""Initial loads: empty the table anew, drop its indexes and keys, insert, rebuild (same transaction).

Building an index once over all rows is several times cheaper than maintaining it row by
row (PostgreSQL manual, "Populating a Database"), and so are the primary and business
keys (dropped and added back as constraints). TRUNCATE of the already empty table gives it
a new file in this transaction, which PostgreSQL need not WAL-log under wal_level=minimal.
Only for empty tables that no foreign key references: TRUNCATE and DROP take an ACCESS
EXCLUSIVE lock until commit, which blocks readers of that table meanwhile.
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


def _constraints(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """Primary key and unique constraints: (name, definition as pg_get_constraintdef gives it)."""
    return conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = quote_ident(%s)::regclass AND contype IN ('p', 'u')"
        " ORDER BY contype, conname", (table,)).fetchall()


def _is_referenced(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f'"
                        " AND confrelid = quote_ident(%s)::regclass)", (table,)).fetchone()[0]


def _is_empty(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(
        sql.Identifier(table))).fetchone()[0]


@contextmanager
def indexes_rebuilt_after(conn: psycopg.Connection, tables: list[str], rows: int
                          ) -> Iterator[list[str]]:
    """Inside the caller's transaction: for each empty table, drop and later rebuild its indexes.

    Yields the tables handled. Small loads (< BULK_MIN_ROWS) and non-empty tables are left
    alone. The rebuild uses the catalogue's own definitions (pg_get_constraintdef,
    pg_get_indexdef), so keys and indexes come back exactly as the migrations made them;
    a failure (a duplicate key, say) rolls everything back.
    """
    saved: list[sql.Composable] = []
    handled: list[str] = []
    if rows >= BULK_MIN_ROWS:
        for table in tables:
            if not _is_empty(conn, table) or _is_referenced(conn, table):
                continue
            handled.append(table)
            target = sql.Identifier(table)
            conn.execute(sql.SQL("TRUNCATE {}").format(target))
            for name, definition in _constraints(conn, table):
                conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    target, sql.Identifier(name)))
                saved.append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    target, sql.Identifier(name), sql.SQL(definition)))
            for name, definition in _secondary_indexes(conn, table):
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
                saved.append(sql.SQL(definition))
    yield handled
    for statement in saved:
        conn.execute(statement)  # catalogue text, not built from input
