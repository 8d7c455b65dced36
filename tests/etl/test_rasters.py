"""Raster import: validation, COG output, registration, atomic replacement."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from etl.errors import ImportRefused
from etl.rasters import import_raster
from gisapp.cli.rasters import import_raster_cmd
from layers.city import CITY

# EPSG:5899 (VN-2000 / TM-3 107-45) around the Dragon Bridge (E 550 846, N 1 776 403).
ORIGIN_TM3 = (550_000.0, 1_777_000.0)


def write_tiff(path: Path, data: np.ndarray, crs: str | None = CITY.metric_crs,
               origin: tuple[float, float] = ORIGIN_TM3, nodata: float | None = -9999.0,
               pixel: float = 10.0) -> Path:
    profile = {"driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
               "dtype": data.dtype.name, "transform": from_origin(*origin, pixel, pixel)}
    if crs:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def dem(value_offset: float = 0.0) -> np.ndarray:
    data = np.arange(100 * 120, dtype="float32").reshape(100, 120) / 100 + value_offset
    data[0, :10] = -9999.0
    return data


def raster_row(url: str, name: str):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT path, crs, width, height, nodata, unit, stats, source_run_id,"
            " ST_XMin(bounds), ST_YMin(bounds) FROM rasters WHERE name = %s",
            (name,)).fetchone()


def run_rows(url: str):
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, layer, status, error FROM etl_runs ORDER BY id").fetchall()


def test_import_writes_a_cog_and_registers_stats(scratch_url, tmp_path):
    data = dem()
    src = write_tiff(tmp_path / "dem.tif", data)
    row = import_raster(scratch_url, "elevation", src, tmp_path / "data", unit="m")
    path = Path(row["path"])
    assert path == tmp_path / "data" / "rasters" / f"elevation-{row['run_id']}.tif"
    with rasterio.open(path) as cog:
        assert cog.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert cog.crs.to_epsg() == CITY.metric_srid and cog.nodata == -9999.0
        assert np.array_equal(cog.read(1), data)
    stored = raster_row(scratch_url, "elevation")
    valid = data[data != -9999.0]
    band = stored[6]["bands"][0]
    assert stored[:6] == (str(path), CITY.metric_crs, 120, 100, -9999.0, "m")
    assert band["min"] == pytest.approx(valid.min()) and band["max"] == pytest.approx(valid.max())
    assert band["mean"] == pytest.approx(valid.mean(dtype="float64"))
    assert band["valid_pixels"] == valid.size
    assert 108.2 < stored[8] < 108.25 and 16.0 < stored[9] < 16.1
    assert run_rows(scratch_url) == [(row["run_id"], "raster:elevation", "succeeded", None)]
    assert not list((tmp_path / "data" / "rasters").glob(".*"))


def test_replacing_a_raster_swaps_file_and_row_and_deletes_the_old_file(scratch_url, tmp_path):
    first = import_raster(scratch_url, "flood-depth", write_tiff(tmp_path / "a.tif", dem()),
                          tmp_path / "data")
    second = import_raster(scratch_url, "flood-depth",
                           write_tiff(tmp_path / "b.tif", dem(5.0)), tmp_path / "data")
    assert not Path(first["path"]).exists() and Path(second["path"]).exists()
    stored = raster_row(scratch_url, "flood-depth")
    assert stored[0] == second["path"] and stored[7] == second["run_id"]
    assert stored[6]["bands"][0]["min"] == pytest.approx(5.1)


@pytest.mark.parametrize("kwargs, message", [
    ({"crs": None}, "has no CRS"),
    ({"origin": (200_000.0, 1_300_000.0)}, "not inside the city's extent"),
    ({"crs": "EPSG:4326", "origin": (2.35, 48.85), "pixel": 0.001}, "not inside"),
])
def test_a_bad_raster_is_refused_and_the_previous_one_stays(scratch_url, tmp_path, kwargs,
                                                            message):
    good = import_raster(scratch_url, "elevation", write_tiff(tmp_path / "ok.tif", dem()),
                         tmp_path / "data")
    bad = write_tiff(tmp_path / "bad.tif", dem(), **kwargs)
    with pytest.raises(ImportRefused, match=message):
        import_raster(scratch_url, "elevation", bad, tmp_path / "data")
    assert raster_row(scratch_url, "elevation")[0] == good["path"]
    assert sorted(p.name for p in (tmp_path / "data" / "rasters").iterdir()) == \
        [Path(good["path"]).name]
    runs = run_rows(scratch_url)
    assert runs[-1][2] == "failed" and message.split()[0] in runs[-1][3]


def test_a_file_that_is_not_a_raster_is_refused(scratch_url, tmp_path):
    fake = tmp_path / "notes.tif"
    fake.write_text("not a tiff")
    with pytest.raises(ImportRefused, match="cannot read notes.tif as a raster"):
        import_raster(scratch_url, "elevation", fake, tmp_path / "data")


@pytest.mark.parametrize("name", ["../etc", "Elevation", "a b", "", "x" * 64])
def test_raster_names_must_be_safe_file_stems(scratch_url, tmp_path, name):
    with pytest.raises(ImportRefused, match="raster name"):
        import_raster(scratch_url, name, write_tiff(tmp_path / "d.tif", dem()),
                      tmp_path / "data")
    assert run_rows(scratch_url) == []


def test_raster_without_nodata_is_imported_with_a_warning(scratch_url, tmp_path):
    row = import_raster(scratch_url, "elevation",
                        write_tiff(tmp_path / "d.tif", dem(), nodata=None), tmp_path / "data")
    assert row["nodata"] is None and "no nodata value" in row["warnings"][0]


def test_cli_imports_a_raster(scratch_url, tmp_path):
    src = write_tiff(tmp_path / "dem.tif", dem())
    result = CliRunner().invoke(
        import_raster_cmd, ["elevation", str(src), "--unit", "m"],
        env={"DATABASE_URL": scratch_url, "GISAPP_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 0, result.output
    assert f"raster elevation 120x100 {CITY.metric_crs}" in result.output
    assert raster_row(scratch_url, "elevation")[5] == "m"
