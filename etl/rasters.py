"""Import a GeoTIFF as a Cloud-Optimized GeoTIFF in the data directory, registered in `rasters`.

The new file is written under a temporary name and renamed into place; the `rasters` row
and the run's success record change in one transaction; the replaced file is deleted only
after that commits. A failed import leaves the previous raster and its row untouched.
"""
from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import rasterio
import rasterio.shutil
from psycopg.types.json import Jsonb
from rasterio.warp import transform_bounds

from etl.errors import ImportRefused
from etl.extent import CHECK_BOUNDS
from etl.runs import try_lock_layer, unlock_layer
from layers.city import CITY
from store import run_lifecycle
from store.layer_changes import publish_layer_change, settle_commit_lsns

RASTER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
RASTER_DRIVERS = ("GTiff", "COG")
RASTER_DIR = "rasters"
COG_OPTIONS = {"COMPRESS": "DEFLATE", "PREDICTOR": "YES", "OVERVIEWS": "AUTO",
               "BLOCKSIZE": "512"}



def open_raster(path: Path, label: str):
    """The raster opened with rasterio, or ImportRefused naming `label`, never the path."""
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise ImportRefused(f"cannot read {label} as a raster: "
                            f"{str(exc).replace(str(path), label)}") from None

def raster_run_layer(name: str) -> str:
    """The etl_runs.layer value (and lock name) of a raster import."""
    return f"raster:{name}"


def check_raster_name(name: str) -> str:
    """The name, if usable as a file-name stem and URL segment."""
    if not RASTER_NAME.match(name):
        raise ImportRefused(f"raster name {name!r} must be 1-63 characters of a-z, 0-9, "
                            "'-' or '_', starting with a letter or digit")
    return name


def _band_stats(src: rasterio.DatasetReader) -> list[dict]:
    """min/max/mean/valid count per band, block by block (never the whole raster in memory)."""
    stats = []
    for band in range(1, src.count + 1):
        lo, hi, total, count = np.inf, -np.inf, 0.0, 0
        for _, window in src.block_windows(band):
            data = src.read(band, window=window, masked=True)
            valid = data.compressed()
            valid = valid[np.isfinite(valid)] if valid.dtype.kind == "f" else valid
            if valid.size:
                lo, hi = min(lo, float(valid.min())), max(hi, float(valid.max()))
                total += float(valid.sum(dtype="float64"))
                count += int(valid.size)
        stats.append({"band": band, "min": lo if count else None, "max": hi if count else None,
                      "mean": total / count if count else None, "valid_pixels": count})
    return stats


def _validate(src: rasterio.DatasetReader) -> tuple[tuple[float, ...], list[str]]:
    """Bounds in EPSG:4326 and warnings; raises ImportRefused for what cannot be imported."""
    if src.driver not in RASTER_DRIVERS:
        raise ImportRefused(f"raster driver {src.driver} is not allowed; allowed: "
                            f"{', '.join(RASTER_DRIVERS)} (GeoTIFF)")
    if src.crs is None:
        raise ImportRefused(f"the raster has no CRS; assign one (e.g. {CITY.metric_crs}, "
                            f"{CITY.metric_crs_name}) with gdal_edit.py -a_srs before importing")
    bounds = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
    x0, y0, x1, y1 = CHECK_BOUNDS
    if not (bounds[0] >= x0 and bounds[1] >= y0 and bounds[2] <= x1 and bounds[3] <= y1):
        raise ImportRefused(
            f"raster bounds {tuple(round(b, 5) for b in bounds)} (lon/lat) are not inside the "
            f"city's extent {CHECK_BOUNDS}; check its CRS")
    warnings = []
    if src.nodata is None:
        warnings.append("the raster declares no nodata value; every pixel counts as data")
    elif not np.isnan(src.nodata) and not np.can_cast(np.min_scalar_type(src.nodata),
                                                       src.dtypes[0]):
        raise ImportRefused(f"nodata {src.nodata} does not fit the band type {src.dtypes[0]}")
    return bounds, warnings


@dataclass(frozen=True)
class RasterLimits:
    """Largest raster an upload may bring: pixels (width x height) and bands."""

    pixels: int
    bands: int


def check_header(path: Path, limits: RasterLimits, label: str) -> list[str]:
    """Check a GeoTIFF from its header only (size, bands, driver, CRS, bounds); warnings.

    rasterio reads the header and directory, never a pixel, so a file declaring a huge
    raster is refused before anything is decoded. Raises ImportRefused naming the limit.
    """
    with open_raster(path, label) as src:
        pixels = src.width * src.height
        if pixels > limits.pixels:
            raise ImportRefused(f"{label} is {src.width:,} x {src.height:,} = {pixels:,} pixels;"
                                f" at most {limits.pixels:,} are allowed "
                                "(GISAPP_MAX_RASTER_PIXELS)")
        if src.count > limits.bands:
            raise ImportRefused(f"{label} has {src.count} bands; at most {limits.bands} are "
                                "allowed (GISAPP_MAX_RASTER_BANDS)")
        return _validate(src)[1]


def import_raster(conninfo: str, name: str, path: Path, data_dir: Path,
                  unit: str | None = None, run_id: int | None = None,
                  source_name: str | None = None) -> dict | None:
    """Validate `path`, write it as a COG into data_dir/rasters and register it under `name`.

    Returns the registered row as a dict (name, path, crs, bounds, width, height, nodata,
    unit, stats, run_id, warnings). Raises ImportRefused (recorded on the run) when the
    raster cannot be imported; another import of the same name at the same time is refused.
    With `run_id` (the worker) the queued run is claimed instead of a new one recorded, and
    None is returned when it is no longer queued. `source_name` names the file in messages.
    """
    check_raster_name(name)
    path = Path(path)
    out_dir = Path(data_dir) / RASTER_DIR
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if not try_lock_layer(conn, raster_run_layer(name)):
            raise ImportRefused(f"raster {name!r} is being imported by another run; "
                                "try again when it has finished")
        try:
            if run_id is None:
                run_id = run_lifecycle.start_run(conn, layer=raster_run_layer(name),
                                                 source=str(path), source_format="GTiff",
                                                 mode="replace", phase="read")
            elif not run_lifecycle.claim_run(conn, run_id, "read"):
                return None  # no longer queued (cancelled, done)
            return _import_locked(conn, run_id, name, path, out_dir, unit,
                                  source_name or path.name)
        finally:
            unlock_layer(conn, raster_run_layer(name))


def _import_locked(conn: psycopg.Connection, run_id: int, name: str, path: Path,
                   out_dir: Path, unit: str | None, label: str) -> dict:
    timings: dict[str, float] = {}
    final = out_dir / f"{name}-{run_id}.tif"
    tmp = out_dir / f".{name}-{run_id}.tif.partial"
    started = time.perf_counter()
    try:
        with open_raster(path, label) as src:
            bounds, warnings = _validate(src)
            timings["validate"] = round(time.perf_counter() - started, 3)
            run_lifecycle.record_progress(conn, run_id, phase="stats",
                                          source_crs=src.crs.to_string(), warnings=warnings)
            stats = _band_stats(src)
            timings["stats"] = round(time.perf_counter() - started - timings["validate"], 3)
            row = {"name": name, "path": str(final), "crs": src.crs.to_string(),
                   "bounds": list(bounds), "width": src.width, "height": src.height,
                   "nodata": None if src.nodata is None or np.isnan(src.nodata) else src.nodata,
                   "unit": unit, "stats": {"bands": stats, "dtype": src.dtypes[0]}}
        run_lifecycle.record_progress(conn, run_id, phase="write")
        out_dir.mkdir(parents=True, exist_ok=True)
        rasterio.shutil.copy(path, tmp, driver="COG", **COG_OPTIONS)
        os.replace(tmp, final)
        timings["write"] = round(time.perf_counter() - started - sum(timings.values()), 3)
        timings["total"] = round(time.perf_counter() - started, 3)
        previous = _register(conn, run_id, row, warnings, timings)
        _settle_commit_lsn(conn, name)
    except BaseException as exc:
        for leftover in (tmp, final):
            leftover.unlink(missing_ok=True)
        run_lifecycle.record_failure(
            conn, run_id, (str(exc) or type(exc).__name__).replace(str(path), label),
            timings=timings)
        raise
    if previous and Path(previous) != final:
        Path(previous).unlink(missing_ok=True)
    return {**row, "run_id": run_id, "warnings": warnings}


def _settle_commit_lsn(conn: psycopg.Connection, name: str) -> None:
    """Record the new row's commit LSN (replicas serve it once past); never fails the import."""
    try:
        settle_commit_lsns(conn)
    except psycopg.Error as exc:
        logging.getLogger(__name__).warning("commit LSN of raster %s not recorded: %s", name, exc)


def _register(conn: psycopg.Connection, run_id: int, row: dict, warnings: list[str],
              timings: dict) -> str | None:
    """Insert or replace the rasters row and mark the run succeeded, in one transaction."""
    with conn.transaction():
        found = conn.execute("SELECT path FROM rasters WHERE name = %s FOR UPDATE",
                             (row["name"],)).fetchone()
        conn.execute(
            "INSERT INTO rasters (name, path, crs, bounds, width, height, nodata, unit, stats,"
            " source_run_id, updated_at) VALUES (%s, %s, %s, ST_MakeEnvelope(%s, %s, %s, %s,"
            " 4326), %s, %s, %s, %s, %s, %s, now()) ON CONFLICT (name) DO UPDATE SET"
            " path = EXCLUDED.path, crs = EXCLUDED.crs, bounds = EXCLUDED.bounds,"
            " width = EXCLUDED.width, height = EXCLUDED.height, nodata = EXCLUDED.nodata,"
            " unit = EXCLUDED.unit, stats = EXCLUDED.stats,"
            " source_run_id = EXCLUDED.source_run_id, updated_at = now()",
            (row["name"], row["path"], row["crs"], *row["bounds"], row["width"],
             row["height"], row["nodata"], row["unit"], Jsonb(row["stats"]), run_id))
        # a version like a layer's: replicas serve the raster once they have its row
        publish_layer_change(conn, raster_run_layer(row["name"]), run_id, tuple(row["bounds"]))
        run_lifecycle.record_success(
            conn, run_id, rows_read=1, rows_valid=1, rows_loaded=1, rows_rejected=0,
            rows_repaired=0, warnings=warnings, timings=timings, extent=tuple(row["bounds"]),
            summary={"added": 0 if found else 1, "updated": 1 if found else 0,
                     "unchanged": 0, "removed": 0})
    return found[0] if found else None
