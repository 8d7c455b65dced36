"""Two web nodes behind a real nginx on one database: nothing one node needs lives only in
the other. Each node is a gunicorn of its own (its own processes, pools and tile-version
listener); they share the data directory (tile store and its build locks), as web nodes
share a volume. The database is a PostgreSQL cluster of the test's own, with
pg_stat_statements to count tile builds (tests/pg_cluster.py)."""
from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import psycopg
import pytest
import requests
import shapely
from psycopg import sql

from etl.pipeline import ImportRequest, run_import
from gisapp.reverse_proxy import ProxyConfig, start, stop
from layers import get_layer
from tests.auth_helpers import PASSWORD, csrf_from, ensure_user, make_token
from tests.pg_cluster import PgCluster, pg_cluster, wait_for  # noqa: F401
from tests.served import GISAPP, free_port, gunicorn, stop_group
from tests.world import field_value
from tiles.grid import Tile, tile_of

WIFI = get_layer("wifi_aps")
CENTER = (108.22705602, 16.06114045)  # the Dragon Bridge
TILE_STATEMENTS = "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE %s"


@pytest.fixture(scope="module")
def nodes_db(pg_cluster: PgCluster) -> str:
    url = pg_cluster.create_database("gisapp_web_nodes")
    with pg_cluster.superuser("gisapp_web_nodes") as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return url


class Nodes:
    """Node A, node B (gunicorn ports) and nginx in front of both; requests name the public
    host, as nginx's do."""

    def __init__(self, a: int, b: int, proxy: int, logs: tuple[Path, Path], site: Path,
                 shared: Path):
        self.a, self.b, self.proxy, self.logs, self.site = a, b, proxy, logs, site
        self.shared = shared
        self.host = f"127.0.0.1:{proxy}"

    def request(self, port: int, path: str, method: str = "GET", body: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(method, path, body=body, headers={"Host": self.host, **(headers or {})})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def nodes(nodes_db: str, tmp_path_factory) -> Nodes:
    shared = tmp_path_factory.mktemp("shared-data")  # the volume both nodes mount
    proxy_port = free_port()
    logs = (shared / "access-a.log", shared / "access-b.log")

    def env(log: Path) -> dict[str, str]:
        return {"GISAPP_PUBLIC_URL": f"http://127.0.0.1:{proxy_port}", "GISAPP_PROXY_HOPS": "1",
                "GISAPP_TILE_CACHE_CONTROL": "no-cache", "GISAPP_ACCESS_LOG": str(log)}

    prefix = Path(tempfile.mkdtemp(prefix="gisapp-nginx-nodes-"))  # www-data may enter /tmp
    prefix.chmod(0o755)
    with gunicorn(nodes_db, shared, workers=2, env=env(logs[0])) as a, \
            gunicorn(nodes_db, shared, workers=2, env=env(logs[1])) as b:
        cfg = ProxyConfig(prefix=prefix, listen=f"127.0.0.1:{proxy_port}",
                          upstream=f"127.0.0.1:{a},127.0.0.1:{b}", max_upload_mb=16)
        start(cfg)
        try:
            yield Nodes(a, b, proxy_port, logs, prefix / "conf" / "gisapp.conf", shared)
        finally:
            stop(cfg)
            shutil.rmtree(prefix, ignore_errors=True)


def _import_wifi(url: str, tmp_path: Path, tag: str, n: int = 3) -> None:
    """Replace wifi_aps with n access points named <tag>-<i> east of the Dragon Bridge."""
    points = [shapely.Point(CENTER[0] + i * 0.0002, CENTER[1]) for i in range(n)]
    data = {f.name: [field_value(f, i) for i in range(n)] for f in WIFI.imported_fields}
    data["name"] = [f"{tag}-{i}" for i in range(n)]
    path = tmp_path / f"wifi-{tag}.geojson"
    gpd.GeoDataFrame(data, geometry=points, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    result = run_import(url, ImportRequest(WIFI.id, path))
    assert result.status == "succeeded", result


def _names(nodes: Nodes, port: int, tile: Tile) -> tuple[set[str], str]:
    status, headers, body = nodes.request(port, f"/tiles/wifi_aps/{tile}.mvt")
    assert status in (200, 204), body[:300]
    layer = mapbox_vector_tile.decode(body).get("wifi_aps", {"features": []}) if body else None
    names = {f["properties"]["name"] for f in layer["features"]} if layer else set()
    return names, headers.get("etag", "")


def test_an_import_reaches_the_tiles_of_both_nodes(nodes, nodes_db, tmp_path):
    """Node B cached v1 (memory and the shared store); once an import commits on the
    primary, both nodes serve v2 within seconds, under a new ETag."""
    tile = Tile(16, *tile_of(*CENTER, 16))
    _import_wifi(nodes_db, tmp_path, "v1")
    for port in (nodes.a, nodes.b):
        assert wait_for(lambda: _names(nodes, port, tile)[0] == {"v1-0", "v1-1", "v1-2"}, 10)
    old_etag = _names(nodes, nodes.b, tile)[1]
    _import_wifi(nodes_db, tmp_path, "v2")
    for port in (nodes.b, nodes.a):
        assert wait_for(lambda: _names(nodes, port, tile)[0] == {"v2-0", "v2-1", "v2-2"}, 10), \
            f"node on port {port} still serves {_names(nodes, port, tile)[0]}"
        assert _names(nodes, port, tile)[1] != old_etag


@pytest.fixture()
def worker(nodes: Nodes, nodes_db: str):
    """`gisapp worker` on the nodes' database and shared data directory (the upload spool)."""
    env = {**os.environ, "DATABASE_URL": nodes_db, "GISAPP_DATA_DIR": str(nodes.shared)}
    with open(nodes.shared / "worker.log", "ab") as log:
        proc = subprocess.Popen([str(GISAPP), "worker", "--tick", "1"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    stop_group(proc)


def test_an_upload_through_node_a_reaches_the_tiles_of_node_b(nodes, nodes_db, worker,
                                                              tmp_path):
    """The whole path: an operator uploads to node A, a worker imports, node B serves it."""
    tile = Tile(16, *tile_of(*CENTER, 16))
    points = [shapely.Point(CENTER[0] + i * 0.0002, CENTER[1]) for i in range(2)]
    data = {f.name: [field_value(f, i) for i in range(2)] for f in WIFI.imported_fields}
    data["name"] = ["uploaded-0", "uploaded-1"]
    path = tmp_path / "upload.geojson"
    gpd.GeoDataFrame(data, geometry=points, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    with open(path, "rb") as fh:
        resp = requests.post(f"http://127.0.0.1:{nodes.a}/api/etl/imports",
                             data={"layer": WIFI.id}, files={"file": ("upload.geojson", fh)},
                             headers={"Host": nodes.host, "Authorization":
                                      f"Bearer {make_token(nodes_db, 'etl_operator')}"},
                             timeout=60)
    assert resp.status_code == 202, resp.text[:300]
    assert wait_for(lambda: _names(nodes, nodes.b, tile)[0] == {"uploaded-0", "uploaded-1"},
                    60), f"node B serves {_names(nodes, nodes.b, tile)[0]}"
    assert worker.poll() is None


def test_one_tile_is_built_once_when_both_nodes_are_asked_at_once(nodes, nodes_db, tmp_path):
    _import_wifi(nodes_db, tmp_path, "flight")
    warm = Tile(16, *tile_of(*CENTER, 16))
    for port in (nodes.a, nodes.b):  # both have heard of the import: their stores agree
        assert wait_for(lambda: "flight-0" in _names(nodes, port, warm)[0], 10)
    tile = Tile(17, *tile_of(*CENTER, 17))
    path = f"/tiles/wifi_aps/{tile}.mvt"
    with psycopg.connect(nodes_db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        # Hold the tile statement at the table until both nodes have missed the tile, so
        # that a build per node shows as calls > 1.
        locker = psycopg.connect(nodes_db)
        locker.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
            sql.Identifier(WIFI.table)))
        results: list[tuple[int, bytes]] = []
        threads = [threading.Thread(target=lambda p=port: results.append(
            (nodes.request(p, path)[0], nodes.request(p, path)[2])))
            for port in (nodes.a, nodes.b) for _ in range(4)]
        for thread in threads:
            thread.start()
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE '%ST_AsMVT%'").fetchone()[0] >= 1, 30)
        time.sleep(2.0)  # the other node's misses arrive meanwhile
        locker.rollback()
        locker.close()
        for thread in threads:
            thread.join(60)
        calls = conn.execute(TILE_STATEMENTS, ("%ST_AsMVT%",)).fetchone()[0]
    assert len(results) == 8 and {status for status, _ in results} == {200}
    assert len({body for _, body in results}) == 1
    assert calls == 1, f"the tile statement ran {calls} times for one tile on two nodes"


def test_a_session_made_on_one_node_works_on_the_other(nodes, nodes_db):
    user = ensure_user(nodes_db, "planner")
    status, headers, body = nodes.request(nodes.a, "/login")
    assert status == 200
    cookie = headers["set-cookie"].split(";")[0]
    form = (f"username={user}&password={PASSWORD.replace(' ', '+')}"
            f"&csrf_token={csrf_from(body.decode())}")
    status, headers, body = nodes.request(
        nodes.a, "/login", "POST", form,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    assert status == 302, body[:300]
    session = headers["set-cookie"].split(";")[0]
    status, _, body = nodes.request(nodes.b, "/api/me", headers={"Cookie": session})
    assert status == 200 and f'"{user}"' in body.decode()
    status, _, body = nodes.request(nodes.proxy, "/api/me", headers={"Cookie": session})
    assert status == 200 and f'"{user}"' in body.decode()


def test_nginx_spreads_requests_over_both_nodes(nodes):
    marker = f"/healthz?spread={time.monotonic_ns()}"
    for _ in range(12):
        status, _, _ = nodes.request(nodes.proxy, marker)
        assert status == 200

    def served() -> list[int]:
        return [sum(marker.split("?")[1] in line for line in log.read_text().splitlines())
                for log in nodes.logs]

    wait_for(lambda: sum(served()) == 12, 10)  # each access log line is written after its answer
    assert sum(served()) == 12 and min(served()) >= 2, f"requests per node: {served()}"
    assert f"server 127.0.0.1:{nodes.a}; server 127.0.0.1:{nodes.b};" in nodes.site.read_text()


def test_failed_logins_on_one_node_count_on_the_other(nodes, nodes_db):
    user = ensure_user(nodes_db, "planner", "test-throttled-on-two-nodes")

    def attempt(port: int) -> int:
        status, headers, body = nodes.request(port, "/login")
        form = f"username={user}&password=wrong&csrf_token={csrf_from(body.decode())}"
        return nodes.request(port, "/login", "POST", form,
                             {"Content-Type": "application/x-www-form-urlencoded",
                              "Cookie": headers["set-cookie"].split(";")[0]})[0]

    assert [attempt(nodes.a) for _ in range(5)] == [401] * 5
    assert attempt(nodes.b) == 429  # the limit lives in PostgreSQL, not in node A
