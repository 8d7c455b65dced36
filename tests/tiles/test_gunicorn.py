"""The repository's gunicorn config: it serves tiles, and sizes the pool to its threads."""
import http.client
import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import mapbox_vector_tile

from layers import LAYERS

from .conftest import center_tile

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "gisapp" / "gunicorn.conf.py"


def test_pool_is_sized_to_the_threads_of_a_worker(monkeypatch):
    for name in ("GISAPP_DB_POOL_SIZE", "GISAPP_DB_POOL_OVERFLOW"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GISAPP_THREADS", "3")
    conf = runpy.run_path(str(CONF))
    assert conf["worker_class"] == "gthread" and conf["threads"] == 3
    assert os.environ["GISAPP_DB_POOL_SIZE"] == "3"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    return conn.getresponse()


def test_gunicorn_with_the_repo_config_serves_composite_tiles(city_url, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": city_url, "GISAPP_DATA_DIR": str(tmp_path),
           "GISAPP_WORKERS": "1", "GISAPP_THREADS": "2", "SECRET_KEY": "test",
           "GISAPP_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(CONF), "--bind",
                             f"127.0.0.1:{port}", "gisapp:create_app()"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if get(port, "/healthz").status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.3)
        r = get(port, f"/tiles/{','.join(LAYERS)}/{center_tile()}.mvt")
        assert r.status == 200
        assert list(mapbox_vector_tile.decode(r.read())) == list(LAYERS)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
