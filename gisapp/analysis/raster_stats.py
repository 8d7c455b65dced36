"""Statistics of a registered raster (elevation, flood depth) over a polygon."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import rasterio
import rasterio.mask
import shapely
from rasterio.warp import transform_geom
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, select

from layers.city import CITY
from store.tables import rasters

METRIC_CRS = CITY.metric_crs
MAX_OPEN = 16
_OPEN = threading.local()  # per thread: rasterio datasets are not safe to share across threads


def open_dataset(path: Path) -> rasterio.DatasetReader:
    """An open dataset for this file, kept per thread (an import writes a new file name)."""
    cache = getattr(_OPEN, "datasets", None)
    if cache is None:
        cache = _OPEN.datasets = {}
    key = (str(path), path.stat().st_mtime_ns)
    if key not in cache:
        stale = [k for k in cache if k[0] == key[0]] if len(cache) < MAX_OPEN else list(cache)
        for old in stale:
            cache.pop(old).close()
        cache[key] = rasterio.open(path)
    return cache[key]


def raster_path(path: str, data_dir: Path) -> Path:
    """A raster row's file: absolute as stored, or relative to the data directory."""
    p = Path(path)
    return p if p.is_absolute() else Path(data_dir) / p


def _values(src: rasterio.DatasetReader, shape: dict, all_touched: bool) -> np.ndarray:
    """Band 1's valid values under a shape (empty outside the raster or over nodata)."""
    try:
        data, _ = rasterio.mask.mask(src, [shape], crop=True, all_touched=all_touched,
                                     filled=False, indexes=1)
    except ValueError:  # "Input shapes do not overlap raster."
        return np.empty(0)
    values = data.compressed()
    return values[np.isfinite(values)] if values.dtype.kind == "f" else values


def raster_stats(conn: Connection, name: str, polygon: BaseGeometry,
                 data_dir: Path) -> dict | None:
    """min/mean/max of band 1 over a 5899 polygon; None when no raster has this name.

    The pixels whose centres lie inside the polygon count; a parcel too small or thin to
    hold a pixel centre reads every pixel it touches instead. Counting every touched pixel
    always would add a ring of neighbours' pixels (a 10 × 20 m parcel on a 1 m grid read
    231 pixels, 31 of them outside it). `pixels` is 0 when the polygon lies outside the
    raster or over nodata only.
    """
    row = conn.execute(select(rasters.c.path, rasters.c.unit)
                       .where(rasters.c.name == name)).first()
    if row is None:
        return None
    src = open_dataset(raster_path(row.path, data_dir))
    shape = shapely.geometry.mapping(polygon)
    if src.crs != METRIC_CRS:
        shape = transform_geom(METRIC_CRS, src.crs, shape)
    values = _values(src, shape, all_touched=False)
    if values.size == 0:
        values = _values(src, shape, all_touched=True)
    if values.size == 0:
        return {"raster": name, "unit": row.unit, "pixels": 0,
                "min": None, "mean": None, "max": None}
    return {"raster": name, "unit": row.unit, "pixels": int(values.size),
            "min": round(float(values.min()), 3), "mean": round(float(values.mean()), 3),
            "max": round(float(values.max()), 3)}
