"""Faults, against a real PostgreSQL 15 cluster of the test's own that is stopped, started
and restarted for real (tests/pg_cluster.py): every endpoint answers 503 with a JSON error
while the database is down, never 500; /readyz is green within 5 s of its return; the
worker resumes queued imports afterwards; a full disk fails an import cleanly."""
from __future__ import annotations

import io
import os
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter

from etl.pipeline import ImportFailed, ImportRequest, run_import
from gisapp import create_app
from tests.served import stop_group
from tests.auth_helpers import auth_headers, csrf_from, login
from tests.gisapp.etl_ops.conftest import GISAPP, geojson_points, point_layer
from tests.pg_cluster import (PgCluster, cluster_db, pg_cluster, running_cluster,  # noqa: F401
                              wait_for)
from tests.tiles.conftest import center_tile, fill_city

ROUTE_VALUES = {"layer_id": "parcels", "feature_id": "1", "uid": "20242-20254-3-101",
                "code": "20242", "cabinet_id": "TC-1", "check_id": 1, "run_id": 1,
                "schedule_id": 1, "rule_id": "floors", "layers": "parcels", "name": "elevation",
                "z": "16", "x": str(center_tile().x), "y": str(center_tile().y)}
QUERY = ("lon=108.227&lat=16.061&ward=20242&sheet=14&parcel=125&q=Hai&node=HG-1"
         "&direction=upstream")
DOWN = "database_unreachable"
# One request of every kind that needs the database, as the role that gets past the checks.
KINDS = [
    ("public", "GET", "/collections/parcels/items?limit=5"),
    ("public", "GET", "/collections/parcels/items/1"),
    ("public", "GET", "/api/parcels/at?lon=108.227&lat=16.061"),
    ("public", "GET", "/api/parcels/search?q=Hai"),
    ("public", "GET", "/api/parcels?ward=20242&sheet=14&parcel=125"),
    ("public", "GET", "/api/analysis/lighting/out-of-service"),
    ("public", "GET", f"/tiles/parcels/{center_tile()}.mvt"),
    ("public", "GET", "/readyz"),
    ("permit_officer", "POST", "/api/permits/checks"),
    ("planner", "GET", "/api/analysis/drainage/findings"),
    ("etl_operator", "GET", "/api/etl/runs"),
    ("session", "GET", "/api/parcels/20242-20254-3-101"),
    ("login", "POST", "/login"),
]


@pytest.fixture(scope="module")
def fault_app(cluster_db: str, tmp_path_factory):
    fill_city(cluster_db)
    app = create_app({"DATABASE_URL": cluster_db, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path_factory.mktemp("data")})
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture()
def callers(fault_app, cluster_db: str) -> dict[str, tuple[FlaskClient, dict]]:
    """A client and headers for each kind of caller, set up while the database is up."""
    session = fault_app.test_client()
    csrf = login(session, cluster_db, "planner")
    form = fault_app.test_client()
    form_csrf = csrf_from(form.get("/login").get_data(as_text=True))
    out = {role: (fault_app.test_client(), auth_headers(cluster_db, role))
           for role in ("public", "permit_officer", "planner", "etl_operator", "admin")}
    out["session"] = (session, {"X-CSRF-Token": csrf})
    out["login"] = (form, {"X-CSRF-Token": form_csrf})
    return out


def _send(client: FlaskClient, method: str, path: str, headers: dict):
    if method == "POST" and path == "/login":
        return client.post(path, data={"username": "test-planner", "password": "x",
                                       "csrf_token": headers.get("X-CSRF-Token", "")})
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return client.open(path, method=method, headers=headers, **kwargs)


def _every_route(app) -> list[tuple[str, str]]:
    """(method, path) of every rule in the URL map, with sample values for its arguments."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        parts = {arg: ROUTE_VALUES.get(arg, 1 if isinstance(rule._converters[arg],
                                                            IntegerConverter) else "x")
                 for arg in rule.arguments}
        path = app.url_map.bind("localhost").build(rule.endpoint, parts, force_external=False,
                                                  append_unknown=False)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out += [(method, path), (method, f"{path}?{QUERY}")]
    return out


def _no_500s(app, callers, expect_down: bool) -> list[str]:
    """Walk every route as every caller; the answers that break the rule, described."""
    wrong = []
    for method, path in _every_route(app):
        for role in ("public", "admin", "session"):
            client, headers = callers[role]
            resp = _send(client, method, path, headers)
            if resp.status_code >= 500 and not (expect_down and resp.status_code == 503
                                               and resp.is_json
                                               and resp.json["error"]["code"] == DOWN):
                wrong.append(f"{role} {method} {path}: {resp.status_code} "
                             f"{resp.get_data(as_text=True)[:200]}")
    return wrong


def test_every_kind_of_endpoint_is_a_json_503_while_the_database_is_down(
        fault_app, callers, running_cluster: PgCluster):
    running_cluster.stop()
    wrong = []
    for role, method, path in KINDS:
        client, headers = callers[role]
        resp = _send(client, method, path, headers)
        body = resp.json if resp.is_json else None
        if resp.status_code != 503 or not body or body["error"]["code"] != DOWN:
            wrong.append(f"{role} {method} {path}: {resp.status_code} "
                         f"{resp.get_data(as_text=True)[:300]}")
        elif not body["error"]["message"]:
            wrong.append(f"{role} {method} {path}: message {body['error']['message']!r}")
    assert not wrong, "\n".join(wrong)
    assert not (found := _no_500s(fault_app, callers, expect_down=True)), "\n".join(found)


def test_requests_in_flight_while_postgresql_restarts_get_503s_never_500s(
        fault_app, callers, running_cluster: PgCluster):
    stop, seen, wrong = threading.Event(), [], []

    def hammer(role: str, method: str, path: str) -> None:
        client, headers = callers[role]
        while not stop.is_set():
            resp = _send(client, method, path, headers)
            seen.append(resp.status_code)
            if resp.status_code >= 500 and not (resp.status_code == 503 and resp.is_json
                                                and resp.json["error"]["code"] == DOWN):
                wrong.append(f"{role} {method} {path}: {resp.status_code} "
                             f"{resp.get_data(as_text=True)[:200]}")

    threads = [threading.Thread(target=hammer, args=kind) for kind in KINDS[:6] + KINDS[9:11]]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        running_cluster.restart()
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not wrong, "\n".join(wrong[:20])
    assert 503 in seen and seen.count(503) < len(seen), "the restart was not seen"


def test_readyz_is_green_within_5_s_of_a_restart_and_no_route_fails_after_it(
        fault_app, callers, running_cluster: PgCluster):
    for role, method, path in KINDS:  # every pool holds connections the restart will kill
        client, headers = callers[role]
        assert _send(client, method, path, headers).status_code < 500
    running_cluster.stop()
    client = fault_app.test_client()
    assert client.get("/readyz").status_code == 503
    running_cluster.start()
    back = time.monotonic()
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() - back < 5, "/readyz still not green 5 s after the restart"
        time.sleep(0.05)
    assert not (found := _no_500s(fault_app, callers, expect_down=False)), "\n".join(found)


@pytest.fixture()
def worker(fault_app, cluster_db: str, tmp_path: Path):
    """`gisapp worker` on the fault cluster, sharing the app's data directory."""
    environ = {**os.environ, "DATABASE_URL": cluster_db,
               "GISAPP_DATA_DIR": str(fault_app.extensions["settings"].data_dir)}
    log = open(tmp_path / "worker.log", "wb")
    proc = subprocess.Popen([str(GISAPP), "worker", "--tick", "1", "--heartbeat", "1",
                             "--stalled-after", "4"], env=environ, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    stop_group(proc)


def _queue_import(client: FlaskClient, headers: dict, n: int) -> int:
    body = geojson_points(point_layer(), n)
    resp = client.post("/api/etl/imports", headers=headers, content_type="multipart/form-data",
                       data={"layer": point_layer().id,
                             "file": (io.BytesIO(body), "points.geojson")})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    return resp.json["run_id"]


def _finished(url: str, run_id: int):
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT status, rows_loaded, error FROM etl_runs WHERE id = %s",
                           (run_id,)).fetchone()
    return row if row[0] in ("succeeded", "failed", "cancelled") else None


def test_the_worker_resumes_queued_imports_after_a_database_restart(
        fault_app, callers, cluster_db: str, running_cluster: PgCluster, worker):
    client, operator = callers["etl_operator"]
    first = _queue_import(client, operator, 5)
    assert wait_for(lambda: _finished(cluster_db, first), 30)[0] == "succeeded"
    running_cluster.stop()
    time.sleep(3)  # the worker polls, listens and heartbeats against a dead server
    running_cluster.start()
    back = time.monotonic()
    queued = [_queue_import(client, operator, 7), _queue_import(client, operator, 9)]
    done = [wait_for(lambda: _finished(cluster_db, run_id), 25) for run_id in queued]
    took = time.monotonic() - back
    assert [d and d[:2] for d in done] == [("succeeded", 7), ("succeeded", 9)], done
    assert worker.poll() is None, "the worker exited"
    assert took < 25, f"the queued imports waited {took:.0f} s after the database was back"


def _layer_rows(url: str, layer) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT id, {}, ST_AsText(geom) FROM {} ORDER BY id").format(
            sql.SQL(", ").join(map(sql.Identifier, layer.key)),
            sql.Identifier(layer.table))).fetchall()


def _fill(where: Path, leave_bytes: int) -> None:
    """Fill the filesystem at `where` but for `leave_bytes`."""
    free = os.statvfs(where).f_bavail * os.statvfs(where).f_frsize
    with open(where / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave_bytes))


def test_a_full_disk_fails_the_import_cleanly_and_leaves_the_layer_whole(
        pg_cluster: PgCluster, cluster_db: str, tmp_path: Path):
    layer = point_layer()
    source = tmp_path / "points.geojson"
    source.write_bytes(geojson_points(layer, 40))
    run_import(cluster_db, ImportRequest(layer=layer.id, path=source, mode="replace"))
    before = _layer_rows(cluster_db, layer)
    big = tmp_path / "more.geojson"
    big.write_bytes(geojson_points(layer, 6000))
    with pg_cluster.small_tablespace("small", 4) as where:
        with psycopg.connect(cluster_db, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER TABLE {} SET TABLESPACE small").format(
                sql.Identifier(layer.table)))
        _fill(where, 64 << 10)
        try:
            failures = []
            # the layer's own table fills the disk (replace: its old rows are deleted first),
            # then the staging table does (temp tables on the full disk too)
            for conninfo in (cluster_db, cluster_db + "?options=-c%20temp_tablespaces%3Dsmall"):
                with pytest.raises(ImportFailed) as failed:
                    run_import(conninfo, ImportRequest(layer=layer.id, path=big, mode="replace"))
                failures.append(failed.value.result)
                assert _layer_rows(cluster_db, layer) == before
        finally:
            (where / "filler").unlink()
            with psycopg.connect(cluster_db, autocommit=True) as conn:
                conn.execute(sql.SQL("ALTER TABLE {} SET TABLESPACE pg_default").format(
                    sql.Identifier(layer.table)))
    with psycopg.connect(cluster_db) as conn:
        for result in failures:
            status, loaded, error = conn.execute(
                "SELECT status, rows_loaded, error FROM etl_runs WHERE id = %s",
                (result.run_id,)).fetchone()
            assert (status, loaded) == ("failed", 0)
            assert "ran out of disk space" in error and "nothing was changed" in error, error
    again = run_import(cluster_db, ImportRequest(layer=layer.id, path=big, mode="replace"))
    assert again.status == "succeeded" and len(_layer_rows(cluster_db, layer)) == 6000
