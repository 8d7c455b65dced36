"""The repository's gunicorn config: it serves tiles, and sizes the pool to its threads."""
import http.client
import os
import runpy
from pathlib import Path

import mapbox_vector_tile

from layers import LAYERS
from tiles.sql import LABEL_SUFFIX
from tests.served import gunicorn

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


def get(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    return conn.getresponse()


def test_gunicorn_with_the_repo_config_serves_composite_tiles(city_url, tmp_path):
    with gunicorn(city_url, tmp_path, workers=1, threads=2) as port:
        r = get(port, f"/tiles/{','.join(LAYERS)}/{center_tile()}.mvt")
        assert r.status == 200
        assert [n for n in mapbox_vector_tile.decode(r.read())
                if not n.endswith(LABEL_SUFFIX)] == list(LAYERS)
