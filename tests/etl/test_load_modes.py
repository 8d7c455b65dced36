"""replace / upsert / append by business key, change summary, versions, layer_state, NOTIFY, hooks."""
from __future__ import annotations

import json

import numpy as np
import psycopg
import pytest
import shapely
import shapely.affinity
from psycopg import sql

from etl import events
from etl.bulk_indexes import BULK_MIN_ROWS
from etl.pipeline import ImportFailed, ImportRequest, run_import
from layers import TABLES


def _ids_by_key(db, layer) -> dict[tuple, int]:
    rows = db.execute(sql.SQL("SELECT id, {} FROM {}").format(
        sql.SQL(", ").join(map(sql.Identifier, layer.key)), sql.Identifier(layer.table)))
    return {tuple(r[1:]): r[0] for r in rows}


def _count(db, table: str) -> int:
    return db.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


def test_replace_adds_updates_removes_and_keeps_ids_of_unchanged(scratch_url, db, versioned_layer,
                                                                 small_parcels, write_source):
    first = run_import(scratch_url, ImportRequest(versioned_layer.id,
                                                  write_source(small_parcels(3), "gpkg", "a")))
    assert first.summary == {"added": 3, "updated": 0, "unchanged": 0, "removed": 0}
    before = _ids_by_key(db, versioned_layer)
    second = small_parcels(4).iloc[[0, 1, 3]].copy()  # row 2 gone, row 3 new
    second.loc[second.index[1], "geometry"] = shapely.box(108.3, 16.1, 108.3005, 16.1005)
    result = run_import(scratch_url, ImportRequest(versioned_layer.id,
                                                   write_source(second, "gpkg", "b")))
    assert result.summary == {"added": 1, "updated": 1, "unchanged": 1, "removed": 1}
    after = _ids_by_key(db, versioned_layer)
    kept = [k for k in before if k in after]
    assert len(kept) == 2 and all(before[k] == after[k] for k in kept)
    assert result.extent[2] == pytest.approx(108.3005)  # includes the moved parcel's new place


def test_identical_replace_changes_nothing(scratch_url, db, versioned_layer, small_parcels,
                                           write_source):
    path = write_source(small_parcels(3), "geojson")
    run_import(scratch_url, ImportRequest(versioned_layer.id, path))
    again = run_import(scratch_url, ImportRequest(versioned_layer.id, path))
    assert again.summary == {"added": 0, "updated": 0, "unchanged": 3, "removed": 0}
    assert again.extent is None and again.rows_loaded == 3


def test_upsert_never_deletes(scratch_url, db, versioned_layer, small_parcels, write_source):
    run_import(scratch_url, ImportRequest(versioned_layer.id,
                                          write_source(small_parcels(3), "gpkg", "a")))
    result = run_import(scratch_url, ImportRequest(
        versioned_layer.id, write_source(small_parcels(1), "gpkg", "b"), mode="upsert"))
    assert result.summary["removed"] == 0
    assert _count(db, versioned_layer.table) == 3


def test_append_rejects_existing_keys_and_inserts_new(scratch_url, db, versioned_layer,
                                                      small_parcels, write_source):
    run_import(scratch_url, ImportRequest(versioned_layer.id,
                                          write_source(small_parcels(2), "gpkg", "a")))
    result = run_import(scratch_url, ImportRequest(
        versioned_layer.id, write_source(small_parcels(3), "gpkg", "b"), mode="append"))
    assert result.summary["added"] == 1 and result.rows_rejected == 2
    reasons = [r[0] for r in db.execute(
        "SELECT reason FROM etl_rejects WHERE run_id = %s", (result.run_id,))]
    assert len(reasons) == 2 and all("already in the layer" in r for r in reasons)
    assert _count(db, versioned_layer.table) == 3


def test_versions_hold_every_state_with_open_current_rows(scratch_url, db, versioned_layer,
                                                          small_parcels, write_source):
    run_import(scratch_url, ImportRequest(versioned_layer.id,
                                          write_source(small_parcels(2), "gpkg", "a")))
    moved = small_parcels(2, shift=0.0001).iloc[[0]]
    run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(moved, "gpkg", "b")))
    history = db.execute(sql.SQL(
        "SELECT feature_id, change, valid_to IS NULL FROM {} ORDER BY version_id").format(
        sql.Identifier(versioned_layer.versions_table))).fetchall()
    ids = sorted({h[0] for h in history})
    assert history[:2] == [(ids[0], "insert", False), (ids[1], "insert", False)]
    assert history[2] == (ids[0], "update", True)  # current version of the kept parcel
    current = db.execute(sql.SQL("SELECT count(*) FROM {} WHERE valid_to IS NULL").format(
        sql.Identifier(versioned_layer.versions_table))).fetchone()[0]
    assert current == _count(db, versioned_layer.table) == 1


def test_load_bumps_layer_state_and_notifies_with_bbox(scratch_url, db, versioned_layer,
                                                       small_parcels, write_source):
    with psycopg.connect(scratch_url, autocommit=True) as listener:
        listener.execute("LISTEN gisapp_layer_changed")
        result = run_import(scratch_url, ImportRequest(versioned_layer.id,
                                                       write_source(small_parcels(2), "gpkg")))
        note = next(listener.notifies(timeout=5, stop_after=1))
    payload = json.loads(note.payload)
    state = db.execute("SELECT data_version, last_run_id FROM layer_state WHERE layer = %s",
                       (versioned_layer.id,)).fetchone()
    assert state == (1, result.run_id)
    assert payload == {"layer": versioned_layer.id, "data_version": 1, "run_id": result.run_id,
                       "bbox": pytest.approx(list(result.extent))}
    extent = db.execute("SELECT ST_XMin(extent), ST_XMax(extent) FROM etl_runs WHERE id = %s",
                        (result.run_id,)).fetchone()
    assert extent == pytest.approx((108.2, 108.2015))


def test_hooks_receive_the_result_after_commit(scratch_url, db, versioned_layer, small_parcels,
                                               write_source):
    seen = []

    def hook(result):
        seen.append((result.run_id, _count(db, versioned_layer.table)))

    events.on_layer_loaded(hook)
    try:
        result = run_import(scratch_url, ImportRequest(versioned_layer.id,
                                                       write_source(small_parcels(2), "gpkg")))
    finally:
        events.remove_layer_loaded(hook)
    assert seen == [(result.run_id, 2)]  # the hook already sees committed rows


def test_dry_run_records_rejects_and_loads_nothing(scratch_url, db, versioned_layer,
                                                   small_parcels, write_source):
    gdf = small_parcels(3)
    gdf.loc[gdf.index[2], "geometry"] = shapely.Point(108.2, 16.05)
    result = run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(gdf, "gpkg"),
                                                   dry_run=True))
    assert (result.status, result.rows_valid, result.rows_rejected) == ("succeeded", 2, 1)
    assert _count(db, versioned_layer.table) == 0 and _count(db, "etl_rejects") == 1




@pytest.mark.parametrize("table", list(TABLES.values()), ids=lambda t: t.id)
def test_attribute_tables_import_from_csv_with_typed_values(table, scratch_url, db, make_rows,
                                                            tmp_path):
    rows = make_rows(table, 3)
    path = tmp_path / f"{table.id}.csv"
    rows.to_csv(path, index=False)
    result = run_import(scratch_url, ImportRequest(table.id, path))
    assert (result.rows_loaded, result.summary["added"], result.extent) == (3, 3, None)
    names = [f.name for f in table.imported_fields]
    loaded = db.execute(sql.SQL("SELECT {} FROM {} ORDER BY id").format(
        sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier(table.table))).fetchall()
    expected = [tuple(str(v) if isinstance(v, str) else v for v in r)
                for r in rows.itertuples(index=False)]
    assert [tuple(v.isoformat() if hasattr(v, "isoformat") else v for v in r)
            for r in loaded] == expected


def test_bulk_initial_load_rebuilds_every_index(scratch_url, db, versioned_layer, make_frame,
                                                write_source):
    tables = (versioned_layer.table, versioned_layer.versions_table)
    query = "SELECT tablename, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 2"
    before = db.execute(query, (list(tables),)).fetchall()
    n = BULK_MIN_ROWS
    x = 108.15 + (np.arange(n) % 100) * 0.0003
    y = 16.0 + (np.arange(n) // 100) * 0.0003
    gdf = make_frame(versioned_layer, list(shapely.box(x, y, x + 0.0002, y + 0.0002)))
    result = run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(gdf, "gpkg")))
    assert result.summary["added"] == n
    assert db.execute(query, (list(tables),)).fetchall() == before
    assert _count(db, versioned_layer.versions_table) == n
    db.execute("SET enable_seqscan = off")  # the rebuilt GiST index must be usable
    used = db.execute(sql.SQL("EXPLAIN SELECT id FROM {} WHERE geom && ST_MakeEnvelope("
                              "108.15, 16.0, 108.1501, 16.0001, 4326)").format(
        sql.Identifier(versioned_layer.table))).fetchall()
    assert any("Index" in line[0] for line in used)


def _changed_parcels(small_parcels, versioned_layer):
    """Five parcels, and the same with four changes: an attribute, the geometry only,
    a NULL made a value, a value made NULL; the fifth (the easternmost) unchanged."""
    optional = [f.name for f in versioned_layer.imported_fields
                if not f.required and f.type.value == "text" and f.name not in versioned_layer.key]
    first = small_parcels(5)
    first[optional[0]] = [None, "a", None, "d", "e"]
    second = first.copy()
    second.loc[second.index[0], optional[1]] = "relabelled"
    second.loc[second.index[1], "geometry"] = shapely.affinity.translate(
        second.geometry.iloc[1], yoff=0.0002)
    second.loc[second.index[2], optional[0]] = "was null"
    second.loc[second.index[3], optional[0]] = None
    return first, second


def test_an_upsert_finds_exactly_the_changed_rows(scratch_url, db, versioned_layer,
                                                  small_parcels, write_source):
    first, second = _changed_parcels(small_parcels, versioned_layer)
    run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(first, "gpkg", "a")))
    ids = _ids_by_key(db, versioned_layer)
    result = run_import(scratch_url, ImportRequest(
        versioned_layer.id, write_source(second, "gpkg", "b"), mode="upsert"))
    assert result.summary == {"added": 0, "updated": 4, "unchanged": 1, "removed": 0}
    updated = {r[0] for r in db.execute(sql.SQL(
        "SELECT feature_id FROM {} WHERE change = 'update'").format(
        sql.Identifier(versioned_layer.versions_table)))}
    keys = [tuple(r[k] for k in versioned_layer.key) for _, r in second.iterrows()]
    assert updated == {ids[k] for k in keys[:4]}
    # the changed extent covers the four changed parcels (the moved one at both places)
    # and not the unchanged fifth, 0.001 degrees east of the fourth
    west, south, east, north = result.extent
    assert (west, south) == pytest.approx((108.2, 16.05))
    assert east == pytest.approx(108.2035) and north == pytest.approx(16.0507)


def test_a_failed_upsert_leaves_the_layer_untouched(scratch_url, db, versioned_layer,
                                                    small_parcels, write_source):
    first, second = _changed_parcels(small_parcels, versioned_layer)
    run_import(scratch_url, ImportRequest(versioned_layer.id, write_source(first, "gpkg", "a")))
    table, versions = (sql.Identifier(t) for t in (versioned_layer.table,
                                                   versioned_layer.versions_table))
    state = sql.SQL("SELECT {t}::text FROM {t} ORDER BY id")
    before = [db.execute(state.format(t=table)).fetchall(),
              db.execute(sql.SQL("SELECT {t}::text FROM {t} ORDER BY version_id").format(
                  t=versions)).fetchall()]
    # the database refuses the geometry-only change, after the other rows were written
    db.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT test_no_move CHECK"
                       " (ST_YMax(geom) < 16.0506) NOT VALID").format(table))
    try:
        with pytest.raises(ImportFailed, match="test_no_move"):
            run_import(scratch_url, ImportRequest(
                versioned_layer.id, write_source(second, "gpkg", "b"), mode="upsert"))
    finally:
        db.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT test_no_move").format(table))
    after = [db.execute(state.format(t=table)).fetchall(),
             db.execute(sql.SQL("SELECT {t}::text FROM {t} ORDER BY version_id").format(
                 t=versions)).fetchall()]
    assert after == before
