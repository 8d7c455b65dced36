"""ETL-operations fixtures: an app with small limits, operator tokens, sources, a worker process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from gisapp import create_app
from layers import LAYERS, Layer
from tests.auth_helpers import auth_headers
from tests.world import row_values

DRAGON = (108.22705602, 16.06114045)
GISAPP = Path(sys.executable).with_name("gisapp")


def point_layer() -> Layer:
    """The first point layer of the registry (tests never name a layer)."""
    return next(layer for layer in LAYERS.values() if layer.geometry_type == "Point")


def geojson_points(layer: Layer, n: int, bad: int = 0) -> bytes:
    """A GeoJSON FeatureCollection of `n` valid points near the Dragon Bridge plus `bad`
    features outside the city (rejected by validation)."""
    features = []
    for i in range(n + bad):
        lon, lat = (DRAGON[0] + (i % 300) * 1e-5, DRAGON[1] + (i // 300) * 1e-5)
        if i >= n:
            lon, lat = 2.35, 48.85
        features.append({"type": "Feature",
                         "properties": row_values(layer, i),
                         "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.fixture()
def ops_dirs(tmp_path: Path) -> dict[str, Path]:
    dirs = {name: tmp_path / name for name in ("data", "imports", "outside")}
    for path in dirs.values():
        path.mkdir()
    return dirs


@pytest.fixture()
def ops_app(scratch_url: str, ops_dirs):
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": ops_dirs["data"], "IMPORT_DIR": ops_dirs["imports"],
                      "IMPORT_URL_ALLOW": "http://127.0.0.1:1/never",
                      "MAX_UPLOAD_MB": 1, "MAX_UNPACKED_MB": 2, "MAX_ARCHIVE_FILES": 20,
                      "MAX_COMPRESSION_RATIO": 50})
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture()
def ops_client(ops_app):
    return ops_app.test_client()


@pytest.fixture()
def operator(scratch_url: str) -> dict[str, str]:
    return auth_headers(scratch_url, "etl_operator")


def run_status(url: str, run_id: int) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status, phase, rows_read, rows_loaded, error FROM etl_runs"
                            " WHERE id = %s", (run_id,)).fetchone()


def wait_for(predicate, timeout: float = 60, interval: float = 0.2):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture()
def start_worker(scratch_url: str, ops_dirs):
    """Start `gisapp worker` processes on the scratch database; all are stopped at teardown."""
    procs: list[subprocess.Popen] = []

    def start(*args: str, env: dict | None = None) -> subprocess.Popen:
        environ = {**os.environ, "DATABASE_URL": scratch_url,
                   "GISAPP_DATA_DIR": str(ops_dirs["data"]),
                   "GISAPP_IMPORT_DIR": str(ops_dirs["imports"]), **(env or {})}
        log = open(ops_dirs["data"].parent / f"worker-{len(procs)}.log", "wb")
        proc = subprocess.Popen([str(GISAPP), "worker", "--tick", "1", "--heartbeat", "1",
                                 "--stalled-after", "4", *args], env=environ, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
