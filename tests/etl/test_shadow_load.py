"""First loads into an empty layer through shadow tables (etl/shadow_load.py): the same layer as
the merge would make, and nothing changed when the load fails between shadow and swap."""
from __future__ import annotations

import threading
import time

import mapbox_vector_tile
import numpy as np
import psycopg
import pytest
import shapely
from psycopg import sql

from etl.bulk_indexes import BULK_MIN_ROWS
from etl.overviews import overview_columns, refresh_overview
from etl.pipeline import ImportFailed, ImportRequest, run_import
from etl.shadow_load import SHADOW_SCHEMA
from layers import Access
from tiles.sql import BUFFER, EXTENT, encode_overview_sql

PUBLIC = frozenset({Access.PUBLIC})

CATALOGUE = {
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes"
               " WHERE schemaname = 'public' AND tablename = ANY(%(t)s) ORDER BY 1, 2",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                   " FROM pg_constraint WHERE conrelid::regclass::text = ANY(%(t)s) ORDER BY 1, 2",
    "columns": "SELECT table_name, ordinal_position, column_name, data_type, is_nullable,"
               " column_default, is_identity, is_generated, generation_expression"
               " FROM information_schema.columns WHERE table_schema = 'public'"
               " AND table_name = ANY(%(t)s) ORDER BY 1, 2",
    "sequences": "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                 " AND sequencename LIKE ANY(%(seq)s) ORDER BY 1",
}


def _catalogue(db, layer) -> dict[str, list]:
    tables = [layer.table, layer.versions_table]
    params = {"t": tables, "seq": [f"{t}\\_%" for t in tables]}
    return {name: db.execute(query, params).fetchall() for name, query in CATALOGUE.items()}


def _big_file(layer, make_frame, write_source, n: int = BULK_MIN_ROWS, name: str = "big"):
    x = 108.15 + (np.arange(n) % 100) * 0.0003
    y = 16.0 + (np.arange(n) // 100) * 0.0003
    return write_source(make_frame(layer, list(shapely.box(x, y, x + 0.0002, y + 0.0002))),
                        "gpkg", name)


def _count(db, table: str, schema: str = "public") -> int:
    return db.execute(sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(schema, table))).fetchone()[0]


def _copy_one_row(db, layer, source_schema: str) -> None:
    """INSERT one row of the layer (its imported fields and geometry) from a table of that name."""
    cols = sql.SQL(", ").join(map(sql.Identifier, [f.name for f in layer.imported_fields] + ["geom"]))
    db.execute(sql.SQL("INSERT INTO {} ({c}) SELECT {c} FROM {} LIMIT 1").format(
        sql.Identifier("public", layer.table), sql.Identifier(source_schema, layer.table), c=cols))


def _features(data: bytes, name: str) -> list[tuple]:
    """A tile layer's features as comparable (id, properties, geometry) rows."""
    layer = mapbox_vector_tile.decode(data).get(name, {"features": []})
    return sorted((f["id"], sorted(f["properties"].items()), repr(f["geometry"]))
                  for f in layer["features"])


def _shadow_tables(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s",
                                     (SHADOW_SCHEMA,))]


def test_first_load_swaps_in_the_same_tables_indexes_keys_and_overview(
        scratch_url, db, versioned_layer, make_frame, write_source):
    layer = versioned_layer
    before = _catalogue(db, layer)
    # what a killed first load leaves behind is dropped by the next one
    db.execute(sql.SQL("CREATE TABLE {} (LIKE {})").format(
        sql.Identifier(SHADOW_SCHEMA, layer.table), sql.Identifier("public", layer.table)))
    db.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", (layer.table,))  # ids go on

    result = run_import(scratch_url, ImportRequest(layer.id, _big_file(layer, make_frame,
                                                                       write_source)))

    assert "swap" in result.timings  # it took the shadow path
    assert result.summary == {"added": BULK_MIN_ROWS, "updated": 0, "unchanged": 0, "removed": 0}
    assert _catalogue(db, layer) == before
    assert _shadow_tables(db) == []
    ids = db.execute(sql.SQL("SELECT min(id), max(id), count(DISTINCT source_run_id) FROM {}")
                     .format(sql.Identifier(layer.table))).fetchone()
    assert ids == (2, BULK_MIN_ROWS + 1, 1)  # the table's own sequence, one value drawn before
    versions = db.execute(sql.SQL(
        "SELECT count(*), count(*) FILTER (WHERE v.change = 'insert' AND v.valid_to IS NULL"
        " AND v.source_run_id = %s), count(*) FILTER (WHERE v.geom = t.geom) FROM {} v"
        " JOIN {} t ON t.id = v.feature_id").format(
        sql.Identifier(layer.versions_table), sql.Identifier(layer.table)),
        (result.run_id,)).fetchone()
    assert versions == (BULK_MIN_ROWS,) * 3
    cols = sql.SQL(", ").join(map(sql.Identifier, overview_columns(layer)))
    ordered = sql.SQL("SELECT {} FROM {} ORDER BY cell_x, cell_y, {}").format(
        cols, sql.Identifier(layer.overview_table), sql.Identifier(layer.overview.group_by[0]))
    tiles = sql.SQL("SELECT z, x, y FROM {} ORDER BY z, x, y").format(  # mvt holds row ids
        sql.Identifier(layer.overview_tiles_table))
    swapped, swapped_tiles = db.execute(ordered).fetchall(), db.execute(tiles).fetchall()
    with psycopg.connect(scratch_url) as conn:  # the overview rebuilt in one piece, rolled back
        refresh_overview(conn, layer)
        rebuilt, rebuilt_tiles = conn.execute(ordered).fetchall(), conn.execute(tiles).fetchall()
        conn.rollback()
    assert swapped == rebuilt and len(swapped) > 0
    assert swapped_tiles == rebuilt_tiles and len(swapped_tiles) > 0
    # the tiles, encoded from the shadow overview on the build connections, hold what
    # tiles/ encodes from the rows moved in (their ids included)
    for z, x, y, mvt in db.execute(sql.SQL("SELECT z, x, y, mvt FROM {}").format(
            sql.Identifier(layer.overview_tiles_table))).fetchall():
        now = db.execute(sql.SQL("SELECT {}").format(encode_overview_sql(layer.id, PUBLIC)),
                         {"z": z, "x": x, "y": y, "margin": BUFFER / EXTENT}).fetchone()[0]
        assert _features(mvt, layer.id) == _features(now, layer.id) != []
    # and the overview's ids go on after the ones moved in
    top = db.execute(sql.SQL("SELECT max(id) FROM {}").format(
        sql.Identifier(layer.overview_table))).fetchone()[0]
    assert db.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))",
                      (layer.overview_table,)).fetchone()[0] > top
    # the keys are real constraints again: a duplicate key is refused
    with pytest.raises(psycopg.errors.UniqueViolation):
        _copy_one_row(db, layer, "public")


def test_first_load_refuses_to_swap_when_the_layer_got_features_meanwhile(
        scratch_url, db, versioned_layer, make_frame, write_source):
    layer = versioned_layer
    path = _big_file(layer, make_frame, write_source)
    done = []

    def edit_during_build(phase: str, finished: int, total: int | None) -> None:
        if phase == "load" and not done:  # the shadow is committed: a feature lands in the layer
            _copy_one_row(db, layer, SHADOW_SCHEMA)
            done.append(phase)

    with pytest.raises(ImportFailed) as failed:
        run_import(scratch_url, ImportRequest(layer.id, path), progress=edit_during_build)
    assert "received features while this first load ran" in failed.value.message
    assert "nothing was changed" in failed.value.message
    assert _count(db, layer.table) == 1 and _count(db, layer.versions_table) == 0
    assert _shadow_tables(db) == []
    status = db.execute("SELECT status FROM etl_runs WHERE id = %s",
                        (failed.value.result.run_id,)).fetchone()[0]
    assert status == "failed"


def test_first_load_failing_in_its_index_builds_leaves_the_layer_empty(
        scratch_url, db, versioned_layer, make_frame, write_source):
    layer = versioned_layer
    path = _big_file(layer, make_frame, write_source)
    overview_before = _count(db, layer.overview_table)
    state_before = db.execute("SELECT count(*) FROM layer_state WHERE layer = %s",
                              (layer.id,)).fetchone()[0]
    blocker = psycopg.connect(scratch_url)
    stopped: list[int] = []

    def block_then_kill_builds() -> None:
        """Hold the shadow table locked, kill the first index build that waits for it."""
        with psycopg.connect(scratch_url, autocommit=True) as watcher:
            for _ in range(600):
                rows = watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query ILIKE 'CREATE%%INDEX%%etl_load%%'").fetchall()
                for (pid,) in rows:
                    watcher.execute("SELECT pg_terminate_backend(%s)", (pid,))
                    stopped.append(pid)
                if rows:
                    break
                time.sleep(0.05)
        blocker.rollback()

    killer = threading.Thread(target=block_then_kill_builds)

    def lock_the_shadow(phase: str, finished: int, total: int | None) -> None:
        if phase == "load" and not killer.is_alive() and not stopped:
            blocker.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.Identifier(SHADOW_SCHEMA, layer.table)))
            killer.start()

    try:
        with pytest.raises(ImportFailed) as failed:
            run_import(scratch_url, ImportRequest(layer.id, path), progress=lock_the_shadow)
    finally:
        killer.join()
        blocker.close()
    assert stopped, "no index build was seen waiting"
    assert "nothing was changed" in failed.value.message
    assert _count(db, layer.table) == 0 and _count(db, layer.versions_table) == 0
    assert _count(db, layer.overview_table) == overview_before
    assert db.execute("SELECT count(*) FROM layer_state WHERE layer = %s",
                      (layer.id,)).fetchone()[0] == state_before
    assert _shadow_tables(db) == []
    # and the next load goes through
    again = run_import(scratch_url, ImportRequest(layer.id, path))
    assert again.summary["added"] == BULK_MIN_ROWS
