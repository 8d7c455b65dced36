"""Imports and uploads contained: sources checked when written, one archive budget, unreadable
archive members refused with a 400, raster uploads capped from the header and converted by
the worker."""
from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from click.testing import CliRunner

from gisapp import create_app
from gisapp.cli import cli
from layers import LAYERS
from layers.city import CITY
from tests.served import stop_group
from tests.auth_helpers import auth_headers
from tests.world import row_values

ALLOWED = "https://data.danang.example/open"
DRAGON = (108.22705602, 16.06114045)


def _point_layer():
    return next(layer for layer in LAYERS.values() if layer.geometry_type == "Point")


def _points(n: int = 3) -> bytes:
    layer = _point_layer()
    features = [{"type": "Feature", "properties": row_values(layer, i),
                 "geometry": {"type": "Point",
                              "coordinates": [DRAGON[0] + i * 1e-5, DRAGON[1]]}}
                for i in range(n)]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.fixture()
def dirs(tmp_path: Path) -> dict[str, Path]:
    out = {name: tmp_path / name for name in ("data", "imports")}
    for path in out.values():
        path.mkdir()
    return out


@pytest.fixture()
def contained_app(scratch_url: str, dirs):
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": dirs["data"], "IMPORT_DIR": dirs["imports"],
                      "IMPORT_URL_ALLOW": ALLOWED, "MAX_UPLOAD_MB": 1, "MAX_UNPACKED_MB": 2,
                      "MAX_ARCHIVE_FILES": 20, "MAX_COMPRESSION_RATIO": 100_000})
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture()
def client(contained_app):
    return contained_app.test_client()


@pytest.fixture()
def operator(scratch_url: str) -> dict[str, str]:
    return auth_headers(scratch_url, "etl_operator")


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(table))).fetchone()[0]


def _spool_empty(dirs) -> bool:
    spool = dirs["data"] / "spool"
    return not spool.exists() or not any(spool.iterdir())


# --- schedule sources are checked when written, by the rules their runs apply ---------------

BAD_SOURCES = {
    "gdal virtual URL": "/vsicurl/http://evil.example/x.csv",
    "gdal virtual zip": "/vsizip//etc/passwd.zip/x.shp",
    "absolute path": "/etc/passwd.csv",
    "parent directory": "../outside/x.csv",
    "parent inside": "nightly/../../x.csv",
    "unlisted URL": "https://evil.example/open/x.csv",
    "URL beside the allowed prefix": "https://data.danang.example/openx/x.csv",
    "URL with a password": "https://u:p@data.danang.example/open/x.csv",
    "not an import format": "nightly/lights.vrt",
}


def _schedule(source: str) -> dict:
    return {"layer": _point_layer().id, "source": source, "cron": "0 2 * * *"}


@pytest.mark.parametrize("case", list(BAD_SOURCES))
def test_a_schedule_with_a_source_its_run_would_refuse_is_400_at_creation(client, operator,
                                                                           scratch_url, case):
    resp = client.post("/api/etl/schedules", json=_schedule(BAD_SOURCES[case]),
                       headers=operator)
    assert resp.status_code == 400, resp.json
    assert resp.json["error"]["code"] == "bad_request"
    assert _count(scratch_url, "etl_schedules") == 0


def test_a_schedule_edited_to_a_bad_source_is_400_and_unchanged(client, operator):
    good = client.post("/api/etl/schedules", json=_schedule("nightly/lights.geojson"),
                       headers=operator)
    assert good.status_code == 201, good.json
    url = client.post("/api/etl/schedules", json=_schedule(f"{ALLOWED}/lights.geojson"),
                      headers=operator)
    assert url.status_code == 201, url.json
    sid = good.json["id"]
    for source in BAD_SOURCES.values():
        resp = client.patch(f"/api/etl/schedules/{sid}", json={"source": source},
                            headers=operator)
        assert resp.status_code == 400, (source, resp.json)
    assert client.get(f"/api/etl/schedules/{sid}",
                      headers=operator).json["source"] == "nightly/lights.geojson"


def test_a_path_schedule_without_an_import_directory_is_400(scratch_url, dirs, operator):
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": dirs["data"]})
    try:
        resp = app.test_client().post("/api/etl/schedules",
                                      json=_schedule("nightly/lights.geojson"), headers=operator)
        assert resp.status_code == 400 and "GISAPP_IMPORT_DIR" in resp.json["error"]["message"]
    finally:
        app.extensions["engine"].dispose()


def test_the_schedule_cli_refuses_the_same_sources(scratch_url, dirs):
    env = {"DATABASE_URL": scratch_url, "GISAPP_IMPORT_DIR": str(dirs["imports"]),
           "GISAPP_IMPORT_URL_ALLOW": ALLOWED}
    runner = CliRunner()
    for source in BAD_SOURCES.values():
        result = runner.invoke(cli, ["etl", "schedule", "add", _point_layer().id, source,
                                     "0 2 * * *"], env=env)
        assert result.exit_code == 1 and "Error:" in result.output, (source, result.output)
    assert _count(scratch_url, "etl_schedules") == 0


# --- nested archives share one budget with their parent --------------------------------------

def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _upload(client, headers, body: bytes, name: str = "upload-test.zip"):
    return client.post("/api/etl/imports", headers=headers, content_type="multipart/form-data",
                       data={"layer": _point_layer().id, "file": (io.BytesIO(body), name)})


def _notes(prefix: str, n: int) -> dict[str, bytes]:
    return {f"{prefix}{i}.txt": b"note" for i in range(n)}


def test_nested_archives_share_the_file_count(client, operator, scratch_url, dirs):
    inner = _zip(_notes("inner", 12))
    ok = _upload(client, operator, _zip({"p.geojson": _points(), **_notes("outer", 5),
                                         "inner.zip": inner}))
    assert ok.status_code == 202, ok.json  # 19 files in all
    resp = _upload(client, operator, _zip({"p.geojson": _points(), **_notes("outer", 11),
                                           "inner.zip": inner}))
    assert resp.status_code == 400, resp.json  # 12 + 13: each under 20, together over
    assert "at most 20" in resp.json["error"]["message"]
    assert _count(scratch_url, "etl_runs") == 1  # the first only


def test_nested_archives_share_the_unpacked_bytes(client, operator, scratch_url):
    pad = b"x" * (1200 << 10)  # 1.2 MB each; the budget is 2 MB
    one = _upload(client, operator, _zip({"p.geojson": _points(), "p.prj": pad}))
    assert one.status_code == 202, one.json
    both = _upload(client, operator, _zip({"p.geojson": _points(), "p.prj": pad,
                                           "inner.zip": _zip({"q.cpg": pad})}))
    assert both.status_code == 400, both.json
    assert "2 MB" in both.json["error"]["message"]
    assert _count(scratch_url, "etl_runs") == 1


# --- archive members Python cannot read are a 400, never a 500 ------------------------------

LOCAL, CENTRAL = b"PK\x03\x04", b"PK\x01\x02"


def _patched_zip(members: dict[str, bytes], method: int | None = None,
                 encrypted: bool = False) -> bytes:
    """A zip whose headers say `method` or 'encrypted' (Python cannot write such zips)."""
    data = bytearray(_zip(members, zipfile.ZIP_STORED))
    for signature, flags_at, method_at in ((LOCAL, 6, 8), (CENTRAL, 8, 10)):
        at = data.find(signature)
        while at != -1:
            if method is not None:
                struct.pack_into("<H", data, at + method_at, method)
            if encrypted:
                flags = struct.unpack_from("<H", data, at + flags_at)[0]
                struct.pack_into("<H", data, at + flags_at, flags | 0x1)
            at = data.find(signature, at + 4)
    return bytes(data)


def _corrupt_deflate(members: dict[str, bytes]) -> bytes:
    data = bytearray(_zip(members))
    start = data.find(LOCAL) + 30 + len(next(iter(members)))
    data[start:start + 16] = b"\xff" * 16  # the deflate stream, not the headers
    return bytes(data)


UNREADABLE = {
    "Deflate64": (lambda m: _patched_zip(m, method=9), "Deflate64"),
    "PPMd": (lambda m: _patched_zip(m, method=98), "PPMd"),
    "unknown method": (lambda m: _patched_zip(m, method=77), "method 77"),
    "encrypted": (lambda m: _patched_zip(m, encrypted=True), "encrypted"),
    "corrupt data": (_corrupt_deflate, "cannot be read"),
}


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_unreadable_archive_members_are_400(client, operator, scratch_url, dirs, case):
    build, words = UNREADABLE[case]
    body = build({"points.geojson": _points(40)})
    resp = _upload(client, operator, body, name="gis-export.zip")
    assert resp.status_code == 400, resp.json
    message = resp.json["error"]["message"]
    assert words in message and "gis-export.zip" in message and "points.geojson" in message
    assert _count(scratch_url, "etl_runs") == 0 and _spool_empty(dirs)


def test_a_nested_unreadable_archive_names_both_archives(client, operator):
    body = _zip({"p.geojson": _points(), "inner.zip": _patched_zip({"q.prj": b"x"}, method=9)})
    resp = _upload(client, operator, body, name="outer.zip")
    assert resp.status_code == 400 and "outer.zip/inner.zip" in resp.json["error"]["message"]


def test_lzma_members_python_can_read_are_imported(client, operator):
    resp = _upload(client, operator, _zip({"p.geojson": _points()}, zipfile.ZIP_LZMA))
    assert resp.status_code == 202, resp.json


@pytest.mark.parametrize("case", ["Deflate64", "encrypted"])
def test_the_import_cli_refuses_unreadable_members_clearly(scratch_url, tmp_path, case):
    members = {"lights.shp": b"\x00\x00\x27\x0a" + b"\x00" * 96, "lights.dbf": b"x"}
    path = tmp_path / "lights.zip"
    path.write_bytes(UNREADABLE[case][0](members))
    result = CliRunner().invoke(cli, ["etl", "import", _point_layer().id, str(path)],
                                env={"DATABASE_URL": scratch_url})
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output and UNREADABLE[case][1] in result.output
    assert not any(word in result.output for word in
                   ("Traceback", "NotImplementedError", "RuntimeError", "BadZipFile"))


# --- raster uploads: capped from the header, converted by the worker -------------------------

def _tiff(tmp_path: Path, width: int = 64, height: int = 48, bands: int = 1,
          noise: bool = False) -> bytes:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / f"src-{width}x{height}x{bands}.tif"
    rng = np.random.default_rng(1)
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=bands,
                       dtype="float32", crs=CITY.metric_crs, nodata=-9999.0,
                       transform=from_origin(550_000.0, 1_777_000.0, 1, 1)) as dst:
        for band in range(1, bands + 1):
            data = (rng.random((height, width)) if noise else
                    np.linspace(0, 12, width * height).reshape(height, width))
            dst.write(data.astype("float32"), band)
    return path.read_bytes()


def _sparse_tiff(tmp_path: Path, side: int) -> bytes:
    """A header declaring side x side pixels with no pixel written (a few KB on disk)."""
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / "huge.tif"
    with rasterio.open(path, "w", driver="GTiff", width=side, height=side, count=1,
                       dtype="uint8", crs=CITY.metric_crs, tiled=True, sparse_ok=True,
                       transform=from_origin(550_000.0, 1_777_000.0, 0.0001, 0.0001)):
        pass
    return path.read_bytes()


def _post_raster(client, headers, body: bytes, name="flood-depth", filename="depth.tif"):
    return client.post("/api/etl/rasters", headers=headers, content_type="multipart/form-data",
                       data={"name": name, "unit": "m", "file": (io.BytesIO(body), filename)})


@pytest.fixture()
def raster_app(scratch_url: str, dirs):
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": dirs["data"], "MAX_RASTER_PIXELS": 10_000,
                      "MAX_RASTER_BANDS": 2, "MAX_RASTER_MB": 1})
    yield app
    app.extensions["engine"].dispose()


def _runs(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT status, source, error FROM etl_runs ORDER BY id").fetchall()


@pytest.mark.parametrize("case", ["pixels", "bands", "declared only"])
def test_raster_limits_are_checked_from_the_header(raster_app, operator, scratch_url, dirs,
                                                   tmp_path, case):
    body, setting = {
        "pixels": (_tiff(tmp_path, 200, 100), "GISAPP_MAX_RASTER_PIXELS"),
        "bands": (_tiff(tmp_path, bands=3), "GISAPP_MAX_RASTER_BANDS"),
        # 40,000 x 40,000 bytes would be 1.6 GB decoded; refused from its few-KB header
        "declared only": (_sparse_tiff(tmp_path, 40_000), "GISAPP_MAX_RASTER_PIXELS"),
    }[case]
    resp = _post_raster(raster_app.test_client(), operator, body)
    assert resp.status_code == 400, resp.json
    assert setting in resp.json["error"]["message"]
    assert "depth.tif" in resp.json["error"]["message"]
    [(status, source, error)] = _runs(scratch_url)
    assert status == "failed" and source == "upload:depth.tif" and setting in error
    assert _count(scratch_url, "rasters") == 0 and _spool_empty(dirs)


def test_a_raster_over_the_size_limit_is_413_naming_it(raster_app, operator, scratch_url, dirs,
                                                       tmp_path):
    body = _tiff(tmp_path, 700, 500, noise=True)  # 1.4 MB, and 350,000 pixels
    assert len(body) > 1 << 20
    resp = _post_raster(raster_app.test_client(), operator, body)
    assert resp.status_code == 413 and "GISAPP_MAX_RASTER_MB" in resp.json["error"]["message"]
    assert _runs(scratch_url) == [] and _spool_empty(dirs)


@pytest.fixture()
def worker(scratch_url: str, dirs, tmp_path):
    """A real `gisapp worker` on the scratch database, stopped at teardown."""
    import os
    import subprocess
    import sys

    procs = []

    def start():
        env = {**os.environ, "DATABASE_URL": scratch_url, "GISAPP_DATA_DIR": str(dirs["data"])}
        with open(tmp_path / "worker.log", "wb") as log:
            procs.append(subprocess.Popen(
                [str(Path(sys.executable).with_name("gisapp")), "worker", "--tick", "1",
                 "--heartbeat", "1"], env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))

    yield start
    for proc in procs:
        stop_group(proc)


def test_a_raster_upload_is_queued_and_converted_by_the_worker(client, operator, scratch_url,
                                                               dirs, tmp_path, worker):
    import time

    resp = _post_raster(client, operator, _tiff(tmp_path))
    assert resp.status_code == 202, resp.json
    run_id = resp.json["run_id"]
    assert resp.headers["Location"] == f"/api/etl/runs/{run_id}"
    # the web request converted nothing: the run waits for the worker
    assert client.get(f"/api/etl/runs/{run_id}", headers=operator).json["status"] == "queued"
    assert _count(scratch_url, "rasters") == 0
    assert not (dirs["data"] / "rasters").exists()
    worker()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = client.get(f"/api/etl/runs/{run_id}", headers=operator).json
        if run["status"] not in ("queued", "running"):
            break
        time.sleep(0.3)
    assert run["status"] == "succeeded", run
    assert run["source"] == "upload:depth.tif"
    with psycopg.connect(scratch_url) as conn:
        path, width, unit = conn.execute("SELECT path, width, unit FROM rasters"
                                         " WHERE name = 'flood-depth'").fetchone()
    assert Path(path).parent == dirs["data"] / "rasters" and width == 64 and unit == "m"
    assert _spool_empty(dirs)
    assert client.get("/rasters/flood-depth.json").status_code == 200


@pytest.mark.parametrize("endpoint, field", [("/api/etl/imports", "layer"),
                                             ("/api/etl/rasters", "name")])
def test_an_upload_name_with_control_characters_is_400(client, operator, scratch_url, dirs,
                                                       tmp_path, endpoint, field):
    body, name = ((_points(), "a\x00b.geojson") if field == "layer"
                  else (_tiff(tmp_path), "a\x00b.tif"))
    resp = client.post(endpoint, headers=operator, content_type="multipart/form-data",
                       data={field: _point_layer().id if field == "layer" else "dem",
                             "file": (io.BytesIO(body), name)})
    assert resp.status_code == 400, resp.json
    assert "control characters" in resp.json["error"]["message"]
    assert _count(scratch_url, "etl_runs") == 0 and _spool_empty(dirs)
