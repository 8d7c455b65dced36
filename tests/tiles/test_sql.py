"""Tile SQL: one statement per composite tile, checked against PostGIS directly."""
import dataclasses

import mapbox_vector_tile
import psycopg
import pytest

from layers import LAYERS, ROLES, Access, Field, FieldType, get_layer
from tiles.grid import Tile
from tiles.sql import (BUFFER, EXTENT, LABEL_SUFFIX, SIMPLIFY_MAX_ZOOM, composite_tile_sql,
                        has_label_points, is_overview, render_tile, tile_fields)

from .conftest import CENTER, center_tile, insert_features

PUBLIC = ROLES["public"]
STAFF = ROLES["planner"]


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def postgis_count(conn, layer, tile: Tile) -> int:
    return conn.execute(
        "SELECT count(*) FROM " + psycopg.sql.Identifier(layer.table).as_string(conn) +
        " WHERE ST_Intersects(geom_3857, ST_TileEnvelope(%s, %s, %s, margin => %s))",
        (tile.z, tile.x, tile.y, BUFFER / EXTENT)).fetchone()[0]


def coordinates(geometry) -> list:
    out, stack = [], [geometry["coordinates"]]
    while stack:
        item = stack.pop()
        if item and isinstance(item[0], (int, float)):
            out.append(item)
        else:
            stack.extend(item)
    return out


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_layer_tile_matches_a_direct_postgis_count(city_url, layer_id):
    layer, tile = get_layer(layer_id), center_tile()
    with psycopg.connect(city_url) as conn:
        rendered = render_tile(conn, (layer,), tile, PUBLIC)
        expected = postgis_count(conn, layer, tile)
    layers = decode(rendered.data)
    assert [name for name in layers if not name.endswith(LABEL_SUFFIX)] == [layer_id]
    features = layers[layer_id]["features"]
    assert len(features) == expected == 3
    names = {f.name for f in tile_fields(layer, PUBLIC)}
    for feature in features:
        assert set(feature["properties"]) <= names
        assert not any(layer.field(n).access is not Access.PUBLIC for n in feature["properties"])
        for x, y in coordinates(feature["geometry"]):
            assert -BUFFER <= x <= EXTENT + BUFFER and -BUFFER <= y <= EXTENT + BUFFER


def test_composite_holds_every_layer_in_request_order(city_url):
    layers = tuple(LAYERS.values())
    with psycopg.connect(city_url) as conn:
        rendered = render_tile(conn, layers, center_tile(), PUBLIC)
    drawn = [name for name in decode(rendered.data) if not name.endswith(LABEL_SUFFIX)]
    assert drawn == list(LAYERS)
    assert rendered.versions == (0,) * len(LAYERS)


def test_composite_is_one_statement():
    text = composite_tile_sql(tuple(LAYERS), PUBLIC, 14)
    assert text.count(";") == 0 and text.startswith("SELECT ")
    labelled = [layer for layer in LAYERS.values() if has_label_points(layer, 14)]
    # an overview arrives encoded by the ETL: read from its tiles table, not encoded again
    overviews = [layer for layer in LAYERS.values() if is_overview(layer, 14)]
    assert text.count("ST_AsMVT(") == len(LAYERS) - len(overviews) + len(labelled)
    assert all(f'FROM "{layer.overview_tiles_table}"' in text for layer in overviews)


def test_lines_and_polygons_are_simplified_at_low_zoom_only():
    shapes = tuple(lid for lid, layer in LAYERS.items() if not layer.is_point)
    low = composite_tile_sql(shapes, PUBLIC, SIMPLIFY_MAX_ZOOM)
    high = composite_tile_sql(shapes, PUBLIC, SIMPLIFY_MAX_ZOOM + 1)
    # layers that carry their overview there are simplified when the overview is built
    detailed = [lid for lid in shapes if not is_overview(get_layer(lid), SIMPLIFY_MAX_ZOOM)]
    assert low.count("ST_Simplify(") == len(detailed) and "ST_Simplify(" not in high
    points = tuple(lid for lid, layer in LAYERS.items() if layer.is_point)
    assert "ST_Simplify(" not in composite_tile_sql(points, PUBLIC, 0)


def test_a_detailed_polygon_survives_simplification_at_its_lowest_zoom(scratch_url):
    wards = get_layer("wards")
    with psycopg.connect(scratch_url) as conn:
        conn.execute(
            "INSERT INTO wards (code, name, geom) VALUES ('1', 'Hải Châu', ST_Multi("
            "ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 0.01, 500)))", CENTER)
        rendered = render_tile(conn, (wards,), center_tile(wards.minzoom), PUBLIC)
    features = decode(rendered.data)["wards"]["features"]
    assert len(features) == 1 and len(coordinates(features[0]["geometry"])) > 8


@pytest.mark.parametrize("layer_id", [lid for lid, layer in LAYERS.items()
                                      if layer.feature_minzoom])
def test_features_shown_from_a_higher_zoom_are_held_back_below_it(scratch_url, layer_id):
    layer = get_layer(layer_id)
    held = layer.feature_minzoom
    choices = layer.field(held.field).choices
    insert_features(scratch_url, layer, len(choices), step=0.00002)  # one of each, one tile
    values = {}
    with psycopg.connect(scratch_url) as conn:
        for z in range(layer.minzoom, held.minzoom + 2):
            features = decode(render_tile(conn, (layer,), center_tile(z), PUBLIC).data)
            values[z] = sorted(f["properties"][held.field]
                               for f in features.get(layer_id, {"features": []})["features"])
    for z, got in values.items():
        expected = [v for v in choices if z >= held.minzoom or v not in held.values]
        assert got == sorted(expected), z
    assert set(held.values) < set(choices)  # the layer still shows some features below


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_layer_is_absent_outside_its_zoom_range(city_url, layer_id):
    layer = get_layer(layer_id)
    with psycopg.connect(city_url) as conn:
        for z in {layer.minzoom - 1, layer.maxzoom + 1} & set(range(0, 23)):
            rendered = render_tile(conn, (layer,), center_tile(z), PUBLIC)
            assert rendered.data == b""
        rendered = render_tile(conn, (layer,), center_tile(max(layer.minzoom, 12)), PUBLIC)
        assert layer_id in decode(rendered.data)


def test_staff_fields_reach_staff_only(city_url):
    parcels = get_layer("parcels")
    staff_only = {f.name for f in parcels.fields if f.access is Access.STAFF}
    with psycopg.connect(city_url) as conn:
        public = decode(render_tile(conn, (parcels,), center_tile(), PUBLIC).data)
        staff = decode(render_tile(conn, (parcels,), center_tile(), STAFF).data)
    assert staff_only and not staff_only & set(public["parcels"]["features"][0]["properties"])
    assert staff_only <= set(staff["parcels"]["features"][0]["properties"])


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_personal_fields_never_go_in_a_tile(layer_id, role):
    layer = get_layer(layer_id)
    secret = Field("holder_name", FieldType.TEXT, {"vi": "Họ tên", "en": "Name"},
                   access=Access.PERSONAL)
    with_secret = dataclasses.replace(layer, fields=layer.fields + (secret,))
    fields = tile_fields(with_secret, ROLES[role])
    assert all(f.access is not Access.PERSONAL for f in fields)
    assert {f.name for f in fields} == {f.name for f in layer.visible_fields(ROLES[role])
                                        if f.access is not Access.PERSONAL}


def test_feature_cap_limits_each_layer(city_url):
    parcels = get_layer("parcels")
    with psycopg.connect(city_url) as conn:
        rendered = render_tile(conn, (parcels,), center_tile(), PUBLIC, max_features=2)
    assert len(decode(rendered.data)["parcels"]["features"]) == 2


@pytest.fixture()
def parcels_capped_at(monkeypatch):
    """Declare a per-layer tile cap on parcels for one test (the tile SQL is rebuilt)."""
    import tiles.sql

    def declare(cap: int):
        monkeypatch.setitem(LAYERS, "parcels",
                            dataclasses.replace(LAYERS["parcels"], tile_max_features=cap))
        tiles.sql.layer_tile_sql.cache_clear()
        tiles.sql.composite_tile_sql.cache_clear()
        return LAYERS["parcels"]

    yield declare
    tiles.sql.layer_tile_sql.cache_clear()
    tiles.sql.composite_tile_sql.cache_clear()


def test_a_layers_own_cap_applies_below_the_server_cap(city_url, parcels_capped_at):
    with psycopg.connect(city_url) as conn:
        uncapped = render_tile(conn, (LAYERS["parcels"],), center_tile(), PUBLIC)
        parcels = parcels_capped_at(2)
        own = render_tile(conn, (parcels,), center_tile(), PUBLIC)
        server = render_tile(conn, (parcels,), center_tile(), PUBLIC, max_features=1)
    assert len(decode(uncapped.data)["parcels"]["features"]) > 2
    assert len(decode(own.data)["parcels"]["features"]) == 2
    assert len(decode(server.data)["parcels"]["features"]) == 1


def test_feature_ids_are_the_table_ids(city_url):
    roads = get_layer("roads")
    with psycopg.connect(city_url) as conn:
        ids = {r[0] for r in conn.execute("SELECT id FROM roads")}
        rendered = render_tile(conn, (roads,), center_tile(), PUBLIC)
    assert {f["id"] for f in decode(rendered.data)["roads"]["features"]} == ids


def test_a_tile_over_the_size_limit_is_logged(city_url, monkeypatch, caplog):
    import tiles.sql

    def logged():  # tiles.sql's own: an earlier test's listener thread may still log
        return [r for r in caplog.records if r.name == tiles.sql.log.name]

    parcels = get_layer("parcels")
    with psycopg.connect(city_url) as conn:
        size = len(render_tile(conn, (parcels,), center_tile(), PUBLIC).data)
        monkeypatch.setattr(tiles.sql, "BIG_TILE_BYTES", size)
        render_tile(conn, (parcels,), center_tile(), PUBLIC)
        assert not logged()
        monkeypatch.setattr(tiles.sql, "BIG_TILE_BYTES", size - 1)
        render_tile(conn, (parcels,), center_tile(), PUBLIC)
    assert [r.levelname for r in logged()] == ["WARNING"]
    assert "parcels" in logged()[0].getMessage()
