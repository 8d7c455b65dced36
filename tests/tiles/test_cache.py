"""The tile cache: single-flight builds, versions in keys, precise invalidation after loads."""
import gzip
import json
import threading
import time
from contextlib import contextmanager

import geopandas as gpd
import mapbox_vector_tile
import psycopg
import pytest
import shapely

from gisapp import create_app
from layers import LAYERS, ROLES, get_layer
from tiles.cache import DiskStore, MemoryLRU, SingleFlight, TileKey
from tiles.grid import Tile, tile_of

from tests.world import field_value
from .conftest import CENTER, insert_features

PUBLIC = ROLES["public"]
WIFI = get_layer("wifi_aps")
FAR = (CENTER[0] + 0.06, CENTER[1])  # about 6 km east: other tiles from zoom 13 up
ZOOMS = (13, 14, 15, 16)


def names(client, tile: Tile) -> set:
    r = client.get(f"/tiles/wifi_aps/{tile}.mvt")
    assert r.status_code == 200
    return {f["properties"]["name"] for f in mapbox_vector_tile.decode(r.data)["wifi_aps"]["features"]}


def tiles_at(point, zooms=ZOOMS) -> list[Tile]:
    return [Tile(z, *tile_of(*point, z)) for z in zooms]


@pytest.fixture()
def scratch_tiles_app(scratch_url, tmp_path):
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path / "data", "TILE_CACHE": "memory+disk"})
    yield app
    app.extensions["engine"].dispose()


def test_memory_lru_evicts_least_recently_used_by_size():
    lru = MemoryLRU(max_bytes=10)
    lru.put("a", b"1234")
    lru.put("b", b"1234")
    assert lru.get("a") == b"1234"
    lru.put("c", b"1234")
    assert lru.get("b") is None and lru.get("a") and lru.get("c")
    lru.put("huge", b"x" * 11)
    assert lru.get("huge") is None


def test_a_lagging_node_never_writes_a_tile_older_than_the_shared_store(tmp_path):
    """Two web nodes on one shared store: node A has dropped what version 2 made stale;
    node B, which has not heard of version 2 yet, renders from version 1 data and must not
    put that tile back for A to serve as current."""
    key = TileKey(("wifi_aps",), "public", Tile(16, 1, 1))
    node_a, node_b = DiskStore(tmp_path), DiskStore(tmp_path)
    node_a.adopt({"wifi_aps": 1})
    node_b.adopt({"wifi_aps": 1})
    node_a.layer_changed("wifi_aps", 2, None)
    assert node_b.put(key, b"from version 1", ("wifi_aps",), (1,)) is False
    assert node_a.get(key) is None
    assert node_a.put(key, b"from version 2", ("wifi_aps",), (2,)) is True
    node_b.layer_changed("wifi_aps", 2, None)  # B hears of it late: already dropped, keep
    assert node_b.get(key) == b"from version 2"


def test_invalidations_by_two_nodes_keep_each_others_versions(tmp_path):
    node_a, node_b = DiskStore(tmp_path), DiskStore(tmp_path)
    node_a.adopt({"wifi_aps": 1, "roads": 1})
    node_b.adopt({"wifi_aps": 1, "roads": 1})
    node_a.layer_changed("wifi_aps", 2, None)
    node_b.layer_changed("roads", 2, None)  # B's own record still says wifi_aps 1
    assert json.loads((tmp_path / "versions.json").read_text()) == {"wifi_aps": 2, "roads": 2}
    key = TileKey(("wifi_aps",), "public", Tile(16, 1, 1))
    assert node_a.put(key, b"old", ("wifi_aps",), (1,)) is False


def test_single_flight_runs_one_build_for_concurrent_callers():
    flights, started = SingleFlight(), threading.Barrier(8)
    results = []

    def build():
        time.sleep(0.2)
        return object()

    def call():
        started.wait()
        results.append(flights.do("k", build))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert flights.builds == 1 and len({id(r) for r in results}) == 1


def test_concurrent_misses_of_one_tile_render_it_once(make_app):
    service = make_app(TILE_CACHE="memory").extensions["tiles"]
    renders, real_connect = [], service.connect

    @contextmanager
    def counted():
        renders.append(1)
        time.sleep(0.2)  # hold the render open so every thread arrives while it runs
        with real_connect() as conn:
            yield conn

    service.connect = counted
    layers, tile = tuple(LAYERS.values()), Tile(16, *tile_of(*CENTER, 16))
    barrier, bodies = threading.Barrier(8), []

    def fetch():
        barrier.wait()
        bodies.append(service.get_tile(layers, PUBLIC, tile).data)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(renders) == 1 and len(set(bodies)) == 1 and bodies[0]


def test_access_level_is_part_of_the_key(make_app):
    service = make_app(TILE_CACHE="memory").extensions["tiles"]
    tile = Tile(16, *tile_of(*CENTER, 16))
    parcels = (get_layer("parcels"),)
    public = mapbox_vector_tile.decode(gzip.decompress(
        service.get_tile(parcels, PUBLIC, tile).data))
    staff = mapbox_vector_tile.decode(gzip.decompress(
        service.get_tile(parcels, ROLES["planner"], tile).data))
    assert "certificate_no" not in public["parcels"]["features"][0]["properties"]
    assert "certificate_no" in staff["parcels"]["features"][0]["properties"]


def _disk_paths(app, point) -> list:
    store = app.extensions["tiles"].disk
    return [store.path(TileKey(("wifi_aps",), "public", t)) for t in tiles_at(point)]


def test_a_load_in_sql_drops_only_tiles_touching_its_extent(scratch_url, scratch_tiles_app):
    insert_features(scratch_url, WIFI, 2)
    insert_features(scratch_url, WIFI, 2, lon=FAR[0], lat=FAR[1], start=10)
    client, service = scratch_tiles_app.test_client(), scratch_tiles_app.extensions["tiles"]
    assert not set(tiles_at(CENTER)) & set(tiles_at(FAR))
    for tile in tiles_at(CENTER) + tiles_at(FAR):
        names(client, tile)
    near_files, far_files = _disk_paths(scratch_tiles_app, CENTER), _disk_paths(scratch_tiles_app, FAR)
    assert all(p.exists() for p in near_files + far_files)
    before = names(client, tiles_at(CENTER)[-1])
    with psycopg.connect(scratch_url) as conn:  # what an ETL load does, by hand
        conn.execute("UPDATE wifi_aps SET name = 'Công viên Biển Đông' WHERE ap_id = %s",
                     (field_value(WIFI.field("ap_id"), 0),))
        version = conn.execute(
            "INSERT INTO layer_state (layer, data_version) VALUES ('wifi_aps', 1) ON CONFLICT"
            " (layer) DO UPDATE SET data_version = layer_state.data_version + 1"
            " RETURNING data_version").fetchone()[0]
        payload = {"layer": "wifi_aps", "data_version": version, "run_id": None,
                   "bbox": [CENTER[0], CENTER[1], CENTER[0], CENTER[1]]}
        conn.execute("SELECT pg_notify('gisapp_layer_changed', %s)", (json.dumps(payload),))
    deadline = time.monotonic() + 10
    while not service.disk.is_synced(("wifi_aps",), (version,)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not any(p.exists() for p in near_files)
    assert all(p.exists() for p in far_files)
    after = names(client, tiles_at(CENTER)[-1])
    assert "Công viên Biển Đông" in after and after != before
    assert names(client, tiles_at(FAR)[-1]) == {field_value(WIFI.field("name"), i) for i in (10, 11)}


def _wifi_file(path, rows):
    data = {f.name: [] for f in WIFI.imported_fields}
    geoms = []
    for i, (name, lon, lat) in enumerate(rows):
        for f in WIFI.imported_fields:
            data[f.name].append(field_value(f, i))
        data["name"][-1] = name
        data["range_m"][-1] = 50.0
        geoms.append(shapely.Point(lon, lat))
    gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def test_an_import_is_visible_on_the_next_request(scratch_url, scratch_tiles_app, tmp_path):
    from etl.pipeline import ImportRequest, run_import

    client = scratch_tiles_app.test_client()
    first = _wifi_file(tmp_path / "a.geojson", [("Chợ Hàn", *CENTER), ("Bãi Mỹ Khê", *FAR)])
    run_import(scratch_url, ImportRequest(layer="wifi_aps", path=first))
    near, far = tiles_at(CENTER)[-1], tiles_at(FAR)[-1]
    assert names(client, near) == {"Chợ Hàn"} and names(client, far) == {"Bãi Mỹ Khê"}
    far_files = _disk_paths(scratch_tiles_app, FAR)
    for tile in tiles_at(FAR):
        names(client, tile)
    second = _wifi_file(tmp_path / "b.geojson", [("Chợ Hàn mới", *CENTER), ("Bãi Mỹ Khê", *FAR)])
    result = run_import(scratch_url, ImportRequest(layer="wifi_aps", path=second))
    assert result.status == "succeeded"
    assert names(client, near) == {"Chợ Hàn mới"}
    assert all(p.exists() for p in far_files)
    assert names(client, far) == {"Bãi Mỹ Khê"}


def test_an_import_changes_the_etag_so_a_revalidating_client_gets_the_new_tile(
        scratch_url, scratch_tiles_app, tmp_path):
    from etl.pipeline import ImportRequest, run_import

    client, near = scratch_tiles_app.test_client(), tiles_at(CENTER)[-1]
    path = f"/tiles/wifi_aps/{near}.mvt"
    run_import(scratch_url, ImportRequest(
        layer="wifi_aps", path=_wifi_file(tmp_path / "a.geojson", [("Chợ Hàn", *CENTER)])))
    etag = client.get(path).headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    run_import(scratch_url, ImportRequest(
        layer="wifi_aps", path=_wifi_file(tmp_path / "b.geojson", [("Chợ Cồn", *CENTER)])))
    fresh = client.get(path, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert names(client, near) == {"Chợ Cồn"}


def test_a_feature_moved_by_an_import_leaves_no_stale_tile_where_it_was(
        scratch_url, scratch_tiles_app, tmp_path):
    from etl.pipeline import ImportRequest, run_import

    client, north = scratch_tiles_app.test_client(), (CENTER[0], CENTER[1] + 0.06)
    run_import(scratch_url, ImportRequest(layer="wifi_aps", path=_wifi_file(
        tmp_path / "a.geojson", [("Chợ Hàn", *CENTER), ("Bãi Mỹ Khê", *FAR)])))
    for tile in tiles_at(CENTER):
        assert names(client, tile) == {"Chợ Hàn"}
    assert all(p.exists() for p in _disk_paths(scratch_tiles_app, CENTER))
    run_import(scratch_url, ImportRequest(layer="wifi_aps", path=_wifi_file(
        tmp_path / "b.geojson", [("Chợ Hàn", *north), ("Bãi Mỹ Khê", *FAR)])))
    for tile in tiles_at(CENTER):
        assert client.get(f"/tiles/wifi_aps/{tile}.mvt").status_code == 204
    assert names(client, tiles_at(north)[-1]) == {"Chợ Hàn"}
