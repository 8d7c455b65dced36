"""Tiles of the demo city (the test database, read only): counts agree with PostGIS."""
import gzip

import mapbox_vector_tile
import psycopg
import pytest
from psycopg import sql

from layers import LAYERS, ROLES, Access
from tiles.grid import Tile, tile_of
from tiles.sql import BUFFER, EXTENT, holds_back, is_in_zoom, is_overview, tile_fields

ALL = ",".join(LAYERS)


def busiest_point(test_url: str) -> tuple[float, float]:
    with psycopg.connect(test_url) as conn:
        row = conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p"
                           " FROM parcels ORDER BY id LIMIT 1 OFFSET 100) AS x").fetchone()
    assert row, "the test database must hold the demo city (make test loads it)"
    return row


@pytest.mark.parametrize("z", [14, 15, 16])
def test_demo_tile_matches_postgis_for_every_layer(client, test_url, z):
    tile = Tile(z, *tile_of(*busiest_point(test_url), z))
    r = client.get(f"/tiles/{ALL}/{tile}.mvt", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    decoded = mapbox_vector_tile.decode(gzip.decompress(r.data))
    with psycopg.connect(test_url) as conn:
        for layer in LAYERS.values():
            # features touching the envelope plus buffer whose clipped, snapped shape is not
            # empty (a sliver of a few mm in the buffer encodes to nothing), less those shown
            # only from a higher zoom (manholes from z15)
            held = sql.SQL("")
            if holds_back(layer, z):
                held = sql.SQL(" AND ({} = ANY(%(held)s)) IS NOT TRUE").format(
                    sql.Identifier(layer.feature_minzoom.field))
            expected = conn.execute(sql.SQL(
                "SELECT count(*) FROM {} WHERE geom_3857 &&"
                " ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(m)s) AND ST_AsMVTGeom("
                "geom_3857, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(e)s, %(b)s, true) IS NOT NULL"
                "{}").format(sql.Identifier(layer.overview_table if is_overview(layer, z)
                                            else layer.table), held),
                {"z": tile.z, "x": tile.x, "y": tile.y, "m": BUFFER / EXTENT, "e": EXTENT,
                 "b": BUFFER, "held": list(layer.feature_minzoom.values)
                 if layer.feature_minzoom else None}).fetchone()[0]
            if not is_in_zoom(layer, z):
                assert layer.id not in decoded
                continue
            got = decoded.get(layer.id, {"features": []})["features"]
            assert len(got) == expected, layer.id
            allowed = {f.name for f in tile_fields(layer, ROLES["public"])}
            if is_overview(layer, z):  # merged features: their group and how many they merge
                allowed = (allowed & set(layer.overview.group_by)) | {"feature_count"}
            for feature in got:
                assert set(feature["properties"]) <= allowed
    assert ("parcels" in decoded) == is_in_zoom(LAYERS["parcels"], z)


def test_demo_parcel_tiles_carry_no_staff_or_personal_fields(client, test_url):
    tile = Tile(16, *tile_of(*busiest_point(test_url), 16))
    decoded = mapbox_vector_tile.decode(client.get(f"/tiles/parcels/{tile}.mvt").data)
    hidden = {f.name for f in LAYERS["parcels"].fields if f.access is not Access.PUBLIC}
    for feature in decoded["parcels"]["features"]:
        assert not hidden & set(feature["properties"])


@pytest.mark.parametrize("layer_id, z", [("wards", 13), ("zoning", 15)])
def test_an_area_is_named_once_however_many_tiles_it_spans(test_url, layer_id, z):
    """Each area's label point is in one tile only: a ward or a zone is named once."""
    from tiles.grid import tiles_in_bbox
    from tiles.sql import has_label_points, label_layer_name, render_tile

    layer = LAYERS[layer_id]
    assert has_label_points(layer, z)
    with psycopg.connect(test_url) as conn:
        bbox = conn.execute(sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                                    " (SELECT ST_Extent(geom) AS e FROM {}) AS x").format(
            sql.Identifier(layer.table))).fetchone()
        total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(layer.table))).fetchone()[0]
        named, spanning = [], 0
        for tile in tiles_in_bbox(bbox, range(z, z + 1)):
            decoded = mapbox_vector_tile.decode(
                render_tile(conn, (layer,), tile, ROLES["public"]).data)
            named += [f["id"] for f in decoded.get(label_layer_name(layer), {}).get("features", [])]
            spanning += len(decoded.get(layer.id, {}).get("features", []))
    assert sorted(named) == sorted(set(named)) and len(named) == total
    assert spanning > total  # the areas themselves do span several tiles
