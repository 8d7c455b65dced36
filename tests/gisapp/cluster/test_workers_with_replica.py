"""Two `gisapp worker` processes on the primary + replica setup (DATABASE_READ_URLS set, as
on every node): queued imports each run exactly once, runs of one layer never overlap,
a due schedule fires once, and the replica ends up with what the last import loaded; after
each import a worker sends the purge of its tiles (GISAPP_TILE_PURGE_URL, here a recording
HTTP server) and records it in the run."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from gisapp import create_app
from gisapp.etl_ops.schedules import create_schedule
from gisapp.settings import Settings
from tests.auth_helpers import auth_headers
from tests.gisapp.etl_ops.conftest import GISAPP, geojson_points, point_layer, wait_for
from tests.pg_cluster import PgReplica, ReplicatedDatabase

LAYER = point_layer()


@pytest.fixture()
def dirs(tmp_path: Path) -> dict[str, Path]:
    out = {name: tmp_path / name for name in ("data", "imports")}
    for path in out.values():
        path.mkdir()
    return out


class PurgeRecorder(BaseHTTPRequestHandler):
    """A cache that holds nothing: records each PURGE (host, path) and answers 404."""

    seen: list[tuple[str, str]] = []

    def do_PURGE(self) -> None:  # noqa: N802 (the method's name)
        self.seen.append((self.headers["Host"], self.path))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def purge_cache():
    """The recording cache on a free port: yields its URL; stopped at teardown."""
    PurgeRecorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), PurgeRecorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/_purge"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def workers(replicated_db: ReplicatedDatabase, dirs, purge_cache):
    """Start two workers on the replicated setup; both stopped at teardown."""
    env = {**os.environ, "DATABASE_URL": replicated_db.url,
           "DATABASE_READ_URLS": replicated_db.read_url, "GISAPP_DATA_DIR": str(dirs["data"]),
           "GISAPP_IMPORT_DIR": str(dirs["imports"]), "GISAPP_TILE_PURGE_URL": purge_cache,
           "GISAPP_TILE_PURGE_ZOOM": "14-16", "GISAPP_PUBLIC_URL": "https://gis.example.vn"}
    procs = [subprocess.Popen([str(GISAPP), "worker", "--tick", "1", "--heartbeat", "1",
                               "--stalled-after", "4", "--concurrency", "3", "--name", name],
                              env=env, stdout=open(dirs["data"].parent / f"{name}.log", "wb"),
                              stderr=subprocess.STDOUT, start_new_session=True)
             for name in ("w1", "w2")]
    with psycopg.connect(replicated_db.url, autocommit=True) as conn:
        wait_for(lambda: conn.execute("SELECT count(*) FROM procrastinate_workers"
                                      ).fetchone()[0] >= 2)
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(LAYER.table))).fetchone()[0]


def test_two_workers_run_each_queued_import_once(replicated_db: ReplicatedDatabase,
                                                 replica: PgReplica, dirs, workers) -> None:
    app = create_app({"DATABASE_URL": replicated_db.url, "TESTING": True, "SECRET_KEY": "t",
                      "DATA_DIR": dirs["data"], "IMPORT_DIR": dirs["imports"],
                      "DATABASE_READ_URLS": replicated_db.read_url})
    client, headers = app.test_client(), auth_headers(replicated_db.url, "etl_operator")
    sizes = [300, 500, 700, 900]
    ids = []
    for n in sizes:
        data = {"layer": LAYER.id, "file": (io.BytesIO(geojson_points(LAYER, n)), "p.geojson")}
        sent = client.post("/api/etl/imports", data=data, headers=headers,
                           content_type="multipart/form-data")
        assert sent.status_code == 202, sent.get_data(as_text=True)
        ids.append(sent.json["run_id"])
    app.extensions["engine"].dispose()
    overlaps = []

    def all_done():
        with psycopg.connect(replicated_db.url) as conn:
            overlaps.append(conn.execute("SELECT count(*) FROM etl_runs WHERE layer = %s AND"
                                         " status = 'running'", (LAYER.id,)).fetchone()[0])
            states = [r[0] for r in conn.execute(
                "SELECT status FROM etl_runs WHERE id = ANY(%s) ORDER BY id", (ids,))]
        return states if all(s in ("succeeded", "failed") for s in states) else None

    assert wait_for(all_done, timeout=120, interval=0.05) == ["succeeded"] * len(sizes)
    assert max(overlaps) <= 1

    def jobs_done():  # a job ends after its run: the post-load hooks run in it
        with psycopg.connect(replicated_db.url) as conn:
            rows = conn.execute("SELECT (args->>'run_id')::bigint, status, attempts FROM"
                                " procrastinate_jobs WHERE (args->>'run_id')::bigint = ANY(%s)"
                                " ORDER BY 1", (ids,)).fetchall()
        return rows if all(r[1] not in ("todo", "doing") for r in rows) else None

    jobs = wait_for(jobs_done, timeout=60)
    with psycopg.connect(replicated_db.url) as conn:
        loaded = conn.execute("SELECT rows_loaded FROM etl_runs WHERE id = ANY(%s)"
                              " ORDER BY id", (ids,)).fetchall()
    assert [(j[0], j[1]) for j in jobs] == [(i, "succeeded") for i in ids]
    assert all(attempts <= 1 for _, _, attempts in jobs), jobs
    assert [r[0] for r in loaded] == sizes
    with psycopg.connect(replicated_db.url) as conn:
        purges = [r[0] for r in conn.execute("SELECT tile_purge FROM etl_runs WHERE id = ANY(%s)"
                                             " ORDER BY id", (ids,))]
    assert all(p and p["failed"] == 0 and p["requests"] > 0 for p in purges), purges
    assert sum(p["not_cached"] for p in purges) == len(PurgeRecorder.seen)
    assert {host for host, _ in PurgeRecorder.seen} == {"gis.example.vn"}
    assert all(path.startswith("/_purge/tiles/") and f"{LAYER.id}" in path
               for _, path in PurgeRecorder.seen), PurgeRecorder.seen[:3]
    assert f"/_purge/tiles/{LAYER.id}/16/" in " ".join(path for _, path in PurgeRecorder.seen)
    last = _rows(replicated_db.url)
    assert last in sizes
    replica.catch_up()
    assert _rows(replicated_db.read_url) == last


def test_two_workers_fire_a_due_schedule_once(replicated_db: ReplicatedDatabase,
                                              replica: PgReplica, dirs, workers) -> None:
    (dirs["imports"] / "weekly").mkdir()
    (dirs["imports"] / "weekly" / "p.geojson").write_bytes(geojson_points(LAYER, 7))
    settings = Settings.load({"DATABASE_URL": replicated_db.url,
                              "IMPORT_DIR": dirs["imports"]})
    with psycopg.connect(replicated_db.url, autocommit=True) as conn:
        with conn.transaction():
            schedule = create_schedule(conn, {"layer": LAYER.id, "source": "weekly/p.geojson",
                                              "cron": "0 2 * * *"}, "test",
                                       datetime.now(timezone.utc), settings)
        before = conn.execute("SELECT coalesce(max(id), 0) FROM etl_runs").fetchone()[0]
        conn.execute("UPDATE etl_schedules SET next_run_at = now() WHERE id = %s",
                     (schedule["id"],))
        run_id = wait_for(lambda: (r := conn.execute(
            "SELECT id FROM etl_runs WHERE id > %s", (before,)).fetchone()) and r[0])
        wait_for(lambda: conn.execute("SELECT status FROM etl_runs WHERE id = %s",
                                      (run_id,)).fetchone()[0] == "succeeded")
        time.sleep(3)  # three more ticks of both workers
        assert conn.execute("SELECT count(*) FROM etl_runs WHERE id > %s",
                            (before,)).fetchone()[0] == 1
        conn.execute("DELETE FROM etl_schedules WHERE id = %s", (schedule["id"],))
    replica.catch_up()
    assert _rows(replicated_db.read_url) == 7
