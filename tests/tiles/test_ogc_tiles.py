"""OGC API – Tiles: tile matrix set, tilesets of collections and of the dataset, tile URLs."""
import gzip

import mapbox_vector_tile
import pytest

from etl.pipeline import ImportRequest, run_import
from gisapp import create_app
from layers import LAYERS
from layers.sources import OPENSTREETMAP
from tiles.grid import MAX_ZOOM, WORLD_HALF_M, Tile, tile_of
from tiles.sql import LABEL_SUFFIX
from tiles.tilesets import (REL_TILESETS_VECTOR, REL_TILING_SCHEME, TILES_CONFORMANCE,
                            TMS_URI)

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
    assert [t["id"] for t in listed] == ["WebMercatorQuad"]
    doc = city_client.get(link(listed[0], "self")["href"]).get_json()
    assert doc["uri"] == TMS_URI and doc["crs"].endswith("/EPSG/0/3857")
    matrices = doc["tileMatrices"]
    assert [m["id"] for m in matrices] == [str(z) for z in range(MAX_ZOOM + 1)]
    for z, m in enumerate(matrices):
        assert m["matrixWidth"] == m["matrixHeight"] == 1 << z
        assert m["cellSize"] * 256 * (1 << z) == pytest.approx(2 * WORLD_HALF_M)
        assert m["scaleDenominator"] == pytest.approx(m["cellSize"] / 0.00028)
        assert m["pointOfOrigin"] == [-WORLD_HALF_M, WORLD_HALF_M]


def test_unknown_tile_matrix_set_is_404(city_client):
    for path in ("/tileMatrixSets/WorldCRS84Quad", "/collections/parcels/tiles/WorldCRS84Quad",
                 "/tiles/WorldCRS84Quad", "/tiles/WorldCRS84Quad/16/0/0"):
        r = city_client.get(path)
        assert r.status_code == 404 and "WebMercatorQuad" in r.get_json()["error"]["message"]


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
    assert [(t["dataType"], t["tileMatrixSetURI"]) for t in listed] == [("vector", TMS_URI)]
    doc = city_client.get(link(listed[0], "self", "application/json")["href"]).get_json()
    assert link(doc, REL_TILING_SCHEME)["href"].endswith("/tileMatrixSets/WebMercatorQuad")
    template = link(doc, "item", MVT)["href"]
    assert template.endswith(f"/collections/{layer_id}/tiles/WebMercatorQuad/"
                             "{tileMatrix}/{tileRow}/{tileCol}")
    layer = LAYERS[layer_id]
    assert [(d["id"], d["minTileMatrix"], d["maxTileMatrix"]) for d in doc["layers"]] == [
        (layer_id, str(layer.minzoom), str(layer.maxzoom))]
    tile = center_tile(max(layer.minzoom, 16))
    path = template.split("localhost", 1)[1].format(tileMatrix=tile.z, tileRow=tile.y,
                                                    tileCol=tile.x)
    ogc_r, xyz_r = city_client.get(path), city_client.get(xyz(layer_id, tile))
    assert ogc_r.status_code == xyz_r.status_code == 200
    assert ogc_r.data == xyz_r.data and ogc_r.headers["ETag"] == xyz_r.headers["ETag"]
    assert [n for n in mapbox_vector_tile.decode(ogc_r.data)
            if not n.endswith(LABEL_SUFFIX)] == [layer_id]  # (with its label points)


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
    assert [d["id"] for d in doc["layers"]] == list(LAYERS)
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
        parcels = client.get("/tiles/parcels.json").get_json()["attribution"]
        assert OPENSTREETMAP.attribution not in parcels
    finally:
        app.extensions["engine"].dispose()
