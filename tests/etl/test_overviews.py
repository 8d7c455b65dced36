"""Layer overviews: built by every load in its transaction, merged by group, rebuilt by cell."""
from __future__ import annotations

import mapbox_vector_tile
import pandas as pd
import pytest
import shapely
from psycopg import sql

from etl.overviews import TILE_BUFFER, TILE_EXTENT, refresh_overview
from etl.pipeline import ImportFailed, ImportRequest, run_import
from layers import LAYERS, Access, get_layer
from tiles.grid import Tile, tile_of
from tiles.sql import BUFFER, EXTENT, encode_overview_sql, render_tile

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


OVERVIEWS = [layer for layer in LAYERS.values() if layer.overview]


def _features(data: bytes, name: str) -> list[tuple]:
    """A tile layer's features as comparable (id, properties, geometry) rows."""
    layer = mapbox_vector_tile.decode(data).get(name, {"features": []})
    return sorted((f["id"], sorted(f["properties"].items()), repr(f["geometry"]))
                  for f in layer["features"])


def _encoded_now(db, layer, tile: Tile) -> bytes:
    """The overview tile as tiles/ encodes it from the overview rows, at this moment."""
    return db.execute(sql.SQL("SELECT {}").format(encode_overview_sql(layer.id, PUBLIC)),
                      {"z": tile.z, "x": tile.x, "y": tile.y,
                       "margin": BUFFER / EXTENT}).fetchone()[0]


def _overview(db) -> list[tuple]:
    return db.execute("SELECT id, land_use, feature_count, ST_Area(geom_3857) FROM"
                      " parcels_overview ORDER BY land_use, id").fetchall()


def test_every_overview_groups_by_declared_fields_below_the_layers_detail():
    for layer in LAYERS.values():
        if layer.overview:
            assert not layer.is_point, layer.id
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


def test_cells_rebuilt_by_extent_are_those_of_a_whole_rebuild(scratch_url, db, make_frame,
                                                              write_source):
    # three rows of blocks 1.1 km apart (other cells), the middle one changed by an upsert
    rows = [_row_of_blocks(make_frame, west, uses) for west, uses in
            ((108.2, ["ODT", "TMD"]), (108.21, ["CLN", "CLN", "ODT"]), (108.22, ["ODT"]))]
    run_import(scratch_url, ImportRequest(PARCELS.id, write_source(pd.concat(
        rows, ignore_index=True), "gpkg", "all")))
    rows[1].loc[0, "land_use"] = "ODT"
    rows[1]["geometry"] = rows[1].geometry.translate(yoff=0.0001)
    run_import(scratch_url, ImportRequest(PARCELS.id, write_source(rows[1], "gpkg", "b"),
                                          mode="upsert"))
    shapes = ("SELECT land_use, cell_x, cell_y, feature_count, ST_AsText(geom_3857)"
              " FROM parcels_overview ORDER BY 1, 2, 3")
    by_extent = db.execute(shapes).fetchall()
    with db.transaction():
        refresh_overview(db, PARCELS, encode_tiles=False)
        whole = db.execute(shapes).fetchall()
    assert by_extent == whole
    counts = {use: sum(r[3] for r in whole if r[0] == use) for use in ("CLN", "ODT", "TMD")}
    assert counts == {"CLN": 1, "ODT": 4, "TMD": 1}


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


@pytest.mark.parametrize("layer", OVERVIEWS, ids=lambda layer: layer.id)
def test_stored_overview_tiles_are_what_tiles_would_encode(layer, scratch_url, db, make_frame,
                                                           write_source):
    step = 0.0005  # 50 m squares, touching, around a z12-15 tile corner
    squares = [shapely.box(108.2 + i * step, 16.05 + j * step, 108.2 + (i + 1) * step,
                           16.05 + (j + 1) * step) for i in range(4) for j in range(3)]
    if layer.is_line:  # pipes: each square's lower edge
        squares = [shapely.LineString(list(s.exterior.coords)[:2]) for s in squares]
    run_import(scratch_url, ImportRequest(layer.id, write_source(make_frame(layer, squares),
                                                                  "gpkg")))
    stored = db.execute(sql.SQL("SELECT z, x, y, mvt FROM {} ORDER BY z, x, y").format(
        sql.Identifier(layer.overview_tiles_table))).fetchall()
    zooms = range(layer.minzoom, layer.overview.maxzoom + 1)
    assert sorted({z for z, *_ in stored}) == list(zooms)
    for z, x, y, mvt in stored:
        encoded = _features(_encoded_now(db, layer, Tile(z, x, y)), layer.id)
        assert encoded and _features(mvt, layer.id) == encoded
    assert TILE_EXTENT == EXTENT and TILE_BUFFER == BUFFER


def test_a_replace_drops_the_overview_tiles_it_empties(scratch_url, db, make_frame,
                                                       write_source):
    near = _row_of_blocks(make_frame, 108.2, ["ODT", "TMD"])
    run_import(scratch_url, ImportRequest(PARCELS.id, write_source(near, "gpkg", "a")))
    far = _row_of_blocks(make_frame, 108.3, ["CLN"])  # 10 km east: other tiles
    run_import(scratch_url, ImportRequest(PARCELS.id, write_source(far, "gpkg", "b")))
    z = PARCELS.overview.maxzoom
    with db.cursor() as cur:
        old = render_tile(cur.connection, (PARCELS,), Tile(z, *tile_of(108.2005, 16.0502, z)),
                          PUBLIC)
        new = render_tile(cur.connection, (PARCELS,), Tile(z, *tile_of(108.3002, 16.0502, z)),
                          PUBLIC)
    assert old.data == b""
    assert [p["land_use"] for _, props, _ in _features(new.data, PARCELS.id)
            for p in [dict(props)]] == ["CLN"]


def test_an_upsert_re_encodes_the_tiles_it_changes(scratch_url, db, make_frame, write_source):
    frame = _row_of_blocks(make_frame, 108.2, ["ODT", "ODT"])
    run_import(scratch_url, ImportRequest(PARCELS.id, write_source(frame, "gpkg", "a")))
    frame.loc[1, "land_use"] = "TMD"
    run_import(scratch_url, ImportRequest(PARCELS.id, write_source(frame, "gpkg", "b"),
                                          mode="upsert"))
    for z in range(PARCELS.minzoom, PARCELS.overview.maxzoom + 1):
        tile = Tile(z, *tile_of(108.2005, 16.0502, z))
        with db.cursor() as cur:
            served = render_tile(cur.connection, (PARCELS,), tile, PUBLIC).data
        uses = sorted(dict(props)["land_use"] for _, props, _ in _features(served, "parcels"))
        assert uses == ["ODT", "TMD"], z


def test_a_load_joins_the_pipes_of_one_diameter_end_to_end(scratch_url, db, make_frame,
                                                           write_source):
    pipes = get_layer("drainage_pipes")
    step = 0.0004  # 40 m segments in a row, then a branch of another diameter
    lines = [shapely.LineString([(108.2 + i * step, 16.05), (108.2 + (i + 1) * step, 16.05)])
             for i in range(3)]
    lines.append(shapely.LineString([(108.2 + step, 16.05), (108.2 + step, 16.0504)]))
    frame = make_frame(pipes, lines)
    frame["diameter_mm"] = [400, 400, 400, 800]
    run_import(scratch_url, ImportRequest(pipes.id, write_source(frame, "gpkg")))
    rows = db.execute("SELECT diameter_mm, feature_count, ST_NumGeometries(geom_3857),"
                      " ST_NPoints(geom_3857), GeometryType(geom_3857) FROM"
                      " drainage_pipes_overview ORDER BY diameter_mm").fetchall()
    # the three 400 mm segments are one line of two points (the straight run simplified)
    assert rows == [(400, 3, 1, 2, "MULTILINESTRING"), (800, 1, 1, 2, "MULTILINESTRING")]
    z = pipes.overview.maxzoom
    with db.cursor() as cur:
        tile = render_tile(cur.connection, (pipes,), Tile(z, *tile_of(108.2006, 16.0501, z)),
                           PUBLIC)
    carried = mapbox_vector_tile.decode(tile.data)["drainage_pipes"]["features"]
    assert sorted((f["properties"]["diameter_mm"], f["properties"]["feature_count"])
                  for f in carried) == [(400, 3), (800, 1)]
    assert all(set(f["properties"]) == {"diameter_mm", "feature_count"} for f in carried)


PER_FEATURE = [layer for layer in OVERVIEWS if set(layer.key) <= set(layer.overview.group_by)]


@pytest.mark.parametrize("layer", PER_FEATURE, ids=lambda layer: layer.id)
def test_an_overview_grouped_by_its_key_keeps_each_feature_and_its_fields(layer, scratch_url,
                                                                        db, make_frame,
                                                                        write_source):
    step = 0.0005  # touching 50 m squares: an overview by land use would merge them
    squares = [shapely.box(108.2 + i * step, 16.05, 108.2 + (i + 1) * step, 16.0505)
               for i in range(3)]
    run_import(scratch_url, ImportRequest(layer.id, write_source(make_frame(layer, squares),
                                                                  "gpkg")))
    z = layer.overview.maxzoom
    with db.cursor() as cur:
        low, high = (render_tile(cur.connection, (layer,), Tile(zoom, *tile_of(108.2008, 16.0502,
                                                                                zoom)), PUBLIC)
                     for zoom in (z, z + 1))
    overview = mapbox_vector_tile.decode(low.data)[layer.id]["features"]
    features = mapbox_vector_tile.decode(high.data)[layer.id]["features"]
    assert len(overview) == len(features) == 3
    assert all(f["properties"]["feature_count"] == 1 for f in overview)
    assert sorted(sorted({k: v for k, v in f["properties"].items() if k != "feature_count"}
                         .items()) for f in overview) == \
        sorted(sorted(f["properties"].items()) for f in features)
