"""Layer overviews: built by every load in its transaction, merged by group, rebuilt by cell."""
from __future__ import annotations

import mapbox_vector_tile
import pandas as pd
import pytest
import shapely
from psycopg import sql

from etl.pipeline import ImportFailed, ImportRequest, run_import
from layers import LAYERS, Access, get_layer
from tiles.grid import Tile, tile_of
from tiles.sql import render_tile

PARCELS = get_layer("parcels")
PUBLIC = frozenset({Access.PUBLIC})


def _row_of_blocks(make_frame, west: float, uses: list[str]):
    """Parcels of 50 m side in a row starting at `west` (lon), with the given land uses."""
    step = 0.0005
    squares = [shapely.box(west + i * step, 16.05, west + (i + 1) * step, 16.0505)
               for i in range(len(uses))]
    frame = make_frame(PARCELS, squares)
    frame["parcel_no"] = [f"{int(west * 1e4)}{i}" for i in range(len(uses))]
    frame["land_use"] = uses
    return frame


def _overview(db) -> list[tuple]:
    return db.execute("SELECT id, land_use, feature_count, ST_Area(geom_3857) FROM"
                      " parcels_overview ORDER BY land_use, id").fetchall()


def test_every_overview_groups_by_declared_fields_below_the_layers_detail():
    for layer in LAYERS.values():
        if layer.overview:
            assert not layer.is_point and not layer.is_line, layer.id
            assert layer.minzoom <= layer.overview.maxzoom < layer.maxzoom, layer.id
            for name in layer.overview.group_by:
                assert layer.field(name).access is Access.PUBLIC, layer.id


def test_a_load_merges_touching_parcels_of_one_use(scratch_url, db, make_frame, write_source):
    frame = _row_of_blocks(make_frame, 108.2, ["ODT", "ODT", "ODT", "TMD"])
    run_import(scratch_url, ImportRequest(PARCELS.id, write_source(frame, "gpkg")))
    rows = _overview(db)
    assert [(r[1], r[2]) for r in rows] == [("ODT", 3), ("TMD", 1)]
    odt_area = db.execute("SELECT sum(ST_Area(geom_3857)) FROM parcels WHERE land_use = 'ODT'"
                          ).fetchone()[0]
    assert rows[0][3] == pytest.approx(odt_area, rel=0.02)  # one shape, simplified by metres
    assert db.execute("SELECT ST_NumGeometries(geom_3857) FROM parcels_overview"
                      " WHERE land_use = 'ODT'").fetchone()[0] == 1


def test_an_upsert_rebuilds_only_the_cells_it_touches(scratch_url, db, make_frame, write_source):
    near = _row_of_blocks(make_frame, 108.2, ["ODT", "ODT"])
    far = _row_of_blocks(make_frame, 108.25, ["CLN", "CLN"])  # 5 km east: other cells
    both = pd.concat([near, far], ignore_index=True)
    run_import(scratch_url, ImportRequest(PARCELS.id, write_source(both, "gpkg", "all")))
    before = {r[1]: r for r in _overview(db)}
    near.loc[1, "land_use"] = "TMD"
    result = run_import(scratch_url, ImportRequest(PARCELS.id, write_source(near, "gpkg", "b"),
                                                   mode="upsert"))
    assert result.summary["updated"] == 1
    after = {r[1]: r for r in _overview(db)}
    assert after["CLN"] == before["CLN"]  # same row id: the far cell was not rebuilt
    assert (after["ODT"][2], after["TMD"][2]) == (1, 1) and after["ODT"][0] != before["ODT"][0]


def test_a_failed_load_leaves_the_overview_as_it_was(scratch_url, db, make_frame, write_source):
    run_import(scratch_url, ImportRequest(
        PARCELS.id, write_source(_row_of_blocks(make_frame, 108.2, ["ODT"]), "gpkg", "a")))
    before = _overview(db)
    bad = _row_of_blocks(make_frame, 108.2, ["TMD"])
    bad["parcel_no"] = None  # a required field missing in every row: nothing to load
    with pytest.raises(ImportFailed):
        run_import(scratch_url, ImportRequest(PARCELS.id, write_source(bad, "gpkg", "b")))
    assert _overview(db) == before


def test_tiles_carry_the_overview_up_to_its_maxzoom_and_parcels_above(scratch_url, db,
                                                                        make_frame, write_source):
    frame = _row_of_blocks(make_frame, 108.2, ["ODT", "ODT", "TMD"])
    run_import(scratch_url, ImportRequest(PARCELS.id, write_source(frame, "gpkg")))
    low, high = PARCELS.overview.maxzoom, PARCELS.overview.maxzoom + 1
    with db.cursor() as cur:
        conn = cur.connection
        overview = render_tile(conn, (PARCELS,), Tile(low, *tile_of(108.2005, 16.0502, low)),
                               PUBLIC)
        detail = render_tile(conn, (PARCELS,), Tile(high, *tile_of(108.2005, 16.0502, high)),
                             PUBLIC)
    merged = mapbox_vector_tile.decode(overview.data)["parcels"]["features"]
    assert sorted((f["properties"]["land_use"], f["properties"]["feature_count"])
                  for f in merged) == [("ODT", 2), ("TMD", 1)]
    parcels = mapbox_vector_tile.decode(detail.data)["parcels"]["features"]
    assert len(parcels) == 3 and all("parcel_no" in f["properties"] for f in parcels)
    assert db.execute(sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(PARCELS.overview_table))).fetchone()[0] == 2
