"""One build per tile across all processes: concurrent misses of one new tile in several
gunicorn worker processes run the tile statement once, counted by pg_stat_statements on a
PostgreSQL cluster of the test's own (tests/pg_cluster.py preloads it)."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from layers import LAYERS, Access
from tests.pg_cluster import PgCluster, free_port, pg_cluster, wait_for  # noqa: F401
from tests.tiles.conftest import center_tile, fill_city
from tiles.sql import is_in_zoom

ROOT = Path(__file__).resolve().parents[3]
CONF = ROOT / "gisapp" / "gunicorn.conf.py"
WORKERS = 3
REQUESTS = 100
TILE_STATEMENTS = "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE %s"


def _layer():
    tile = center_tile()
    return next(layer for layer in LAYERS.values()
                if layer.access == Access.PUBLIC and is_in_zoom(layer, tile.z))


@pytest.fixture(scope="module")
def tile_db(pg_cluster: PgCluster) -> str:
    url = pg_cluster.create_database("gisapp_single_flight")
    fill_city(url)
    with pg_cluster.superuser("gisapp_single_flight") as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return url


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.fixture()
def gunicorn(tile_db: str, tmp_path: Path):
    """gunicorn with the repo's config and WORKERS processes; its access log names the pid."""
    port = free_port()
    log = tmp_path / "access.log"
    env = {**os.environ, "DATABASE_URL": tile_db, "GISAPP_DATA_DIR": str(tmp_path / "data"),
           "GISAPP_WORKERS": str(WORKERS), "GISAPP_THREADS": "2", "SECRET_KEY": "test",
           "GISAPP_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(CONF), "--bind",
                             f"127.0.0.1:{port}", "--access-logfile", str(log),
                             "--access-logformat", "%(p)s %(s)s %(U)s",
                             "gisapp:create_app()"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def up() -> bool:
        try:
            return _get(port, "/healthz")[0] == 200
        except OSError:
            assert proc.poll() is None, proc.stderr.read().decode()
            return False

    def all_serving() -> bool:  # each process answers once it has loaded the app
        threads = [threading.Thread(target=_get, args=(port, "/healthz")) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        return len(_pids(log, "/healthz")) == WORKERS

    try:
        assert wait_for(up, 90, 0.3), "gunicorn did not answer /healthz"
        assert wait_for(all_serving, 90, 0.5), "not every gunicorn worker is serving"
        yield port, log
    finally:
        proc.send_signal(signal.SIGINT)  # quick shutdown
        proc.wait(timeout=30)


def _pids(log: Path, path: str) -> set[str]:
    """The processes whose access log lines name `path`."""
    return {line.split()[0] for line in log.read_text().splitlines() if line.endswith(path)}


def test_concurrent_misses_in_several_processes_build_the_tile_once(gunicorn, tile_db):
    port, log = gunicorn
    layer = _layer()
    path = f"/tiles/{layer.id}/{center_tile()}.mvt"
    with psycopg.connect(tile_db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        # Hold the tile statement at the table until every process has had time to miss
        # the tile, so that a build per process would show as calls > 1.
        locker = psycopg.connect(tile_db)
        locker.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
            sql.Identifier(layer.table)))
        results: list[tuple[int, bytes]] = []
        threads = [threading.Thread(target=lambda: results.append(_get(port, path)))
                   for _ in range(REQUESTS)]
        for thread in threads:
            thread.start()
        assert wait_for(lambda: conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query LIKE '%ST_AsMVT%'").fetchone()[0] >= 1, 30)
        time.sleep(2.0)  # the other processes' misses arrive meanwhile
        locker.rollback()
        locker.close()
        for thread in threads:
            thread.join(60)
        calls = conn.execute(TILE_STATEMENTS, ("%ST_AsMVT%",)).fetchone()[0]
    assert len(results) == REQUESTS and {status for status, _ in results} == {200}
    assert len({body for _, body in results}) == 1
    pids = _pids(log, path)
    assert len(pids) >= 2, f"all {REQUESTS} requests went to one process: {pids}"
    assert calls == 1, f"the tile statement ran {calls} times for one tile in {len(pids)} processes"
