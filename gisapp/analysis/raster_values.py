"""Values of a registered raster: every band at a lon/lat point, statistics over a polygon."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.ops
from pyproj import Transformer
from rasterio.warp import transform as warp_transform
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from gisapp.analysis.raster_stats import METRIC_CRS, open_dataset, raster_stats
from gisapp.errors import BadRequest
from tiles.raster import RasterInfo

MAX_VERTICES = 100_000
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


def point_values(path: Path, lon: float, lat: float) -> dict[str, Any] | None:
    """Every band's value at a lon/lat (EPSG:4326) point; None when it is off the raster.

    A nodata or non-finite pixel is None. `x`/`y` are the point in the raster's CRS and
    `row`/`col` the pixel holding it (0-based, row 0 at the top).
    """
    src = open_dataset(path)
    xs, ys = warp_transform("EPSG:4326", src.crs, [lon], [lat])
    row, col = src.index(xs[0], ys[0])
    if not (0 <= row < src.height and 0 <= col < src.width):
        return None
    data = src.read(window=Window(col, row, 1, 1), masked=True)
    values: list[float | None] = []
    for band in range(src.count):
        masked = bool(np.ma.getmaskarray(data)[band, 0, 0])
        value = float(data.data[band, 0, 0])
        values.append(None if masked or not math.isfinite(value) else value)
    return {"crs": src.crs.to_string(), "x": round(xs[0], 3), "y": round(ys[0], 3),
            "row": int(row), "col": int(col), "values": values}


def parse_polygon(geometry: Any) -> BaseGeometry:
    """A GeoJSON Polygon or MultiPolygon in EPSG:4326 (lon/lat), checked; else BadRequest."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise BadRequest("geometry must be a GeoJSON Polygon or MultiPolygon in EPSG:4326")
    try:
        polygon = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise BadRequest(f"geometry is not a valid GeoJSON {geometry['type']}: {exc}") from None
    if polygon.is_empty or shapely.get_num_coordinates(polygon) > MAX_VERTICES:
        raise BadRequest(f"geometry must be non-empty with at most {MAX_VERTICES} vertices")
    west, south, east, north = polygon.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise BadRequest("geometry coordinates must be longitude -180..180, latitude -90..90")
    return polygon if polygon.is_valid else shapely.make_valid(polygon)


def polygon_summary(conn: Connection, info: RasterInfo, polygon: BaseGeometry,
                    data_dir: Path) -> dict[str, Any] | None:
    """count/min/mean/max of band 1 over a lon/lat polygon; None when no such raster.

    Only the part inside the raster's lon/lat bounds is reprojected: a polygon the size
    of a continent does not survive the trip to a 3-degree transverse Mercator zone.
    """
    polygon = polygon.intersection(shapely.box(*info.bounds))
    stats = {"pixels": 0, "min": None, "mean": None, "max": None}
    if not polygon.is_empty:
        stats = raster_stats(conn, info.name,
                             shapely.ops.transform(_TO_METRIC.transform, polygon), data_dir)
    if stats is None:
        return None
    return {"raster": info.name, "unit": info.unit, "count": stats["pixels"],
            "min": stats["min"], "mean": stats["mean"], "max": stats["max"]}
