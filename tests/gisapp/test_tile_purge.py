"""After an import commits, its tiles are purged from a real nginx cache in front of a web
node (Debian's libnginx-mod-http-cache-purge, loaded by `gisapp nginx start`): a tile cached
for ten minutes is served fresh right after `gisapp etl import` touched it, in both
encodings; what the purge did is recorded in the run; a cache that cannot be reached is
retried, recorded and never fails the import; signed-in requests never use the cache."""
from __future__ import annotations

import gzip as gz
import http.client
import itertools
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import psycopg
import pytest
import shapely

from gisapp.etl_ops.runs import get_run
from gisapp.reverse_proxy import ProxyConfig, start, stop
from layers import get_layer
from tests.pg_cluster import PgCluster, pg_cluster  # noqa: F401
from tests.served import free_port, gunicorn
from tests.world import field_value
from tiles.grid import Tile, tile_of

WIFI = get_layer("wifi_aps")
CENTER = (108.22705602, 16.06114045)  # the Dragon Bridge
FILES = itertools.count()
FAR = (108.1500, 16.0000)  # south-west of the city: tiles the imports near the bridge never touch


class Front:
    """nginx (caching /tiles/ for the app's max-age of 600 s) in front of one gunicorn."""

    def __init__(self, proxy: int, url: str):
        self.proxy, self.url = proxy, url
        self.host = f"127.0.0.1:{proxy}"

    def get(self, path: str, headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy, timeout=60)
        try:
            conn.request("GET", path, headers={"Host": self.host, **(headers or {})})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def front(pg_cluster: PgCluster, tmp_path_factory) -> Front:
    url = pg_cluster.create_database("gisapp_tile_purge")
    data = tmp_path_factory.mktemp("purge-data")
    proxy_port = free_port()
    env = {"GISAPP_PUBLIC_URL": f"http://127.0.0.1:{proxy_port}", "GISAPP_PROXY_HOPS": "1",
           "GISAPP_TILE_CACHE_CONTROL": "public, max-age=600"}
    prefix = Path(tempfile.mkdtemp(prefix="gisapp-nginx-purge-"))  # www-data may enter /tmp
    prefix.chmod(0o755)
    with gunicorn(url, data, workers=1, env=env) as app_port:
        cfg = ProxyConfig(prefix=prefix, listen=f"127.0.0.1:{proxy_port}",
                          upstream=f"127.0.0.1:{app_port}", max_upload_mb=16)
        start(cfg)
        try:
            yield Front(proxy_port, url)
        finally:
            stop(cfg)
            shutil.rmtree(prefix, ignore_errors=True)


def _wifi_file(tmp_path: Path, tag: str, where: tuple[float, float]) -> Path:
    """Three new access points (keys of their own) named <tag>-<i>, east of `where`."""
    points = [shapely.Point(where[0] + i * 0.0002, where[1]) for i in range(3)]
    first = 3 * next(FILES)
    data = {f.name: [field_value(f, first + i) for i in range(3)]
            for f in WIFI.imported_fields}
    data["name"] = [f"{tag}-{i}" for i in range(3)]
    path = tmp_path / f"wifi-{tag}.geojson"
    gpd.GeoDataFrame(data, geometry=points, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def _import(runner, front: Front, path: Path, purge_url: str) -> tuple[int, dict]:
    result = runner("etl", "import", WIFI.id, str(path), "--mode", "append",
                    env={"DATABASE_URL": front.url, "GISAPP_TILE_PURGE_URL": purge_url,
                         "GISAPP_PUBLIC_URL": f"http://{front.host}",
                         "GISAPP_TILE_PURGE_ZOOM": "14-17"})
    assert result.exit_code == 0, result.output
    with psycopg.connect(front.url) as conn:
        run_id, report = conn.execute("SELECT id, tile_purge FROM etl_runs WHERE layer = %s"
                                      " ORDER BY id DESC LIMIT 1", (WIFI.id,)).fetchone()
    return run_id, report


def _names(front: Front, path: str, gzip: bool) -> tuple[set[str], str]:
    status, headers, body = front.get(path, {"Accept-Encoding": "gzip, deflate, br"}
                                      if gzip else {})
    assert status == 200, (status, body[:300])
    assert (headers.get("content-encoding") == "gzip") == gzip
    if gzip:
        body = gz.decompress(body)
    features = mapbox_vector_tile.decode(body).get(WIFI.id, {"features": []})["features"]
    return {f["properties"]["name"] for f in features}, headers.get("x-cache-status", "")


def test_an_import_purges_the_cached_tiles_it_touched(front, runner, tmp_path):
    near = f"/tiles/{WIFI.id}/{Tile(16, *tile_of(*CENTER, 16))}.mvt"
    far = f"/tiles/{WIFI.id}/{Tile(16, *tile_of(*FAR, 16))}.mvt"
    purge_url = f"http://{front.host}/_purge"
    _import(runner, front, _wifi_file(tmp_path, "far", FAR), purge_url)
    _import(runner, front, _wifi_file(tmp_path, "v1", CENTER), purge_url)
    for gzip in (True, False):
        assert _names(front, near, gzip)[1] == "MISS"
        assert _names(front, near, gzip) == ({"v1-0", "v1-1", "v1-2"}, "HIT")
        assert _names(front, far, gzip)[1] in ("MISS", "HIT")
        assert _names(front, far, gzip)[1] == "HIT"

    run_id, report = _import(runner, front, _wifi_file(tmp_path, "v2", CENTER), purge_url)
    assert report["failed"] == 0 and report["skipped"] is None, report
    assert report["purged"] == 2, report  # the tile above, gzip and plain: nothing else cached
    assert report["requests"] == 2 * report["tiles"] * 2, report  # the layer, the style's list
    assert report["not_cached"] == report["requests"] - 2
    with psycopg.connect(front.url) as conn:
        assert get_run(conn, run_id)["tile_purge"] == report  # GET /api/etl/runs/<id>
    for gzip in (True, False):
        names, cache = _names(front, near, gzip)
        assert cache == "MISS" and {"v2-0", "v2-1", "v2-2"} <= names, (names, cache)
        assert _names(front, far, gzip)[1] == "HIT"  # outside the run's extent: kept
    # An import elsewhere never touches it again.
    _import(runner, front, _wifi_file(tmp_path, "far2", FAR), purge_url)
    assert _names(front, near, True)[1] == "HIT"


def test_an_unreachable_cache_is_retried_recorded_and_never_fails_the_import(
        front, runner, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    run_id, report = _import(runner, front, _wifi_file(tmp_path, "v3", CENTER), closed)
    assert report["requests"] == 2 * report["tiles"] * 2 > 3, report
    assert report["failed"] == report["requests"] and report["purged"] == 0, report
    assert report["retried"] == 2 * 3, report  # three requests tried thrice, then given up
    assert all("ConnectionRefusedError" in e for e in report["errors"][:3]), report
    assert report["errors"][3] == (f"3 requests failed in a row: the other "
                                   f"{report['requests'] - 3} were not sent"), report
    with psycopg.connect(front.url) as conn:
        status = conn.execute("SELECT status FROM etl_runs WHERE id = %s", (run_id,)).fetchone()[0]
    assert status == "succeeded"


def test_signed_in_requests_bypass_the_tile_cache(front):
    path = f"/tiles/{WIFI.id}/{Tile(16, *tile_of(*CENTER, 16))}.mvt"
    front.get(path)
    for headers in ({"Cookie": "session=x"}, {"Authorization": "Bearer nothing"}):
        status, got, _ = front.get(path, headers)
        assert got.get("x-cache-status") == "BYPASS", (status, got)

