"""OGC API – Tiles: tile matrix set, tilesets of collections and of the dataset, tile URLs."""
import gzip

import mapbox_vector_tile
import psycopg
import pytest

from etl.pipeline import ImportRequest, run_import
from gisapp import create_app
from layers import LAYERS
from layers.sources import OPENSTREETMAP
from tiles.grid import MAX_ZOOM, WORLD_HALF_M, Tile, tile_of
from tiles.sql import LABEL_SUFFIX, label_layer_name, label_zooms
from tiles.tilesets import (REL_TILESETS_VECTOR, REL_TILING_SCHEME, TILES_CONFORMANCE,
                            TMS_URI, WORLD_CRS84_QUAD)

from tests.etl.test_osm import EXTRACT

from .conftest import CENTER, center_tile

TILE = center_tile()
MVT = "application/vnd.mapbox-vector-tile"


def ogc(path: str, tile: Tile = TILE) -> str:
    return f"{path}/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"


def xyz(layers: str, tile: Tile = TILE) -> str:
    return f"/tiles/{layers}/{tile.z}/{tile.x}/{tile.y}.mvt"


def link(doc: dict, rel: str, media_type: str | None = None) -> dict:
    found = [ln for ln in doc["links"] if ln["rel"] == rel
             and (media_type is None or ln["type"] == media_type)]
    assert len(found) == 1, f"one {rel} link expected in {doc['links']}"
    return found[0]


def as_planner(app):
    @app.before_request
    def _planner():
        from flask import g
        g.role = "planner"
    return app


def test_the_tile_matrix_set_is_the_grid_tiles_are_cut_in(city_client):
    listed = city_client.get("/tileMatrixSets").get_json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == ["WebMercatorQuad", "WorldCRS84Quad"]
    doc = city_client.get(link(listed[0], "self")["href"]).get_json()
    assert doc["uri"] == TMS_URI and doc["crs"].endswith("/EPSG/0/3857")
    matrices = doc["tileMatrices"]
    assert [m["id"] for m in matrices] == [str(z) for z in range(MAX_ZOOM + 1)]
    for z, m in enumerate(matrices):
        assert m["matrixWidth"] == m["matrixHeight"] == 1 << z
        assert m["cellSize"] * 256 * (1 << z) == pytest.approx(2 * WORLD_HALF_M)
        assert m["scaleDenominator"] == pytest.approx(m["cellSize"] / 0.00028)
        assert m["pointOfOrigin"] == [-WORLD_HALF_M, WORLD_HALF_M]


def test_the_crs84_tile_matrix_set_is_the_lon_lat_grid(city_client):
    doc = city_client.get("/tileMatrixSets/WorldCRS84Quad").get_json()
    assert doc["uri"] == WORLD_CRS84_QUAD.uri and doc["crs"].endswith("/OGC/1.3/CRS84")
    assert doc["orderedAxes"] == ["Lon", "Lat"]
    matrices = doc["tileMatrices"]
    assert [m["id"] for m in matrices] == [str(n) for n in range(MAX_ZOOM)]
    for level, m in enumerate(matrices):
        assert (m["matrixWidth"], m["matrixHeight"]) == (2 << level, 1 << level)
        assert m["cellSize"] * 256 * (1 << level) == pytest.approx(180)
        assert m["pointOfOrigin"] == [-180, 90]
    assert matrices[0]["scaleDenominator"] == pytest.approx(279541132.0143588)  # OGC 17-083r4


def test_unknown_tile_matrix_set_is_404(city_client):
    for path in ("/tileMatrixSets/WorldMercatorWGS84Quad",
                 "/collections/parcels/tiles/WorldMercatorWGS84Quad",
                 "/tiles/WorldMercatorWGS84Quad", "/tiles/WorldMercatorWGS84Quad/16/0/0"):
        r = city_client.get(path)
        message = r.get_json()["error"]["message"]
        assert r.status_code == 404 and "WebMercatorQuad, WorldCRS84Quad" in message


def test_landing_page_and_collections_link_their_tilesets(city_client):
    landing = city_client.get("/?f=json").get_json()
    assert link(landing, REL_TILESETS_VECTOR)["href"].endswith("/tiles")
    for layer_id in LAYERS:
        doc = city_client.get(f"/collections/{layer_id}").get_json()
        assert link(doc, REL_TILESETS_VECTOR, "application/json")["href"].endswith(
            f"/collections/{layer_id}/tiles")


def test_conformance_lists_the_tiles_classes(city_client):
    conforms = city_client.get("/conformance").get_json()["conformsTo"]
    assert set(TILES_CONFORMANCE) <= set(conforms)
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conforms


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_every_collection_has_a_tileset_whose_tiles_are_the_xyz_tiles(city_client, layer_id):
    listed = city_client.get(f"/collections/{layer_id}/tiles").get_json()["tilesets"]
    assert [(t["dataType"], t["tileMatrixSetURI"]) for t in listed] == [
        ("vector", TMS_URI), ("vector", WORLD_CRS84_QUAD.uri)]
    doc = city_client.get(link(listed[0], "self", "application/json")["href"]).get_json()
    assert link(doc, REL_TILING_SCHEME)["href"].endswith("/tileMatrixSets/WebMercatorQuad")
    template = link(doc, "item", MVT)["href"]
    assert template.endswith(f"/collections/{layer_id}/tiles/WebMercatorQuad/"
                             "{tileMatrix}/{tileRow}/{tileCol}")
    layer = LAYERS[layer_id]
    labels = label_zooms(layer)  # an area's label points travel as a layer of their own
    assert [(d["id"], d["minTileMatrix"], d["maxTileMatrix"]) for d in doc["layers"]] == [
        (layer_id, str(layer.minzoom), str(layer.maxzoom))] + (
        [] if labels is None else [(label_layer_name(layer), str(labels[0]), str(labels[1]))])
    tile = center_tile(max(layer.minzoom, 16))
    path = template.split("localhost", 1)[1].format(tileMatrix=tile.z, tileRow=tile.y,
                                                    tileCol=tile.x)
    ogc_r, xyz_r = city_client.get(path), city_client.get(xyz(layer_id, tile))
    assert ogc_r.status_code == xyz_r.status_code == 200
    assert ogc_r.data == xyz_r.data and ogc_r.headers["ETag"] == xyz_r.headers["ETag"]
    decoded = mapbox_vector_tile.decode(ogc_r.data)
    assert [n for n in decoded if not n.endswith(LABEL_SUFFIX)] == [layer_id]
    listed_labels = {d["id"]: set(d["propertiesSchema"]["properties"]) for d in doc["layers"][1:]}
    for name in decoded:  # every label layer a tile carries is described, with its fields
        if name.endswith(LABEL_SUFFIX):
            for feature in decoded[name]["features"]:
                assert set(feature["properties"]) <= listed_labels[name]


def test_crs84_tiles_carry_the_features_of_their_lon_lat_cell(city_client, city_url):
    doc = city_client.get("/collections/parcels/tiles/WorldCRS84Quad").get_json()
    parcels = LAYERS["parcels"]
    assert (doc["layers"][0]["minTileMatrix"], doc["layers"][0]["maxTileMatrix"]) == (
        str(parcels.minzoom - 1), str(parcels.maxzoom - 1))
    level = 15  # as wide as Web Mercator z16: parcels themselves, not their overview
    size = 180 / (1 << level)
    col, row = int((CENTER[0] + 180) / size), int((90 - CENTER[1]) / size)
    limits = {lim["tileMatrix"]: lim for lim in doc["tileMatrixSetLimits"]}[str(level)]
    assert limits["minTileCol"] <= col <= limits["maxTileCol"]
    assert limits["minTileRow"] <= row <= limits["maxTileRow"]
    template = link(doc, "item", MVT)["href"].split("localhost", 1)[1]
    r = city_client.get(template.format(tileMatrix=level, tileRow=row, tileCol=col))
    assert r.status_code == 200 and r.headers["Content-Type"] == MVT
    assert r.headers["ETag"] != city_client.get(xyz("parcels", Tile(level + 1, col, row))).headers[
        "ETag"]
    decoded = mapbox_vector_tile.decode(r.data)["parcels"]["features"]
    west, north = -180 + col * size, 90 - row * size
    margin = size * 64 / 4096
    with psycopg.connect(city_url) as conn:
        expected = {pid for (pid,) in conn.execute(
            "SELECT id FROM parcels WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
            (west - margin, north - size - margin, west + size + margin, north + margin))}
    assert expected and {f["id"] for f in decoded} == expected
    for feature in decoded:  # tile units (y up, 4096 a side) back to degrees: in the cell
        point = feature["geometry"]["coordinates"]
        while isinstance(point[0], list):  # the first vertex of a (multi)polygon
            point = point[0]
        x, y = point
        lon, lat = west + x / 4096 * size, north - size + y / 4096 * size
        assert west - margin <= lon <= west + size + margin
        assert north - size - margin <= lat <= north + margin


@pytest.mark.parametrize("path", ["/tiles/WorldCRS84Quad/22/0/0",
                                  "/collections/parcels/tiles/WorldCRS84Quad/1/2/0",
                                  "/collections/parcels/tiles/WorldCRS84Quad/1/0/4"])
def test_crs84_tiles_off_the_grid_are_400(city_client, path):
    r = city_client.get(path)
    assert r.status_code == 400 and "outside" in r.get_json()["error"]["message"]


def test_tileset_limits_hold_the_data(city_client):
    doc = city_client.get("/collections/parcels/tiles/WebMercatorQuad").get_json()
    limits = {lim["tileMatrix"]: lim for lim in doc["tileMatrixSetLimits"]}
    parcels = LAYERS["parcels"]
    assert list(limits) == [str(z) for z in range(parcels.minzoom, parcels.maxzoom + 1)]
    for z, lim in limits.items():
        x, y = tile_of(*CENTER, int(z))
        assert lim["minTileCol"] <= x <= lim["maxTileCol"]
        assert lim["minTileRow"] <= y <= lim["maxTileRow"]
    (west, south), (east, north) = doc["boundingBox"]["lowerLeft"], doc["boundingBox"]["upperRight"]
    assert west <= CENTER[0] <= east and south <= CENTER[1] <= north


def test_the_dataset_tiles_are_the_composite_of_every_visible_layer(city_client):
    listed = city_client.get("/tiles").get_json()["tilesets"]
    doc = city_client.get(link(listed[0], "self")["href"]).get_json()
    labelled = [label_layer_name(layer) for layer in LAYERS.values() if label_zooms(layer)]
    assert [d["id"] for d in doc["layers"]] == list(LAYERS) + labelled
    assert all(d["geometryDimension"] == 0 for d in doc["layers"][len(LAYERS):])
    ogc_r = city_client.get(ogc("/tiles"), headers={"Accept-Encoding": "gzip"})
    xyz_r = city_client.get(xyz(",".join(LAYERS)), headers={"Accept-Encoding": "gzip"})
    assert ogc_r.headers["Content-Encoding"] == xyz_r.headers["Content-Encoding"] == "gzip"
    assert ogc_r.data == xyz_r.data and ogc_r.headers["ETag"] == xyz_r.headers["ETag"]
    assert [n for n in mapbox_vector_tile.decode(gzip.decompress(ogc_r.data))
            if not n.endswith(LABEL_SUFFIX)] == list(LAYERS)


def test_ogc_tiles_revalidate_and_are_204_when_empty(city_client):
    etag = city_client.get(ogc("/collections/parcels/tiles")).headers["ETag"]
    again = city_client.get(ogc("/collections/parcels/tiles"), headers={"If-None-Match": etag})
    assert again.status_code == 304
    empty = city_client.get(ogc("/collections/parcels/tiles", Tile(16, 0, 0)))
    assert empty.status_code == 204 and "Content-Type" not in empty.headers
    assert empty.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path,status", [
    ("/collections/parcels/tiles/WebMercatorQuad/23/0/0", 400),
    ("/collections/parcels/tiles/WebMercatorQuad/2/4/0", 400),
    ("/collections/parcels/tiles/WebMercatorQuad/2/0/x", 400),
    ("/collections/nope/tiles", 404), ("/collections/nope/tiles/WebMercatorQuad/2/0/0", 404),
    ("/tiles/WebMercatorQuad/-1/0/0", 400)])
def test_bad_tile_paths_are_json_errors(city_client, path, status):
    r = city_client.get(path)
    assert r.status_code == status and r.get_json()["error"]["message"]


def test_tileset_properties_follow_the_role(make_app):
    public = make_app().test_client().get("/collections/parcels/tiles/WebMercatorQuad")
    planner = as_planner(make_app()).test_client().get("/collections/parcels/tiles/WebMercatorQuad")
    fields = [set(r.get_json()["layers"][0]["propertiesSchema"]["properties"])
              for r in (public, planner)]
    assert "certificate_no" not in fields[0] and "certificate_no" in fields[1]
    assert planner.headers["Cache-Control"].startswith("private")


def test_tilesets_and_tilejson_carry_the_registry_attribution(city_client):
    wards = LAYERS["wards"].source.attribution
    assert city_client.get("/tiles/wards.json").get_json()["attribution"] == wards
    doc = city_client.get("/collections/wards/tiles/WebMercatorQuad").get_json()
    assert doc["attribution"] == wards
    composite = city_client.get("/tiles/WebMercatorQuad").get_json()["attribution"]
    assert all(layer.source.attribution in composite for layer in LAYERS.values())
    style = city_client.get("/styles/default.json").get_json()
    assert all(src["attribution"] for src in style["sources"].values())


def test_layers_showing_openstreetmap_data_credit_it(scratch_url, tmp_path):
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path / "data"})
    client = app.test_client()
    try:
        assert OPENSTREETMAP.attribution not in client.get("/tiles/roads.json").get_json()[
            "attribution"]
        run_import(scratch_url, ImportRequest("roads", EXTRACT))
        for path in ("/tiles/roads.json", "/tiles/roads,parcels.json",
                     "/collections/roads/tiles/WebMercatorQuad", "/tiles/WebMercatorQuad"):
            assert OPENSTREETMAP.attribution in client.get(path).get_json()["attribution"], path
        style = client.get("/styles/base.json").get_json()
        assert OPENSTREETMAP.attribution in style["sources"]["gisapp"]["attribution"]
        # a layer neither loaded from nor laid out on OpenStreetMap data does not credit it
        heritage = client.get("/tiles/heritage_areas.json").get_json()["attribution"]
        assert OPENSTREETMAP.attribution not in heritage
    finally:
        app.extensions["engine"].dispose()
