"""Reads routed to a real streaming replica (tests/pg_cluster.py): tiles and feature pages
come from the replica once it has replayed the layer version they show, else from the
primary (after a bounded wait); a replica whose replay is paused while an import commits
never gets a stale tile cached or answered under the new version; a down or lagging
replica is reported by /readyz and reads fall back to the primary; a caller's own write
(its cookie) is read back."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import mapbox_vector_tile
import psycopg
import pytest

from etl.pipeline import ImportRequest, run_import
from gisapp import create_app
from gisapp.db.replication import parse_lsn
from gisapp.read_routing import READ_FLOOR_COOKIE, SOURCE_HEADER
from gisapp.settings import Settings
from tests.auth_helpers import PASSWORD, csrf_from, ensure_user
from tests.gisapp.etl_ops.conftest import geojson_points, point_layer
from tests.pg_cluster import PgReplica, ReplicatedDatabase, wait_for
from tests.tiles.conftest import center_tile

LAYER = point_layer()
TILE = center_tile(max(16, LAYER.minzoom))
TILE_URL = f"/tiles/{LAYER.id}/{TILE.z}/{TILE.x}/{TILE.y}.mvt"
ITEMS_URL = f"/collections/{LAYER.id}/items?limit=1000"


@pytest.fixture()
def make_app(replicated_db: ReplicatedDatabase, tmp_path: Path):
    """Apps on the primary with the replica for reads; one data directory per test."""
    apps = []

    def make(**config):
        app = create_app({"DATABASE_URL": replicated_db.url, "TESTING": True,
                          "SECRET_KEY": "test", "DATA_DIR": tmp_path / "data",
                          "PUBLIC_URL": "http://localhost",
                          "DATABASE_READ_URLS": replicated_db.read_url,
                          "READ_MAX_LAG_MS": 600_000, "READ_WAIT_MS": 200,
                          "REPLICA_CHECK_MS": 200, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["engine"].dispose()


def load_points(url: str, tmp_path: Path, n: int) -> None:
    source = tmp_path / f"points-{n}.geojson"
    source.write_bytes(geojson_points(LAYER, n))
    result = run_import(url, ImportRequest(layer=LAYER.id, path=source, mode="replace"))
    assert result.status == "succeeded" and result.rows_loaded == n


def tile_features(response) -> int:
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(mapbox_vector_tile.decode(response.data)[LAYER.id]["features"])


def page_features(response) -> int:
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(response.get_json()["features"])


def test_paused_replica_never_serves_or_caches_a_version_it_has_not_replayed(
        replicated_db: ReplicatedDatabase, replica: PgReplica, make_app, tmp_path) -> None:
    load_points(replicated_db.url, tmp_path, 5)
    replica.catch_up()
    app = make_app()
    client = app.test_client()
    first = client.get(TILE_URL)
    assert tile_features(first) == 5 and first.headers[SOURCE_HEADER] == "replica-1"
    assert page_features(client.get(ITEMS_URL)) == 5

    replica.pause_replay()
    load_points(replicated_db.url, tmp_path, 8)  # commits while the replica cannot replay
    fresh = client.get(TILE_URL)
    assert fresh.headers["ETag"] != first.headers["ETag"]
    assert tile_features(fresh) == 8 and fresh.headers[SOURCE_HEADER] == "primary"
    page = client.get(ITEMS_URL)
    assert page_features(page) == 8 and page.headers[SOURCE_HEADER] == "primary"
    # The replica still holds the old version: only the routing kept it out.
    with psycopg.connect(replicated_db.read_url) as conn:
        assert conn.execute(f"SELECT count(*) FROM {LAYER.table}").fetchone()[0] == 5

    replica.resume_replay()
    replica.catch_up()
    again = client.get(TILE_URL)
    assert tile_features(again) == 8 and again.headers["ETag"] == fresh.headers["ETag"]
    assert client.get(TILE_URL, headers={"If-None-Match": fresh.headers["ETag"]}
                      ).status_code == 304
    page = client.get(ITEMS_URL)
    assert page_features(page) == 8 and page.headers[SOURCE_HEADER] == "replica-1"
    # Another node on the same tile store: whatever it finds on disk is the new version.
    other = make_app().test_client().get(TILE_URL)
    assert tile_features(other) == 8 and other.headers["ETag"] == fresh.headers["ETag"]


def test_a_read_waits_briefly_for_the_replica_to_replay(
        replicated_db: ReplicatedDatabase, replica: PgReplica, make_app, tmp_path) -> None:
    app = make_app(READ_WAIT_MS=10_000)
    client = app.test_client()
    load_points(replicated_db.url, tmp_path, 3)
    replica.catch_up()
    assert page_features(client.get(ITEMS_URL)) == 3
    replica.pause_replay()
    load_points(replicated_db.url, tmp_path, 6)
    threading.Timer(0.5, replica.resume_replay).start()
    started = time.monotonic()
    page = client.get(ITEMS_URL)
    waited = time.monotonic() - started
    assert page_features(page) == 6 and page.headers[SOURCE_HEADER] == "replica-1"
    assert 0.4 < waited < 10, waited


def test_a_replica_down_is_reported_and_reads_go_to_the_primary(
        replicated_db: ReplicatedDatabase, replica: PgReplica, make_app, tmp_path) -> None:
    load_points(replicated_db.url, tmp_path, 4)
    replica.catch_up()
    client = make_app().test_client()
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ok" and ready["replicas"][0]["state"] == "ok", ready
    assert ready["replicas"][0]["lag_ms"] is not None
    replica.stop()
    ready = client.get("/readyz")
    assert ready.status_code == 200  # the primary serves every read meanwhile
    doc = ready.get_json()["replicas"][0]
    assert doc["state"] == "unreachable" and doc["name"] == "replica-1" and doc["error"], doc
    tile = client.get(TILE_URL)
    assert tile_features(tile) == 4 and tile.headers[SOURCE_HEADER] == "primary"
    page = client.get(ITEMS_URL)
    assert page_features(page) == 4 and page.headers[SOURCE_HEADER] == "primary"
    replica.start()
    assert wait_for(lambda: client.get("/readyz").get_json()["replicas"][0]["state"] == "ok",
                    10)
    assert client.get(ITEMS_URL).headers[SOURCE_HEADER] == "replica-1"


def test_a_replica_beyond_the_lag_bound_is_not_read(
        replicated_db: ReplicatedDatabase, replica: PgReplica, make_app, tmp_path) -> None:
    load_points(replicated_db.url, tmp_path, 2)
    replica.catch_up()
    bounded = make_app(READ_MAX_LAG_MS=300, READ_WAIT_MS=0).test_client()
    unbounded = make_app(READ_WAIT_MS=0).test_client()
    replica.pause_replay()
    with psycopg.connect(replicated_db.url, autocommit=True) as conn:  # no layer changes
        conn.execute("CREATE TABLE IF NOT EXISTS lag_probe (at timestamptz)")
        conn.execute("INSERT INTO lag_probe VALUES (now())")
    time.sleep(0.5)
    doc = wait_for(lambda: (lambda d: d if d["state"] == "lagging" else None)(
        bounded.get("/readyz").get_json()["replicas"][0]), 5)
    assert doc and doc["lag_ms"] > 300 and doc["replay_paused"], doc
    # The replica holds every layer version the page shows: only the lag bound keeps it out.
    assert page_features(unbounded.get(ITEMS_URL)) == 2
    assert unbounded.get(ITEMS_URL).headers[SOURCE_HEADER] == "replica-1"
    page = bounded.get(ITEMS_URL)
    assert page_features(page) == 2 and page.headers[SOURCE_HEADER] == "primary"


def test_a_callers_own_write_is_read_back(replicated_db: ReplicatedDatabase,
                                          replica: PgReplica, make_app) -> None:
    client = make_app().test_client()
    replica.catch_up()
    assert client.get(ITEMS_URL).headers[SOURCE_HEADER] == "replica-1"
    replica.pause_replay()
    name = ensure_user(replicated_db.url, "planner")
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    with psycopg.connect(replicated_db.url) as conn:
        before = conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'").fetchone()[0]
    signed_in = client.post("/login", data={"username": name, "password": PASSWORD,
                                            "csrf_token": csrf})
    assert signed_in.status_code in (302, 303), signed_in.get_data(as_text=True)
    cookie = client.get_cookie(READ_FLOOR_COOKIE)
    assert cookie is not None and parse_lsn(cookie.value) >= before
    assert client.get(ITEMS_URL).headers[SOURCE_HEADER] == "primary"
    assert client.get(TILE_URL).headers[SOURCE_HEADER] == "primary"  # not cached yet
    client.delete_cookie(READ_FLOOR_COOKIE)
    assert client.get(ITEMS_URL).headers[SOURCE_HEADER] == "replica-1"


@pytest.mark.parametrize("urls", ["mysql://x/y", "postgresql://a/b,redis://c"])
def test_read_urls_must_be_postgresql(urls: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_READ_URLS"):
        Settings.load({"DATABASE_READ_URLS": urls}, environ={})


def test_read_urls_are_split_on_commas() -> None:
    settings = Settings.load({"DATABASE_READ_URLS": " postgresql://a/b , postgresql://c/d,"},
                             environ={})
    assert settings.read_urls == ("postgresql://a/b", "postgresql://c/d")
