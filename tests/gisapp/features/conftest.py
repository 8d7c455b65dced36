"""Known features in the scratch database: street lights at measured distances, parcels."""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from pyproj import Transformer
from sqlalchemy import text

from gisapp import create_app
from gisapp.db.engine import make_engine
from layers.city import CITY
from store.tables import LAYER_TABLES, VERSION_TABLES

ROOT = Path(__file__).resolve().parents[3]
# Dragon Bridge (DOMAIN.md): WGS 84 lon/lat and the same point in EPSG:5899 (E, N).
BRIDGE_LONLAT = (108.22705602, 16.06114045)
TO_TM3 = Transformer.from_crs("OGC:CRS84", CITY.metric_crs, always_xy=True)
TO_LONLAT = Transformer.from_crs(CITY.metric_crs, "OGC:CRS84", always_xy=True)
BRIDGE_EN = TO_TM3.transform(*BRIDGE_LONLAT)
LIGHT_OFFSETS_M = (0, 50, 99, 101, 150, 400)  # due east of the bridge, in metres
N_LIGHTS = 37


def light_rows() -> list[dict]:
    """Lights 0-5 east of the bridge at LIGHT_OFFSETS_M; the rest on a line 1-2 km north."""
    rows = []
    for i in range(N_LIGHTS):
        if i < len(LIGHT_OFFSETS_M):
            e, n = BRIDGE_EN[0] + LIGHT_OFFSETS_M[i], BRIDGE_EN[1]
        else:
            e, n = BRIDGE_EN[0] + 10 * i, BRIDGE_EN[1] + 1000 + 20 * i
        lon, lat = TO_LONLAT.transform(e, n)
        rows.append({
            "light_id": f"L{i:03d}",
            "cabinet_id": "C1" if i % 2 else "C2",
            "lamp_type": ("LED", "HPS", "MH")[i % 3],
            "wattage": 50 + (i % 4) * 50,
            "pole_height": 6.0 + (i % 5),
            "status": "working" if i % 4 else "out_of_service",
            "street": "Bạch Đằng" if i < 10 else ("O'Brien" if i == 10 else f"Street {i}"),
            "install_year": 2000 + i,
            "geom": f"SRID=4326;POINT({lon!r} {lat!r})",
        })
    return rows


@pytest.fixture(scope="session")
def lights_url(own_database) -> str:
    """A database of our own holding N_LIGHTS street lights (ids 1..N_LIGHTS in light_id
    order) and nothing else; built once a session, for tests that only read it."""
    url = own_database("lights")
    engine = make_engine(url, pool_size=1, max_overflow=0)
    with engine.begin() as conn:
        conn.execute(LAYER_TABLES["street_lights"].insert(), light_rows())
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def lights_app(lights_url: str, tmp_path_factory):
    """One app over the lights database for the whole session (its tests only read)."""
    root = tmp_path_factory.mktemp("lights")
    app = create_app({"DATABASE_URL": lights_url, "TESTING": True, "DATA_DIR": root / "data",
                      "SECRET_KEY": "test", "IMPORT_DIR": root / "imports",
                      "PUBLIC_URL": "http://localhost"})
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture()
def lights(lights_app):
    return lights_app.test_client()


def table_checksum(url: str, table: str) -> str:
    """A digest of every row of a table, to prove a request changed nothing."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(psycopg.sql.SQL("SELECT t::text FROM {} t ORDER BY id").format(
            psycopg.sql.Identifier(table))).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


PARCEL_KEY = {"ward_code": "20194", "former_ward_code": "20200", "sheet_no": 12}


def square_wkt(lon: float, lat: float, size: float = 0.0002) -> str:
    return (f"SRID=4326;MULTIPOLYGON((({lon} {lat}, {lon + size} {lat}, {lon + size} "
            f"{lat + size}, {lon} {lat + size}, {lon} {lat})))")


@pytest.fixture()
def history_app(scratch_app):
    """Parcel 1 changed use ODT→TMD on 2024-06-01 (+07); parcel 2 created 2024-08-01."""
    parcels, versions = LAYER_TABLES["parcels"], VERSION_TABLES["parcels"]
    lon, lat = BRIDGE_LONLAT
    with scratch_app.extensions["engine"].begin() as conn:
        conn.execute(parcels.insert(), [
            {**PARCEL_KEY, "parcel_no": 1, "land_use": "TMD", "geom": square_wkt(lon, lat)},
            {**PARCEL_KEY, "parcel_no": 2, "land_use": "ODT", "geom": square_wkt(lon + .001, lat)},
        ])
        conn.execute(versions.insert(), [
            {"feature_id": 1, **PARCEL_KEY, "parcel_no": 1, "parcel_uid": "20194-20200-12-1",
             "land_use": "ODT", "geom": square_wkt(lon, lat),
             "valid_from": "2024-01-01T00:00:00+07", "valid_to": "2024-06-01T00:00:00+07",
             "change": "import"},
            {"feature_id": 1, **PARCEL_KEY, "parcel_no": 1, "parcel_uid": "20194-20200-12-1",
             "land_use": "TMD", "geom": square_wkt(lon, lat),
             "valid_from": "2024-06-01T00:00:00+07", "valid_to": None, "change": "update"},
            {"feature_id": 2, **PARCEL_KEY, "parcel_no": 2, "parcel_uid": "20194-20200-12-2",
             "land_use": "ODT", "geom": square_wkt(lon + .001, lat),
             "valid_from": "2024-08-01T00:00:00+07", "valid_to": None, "change": "import"},
        ])
    return scratch_app


class LiveServer:
    """gunicorn (the repository's config) serving the demo city, with its access log."""

    def __init__(self, url: str, log: Path):
        self.url, self.log = url, log

    def mark(self) -> int:
        """A position in the access log; `requests_since` lists what came after it."""
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def requests_since(self, mark: int) -> list[str]:
        """The request lines ("GET /path?query HTTP/1.1") logged after `mark`."""
        time.sleep(0.3)  # gunicorn writes the line after it has sent the response
        lines = self.log.read_text().splitlines()[mark:]
        return [line.split('"')[1] for line in lines if line.count('"') >= 2]


@pytest.fixture(scope="session")
def live_server(test_url, tmp_path_factory) -> LiveServer:
    """A real gunicorn on a free port over the demo-city test database, for GDAL and co."""
    root = tmp_path_factory.mktemp("gunicorn")
    log = root / "access.log"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": test_url, "GISAPP_DATA_DIR": str(root / "data"),
           "GISAPP_WORKERS": "1", "GISAPP_THREADS": "4", "SECRET_KEY": "test",
           "GISAPP_ACCESS_LOG": str(log), "PYTHONPATH": str(ROOT),
           "GISAPP_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c",
                             str(ROOT / "gisapp" / "gunicorn.conf.py"), "--bind",
                             f"127.0.0.1:{port}", "gisapp:create_app()"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
                if resp.status == 200:
                    break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
            time.sleep(0.3)
    yield LiveServer(url, log)
    proc.terminate()
    proc.wait(timeout=30)
