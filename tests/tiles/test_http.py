"""The tile endpoints over HTTP: status codes, headers, TileJSON."""
import gzip

import mapbox_vector_tile
import pytest

from layers import LAYERS, ROLES
from tiles.sql import LABEL_SUFFIX, has_label_points, tile_fields

from tests.db_proxy import proxied

from .conftest import CENTER, center_tile

ALL = ",".join(LAYERS)
TILE = center_tile()


def url(layers: str = ALL, tile=TILE) -> str:
    return f"/tiles/{layers}/{tile.z}/{tile.x}/{tile.y}.mvt"


def test_composite_tile_is_an_mvt_of_every_layer(city_client):
    r = city_client.get(url())
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.mapbox-vector-tile"
    names = list(mapbox_vector_tile.decode(r.data))
    assert [n for n in names if not n.endswith(LABEL_SUFFIX)] == list(LAYERS)
    assert {n for n in names if n.endswith(LABEL_SUFFIX)} == {  # areas named at one point
        f"{lid}{LABEL_SUFFIX}" for lid, layer in LAYERS.items() if has_label_points(layer, TILE.z)}


def test_empty_tile_is_204(city_client):
    r = city_client.get(url("parcels", center_tile(16).__class__(16, 0, 0)))
    assert r.status_code == 204 and r.data == b""
    assert "Content-Type" not in r.headers  # not Flask's default text/html


def test_layer_outside_every_zoom_is_204(city_client):
    r = city_client.get(url("buildings", center_tile(12)))
    assert r.status_code == 204


BAD_PATHS = [
    ("/tiles/parcels/23/0/0.mvt", 400), ("/tiles/parcels/-1/0/0.mvt", 400),
    ("/tiles/parcels/2/4/0.mvt", 400), ("/tiles/parcels/2/0/4.mvt", 400),
    ("/tiles/parcels/2/1.5/0.mvt", 400), ("/tiles/parcels/a/0/0.mvt", 400),
    ("/tiles/parcels/2/0/%20.mvt", 400), ("/tiles/parcels/99999999999/0/0.mvt", 400),
    ("/tiles/nope/2/0/0.mvt", 404), ("/tiles/parcels,nope/2/0/0.mvt", 404),
    ("/tiles/parcels,parcels/2/0/0.mvt", 400), (f"/tiles/{ALL},wards/2/0/0.mvt", 400),
    ("/tiles/PARCELS/2/0/0.mvt", 400), ("/tiles/parcels;select/2/0/0.mvt", 400),
    ("/tiles/parcels/2/0/0.png", 404), ("/tiles/nope.json", 404),
    ("/tiles/parcels,parcels.json", 400), ("/styles/nope.json", 404),
    ("/tiles/parcels%00/2/0/0.mvt", 400), ("/tiles/parcels/%00/0/0.mvt", 400),
    ("/tiles/parcels/2/0/0%00.mvt", 400), ("/tiles/%00.json", 400),
    ("/tiles/" + ",".join(["parcels"] * 500) + "/2/0/0.mvt", 400),
    ("/tiles/" + "a" * 2000 + "/2/0/0.mvt", 400), ("/tiles/parcels,/2/0/0.mvt", 400),
    ("/tiles/parcels/2/0/0.mvt/", 404), ("/tiles//2/0/0.mvt", 404),
]


@pytest.mark.parametrize("path,status", BAD_PATHS)
def test_bad_path_gets_its_documented_status_and_a_json_error(city_client, path, status):
    r = city_client.get(path)
    assert r.status_code == status
    assert r.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/styles/%00.json", "/rasters/%00/14/0/0.png",
                                  "/rasters/%00.json", "/rasters/a%00b/1/0/0.png"])
def test_a_nul_character_in_a_name_is_a_json_4xx_not_a_500(city_client, path):
    r = city_client.get(path)
    assert 400 <= r.status_code < 500 and r.get_json()["error"]["message"]


@pytest.mark.parametrize("path,status", BAD_PATHS[:8])
def test_head_of_a_bad_path_gets_the_same_status(city_client, path, status):
    assert city_client.head(path).status_code == status


def test_etag_and_if_none_match_give_304(city_client):
    first = city_client.get(url(), headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    again = city_client.get(url(), headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = city_client.get(url(), headers={"Accept-Encoding": "gzip", "If-None-Match": '"x"'})
    assert other.status_code == 200


@pytest.mark.parametrize("accept, gzipped", [
    ("gzip, deflate, br, zstd", True), ("br,GZIP", True), ("*", True), ("identity", False),
    ("", False), ("gzip;q=0, identity", False), ("gzip;q=0.5", True), ("br;q=1, *;q=0.1", True),
])
def test_gzip_follows_accept_encoding(city_client, accept, gzipped):
    r = city_client.get(url(), headers={"Accept-Encoding": accept})
    assert r.status_code == 200
    assert (r.headers.get("Content-Encoding") == "gzip") is gzipped
    data = gzip.decompress(r.data) if gzipped else r.data
    assert [n for n in mapbox_vector_tile.decode(data) if not n.endswith(LABEL_SUFFIX)] == \
        list(LAYERS)


def test_gzip_only_when_accepted(city_client):
    zipped = city_client.get(url(), headers={"Accept-Encoding": "gzip, deflate"})
    plain = city_client.get(url(), headers={"Accept-Encoding": "identity"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert "Accept-Encoding" in zipped.headers["Vary"]


@pytest.mark.parametrize("cache", ["off", "memory", "memory+disk"])
def test_every_cache_mode_serves_the_same_tile(make_app, cache):
    client = make_app(TILE_CACHE=cache).test_client()
    first, second = client.get(url()), client.get(url())
    assert first.status_code == second.status_code == 200
    assert mapbox_vector_tile.decode(first.data) == mapbox_vector_tile.decode(second.data)


def test_cache_control_is_configurable(make_app):
    client = make_app(TILE_CACHE_CONTROL="public, max-age=3600").test_client()
    assert client.get(url()).headers["Cache-Control"] == "public, max-age=3600"


def test_staff_tiles_are_never_stored_by_shared_caches(make_app):
    app = make_app(TILE_CACHE_CONTROL="public, max-age=3600")

    @app.before_request
    def _as_planner():
        from flask import g
        g.role = "planner"

    r = app.test_client().get(url())
    assert r.headers["Cache-Control"] == "private, max-age=3600"


def test_head_has_headers_and_no_body(city_client):
    r = city_client.head(url(), headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.data == b""
    assert r.headers["ETag"] and r.headers["Content-Encoding"] == "gzip"


def test_cors_allows_any_origin(city_client):
    r = city_client.get(url(), headers={"Origin": "https://example.org"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in r.headers["Access-Control-Expose-Headers"]
    pre = city_client.options(url(), headers={"Origin": "https://example.org",
                                              "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and "GET" in pre.headers["Access-Control-Allow-Methods"]


def test_tilejson_describes_the_layers_and_their_data(city_client):
    doc = city_client.get("/tiles/parcels,roads.json").get_json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == ["http://localhost/tiles/parcels,roads/{z}/{x}/{y}.mvt"]
    west, south, east, north = doc["bounds"]
    assert west <= CENTER[0] <= east and south <= CENTER[1] <= north
    lon, lat, zoom = doc["center"]
    assert west <= lon <= east and south <= lat <= north
    assert (doc["minzoom"], doc["maxzoom"]) == (10, 22) and 10 <= zoom <= 22
    # the layers, then the label points tiles carry for parcel numbers (z17 on)
    assert [v["id"] for v in doc["vector_layers"]] == ["parcels", "roads", "parcels_labels"]
    assert (doc["vector_layers"][2]["minzoom"], set(doc["vector_layers"][2]["fields"])) == (
        17, {"parcel_no", "land_use"})
    fields = doc["vector_layers"][0]["fields"]
    assert set(fields) == {f.name for f in tile_fields(LAYERS["parcels"], ROLES["public"])}
    assert fields["land_use"].startswith("Land use (")


def test_a_tile_outlives_a_database_restart_and_is_503_while_it_is_down(make_app, city_url):
    """Tile connections are not pinged before use: a dead one is dropped and the tile read
    again on a new connection, so a restart costs no failed tile; a database that cannot be
    reached at all is a 503 with a JSON error, not a 500."""
    proxy, through_proxy = proxied(city_url)
    client = make_app(DATABASE_URL=through_proxy, TILE_CACHE="off").test_client()
    try:
        first = client.get(url())
        assert first.status_code == 200
        proxy.cut()  # every pooled connection dies, as when the server restarts
        proxy.start()
        again = client.get(url())
        assert again.status_code == 200 and again.data == first.data
        proxy.cut()
        down = client.get(url())
        assert down.status_code == 503
        assert down.json["error"]["code"] == "database_unreachable"
        assert "database is unreachable" in down.json["error"]["message"]
        proxy.start()
        back = client.get(url())
        assert back.status_code == 200 and back.data == first.data
    finally:
        proxy.cut()
