"""POST /api/etl/rasters: an uploaded GeoTIFF is queued and the worker registers it as a COG;
bad ones are 400."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import psycopg
import rasterio
from rasterio.transform import from_origin

from layers.city import CITY
from tests.auth_helpers import auth_headers
from tests.gisapp.etl_ops.conftest import run_status, wait_for


def _tiff(tmp_path: Path, origin=(550_000.0, 1_777_000.0)) -> bytes:
    path = tmp_path / "src.tif"
    data = np.linspace(0, 12, 64 * 48, dtype="float32").reshape(48, 64)
    with rasterio.open(path, "w", driver="GTiff", width=64, height=48, count=1,
                       dtype="float32", crs=CITY.metric_crs, nodata=-9999.0,
                       transform=from_origin(*origin, 10, 10)) as dst:
        dst.write(data, 1)
    return path.read_bytes()


def _post(client, headers, body: bytes, name="flood-depth", filename="depth.tif"):
    return client.post("/api/etl/rasters", headers=headers, content_type="multipart/form-data",
                       data={"name": name, "unit": "m", "file": (io.BytesIO(body), filename)})


def test_uploaded_geotiff_is_queued_and_registered_by_the_worker(ops_client, operator, scratch_url,
                                                                 ops_dirs, tmp_path,
                                                                 start_worker):
    resp = _post(ops_client, operator, _tiff(tmp_path))
    assert resp.status_code == 202, resp.json
    body = resp.json
    assert body["status"] == "queued" and body["links"]["self"] == f"/api/etl/runs/{body['run_id']}"
    start_worker()
    wait_for(lambda: run_status(scratch_url, body["run_id"])[0] == "succeeded")
    with psycopg.connect(scratch_url) as conn:
        path, unit, width = conn.execute("SELECT path, unit, width FROM rasters"
                                         " WHERE name = 'flood-depth'").fetchone()
    assert unit == "m" and width == 64
    assert Path(path).parent == ops_dirs["data"] / "rasters"
    assert list((ops_dirs["data"] / "spool").iterdir()) == []


def test_a_raster_outside_the_city_is_400_and_recorded(ops_client, operator, scratch_url,
                                                       tmp_path):
    resp = _post(ops_client, operator, _tiff(tmp_path, origin=(200_000.0, 1_300_000.0)))
    assert resp.status_code == 400 and "not inside" in resp.json["error"]["message"]
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute("SELECT status FROM etl_runs").fetchone()[0] == "failed"
        assert conn.execute("SELECT count(*) FROM rasters").fetchone()[0] == 0


def test_non_tiff_uploads_are_refused(ops_client, operator, tmp_path):
    assert _post(ops_client, operator, b"<VRTDataset/>", filename="x.vrt").status_code == 400
    fake = _post(ops_client, operator, b"<VRTDataset/>", filename="x.tif")
    assert fake.status_code == 400 and "not a GeoTIFF" in fake.json["error"]["message"]
    bad_name = _post(ops_client, operator, _tiff(tmp_path), name="../x")
    assert bad_name.status_code == 400 and "raster name" in bad_name.json["error"]["message"]


def test_planners_may_not_import_rasters(ops_client, scratch_url, tmp_path):
    assert _post(ops_client, auth_headers(scratch_url, "planner"),
                 _tiff(tmp_path)).status_code == 403
