"""Elevation and flood-depth GeoTIFFs over the demo extent (EPSG:5899, float32, tiled)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from etl.demo.terrain import METRIC_CRS, Elevation

PIXEL_M = 15.0
MARGIN_M = 300.0
NODATA = -9999.0
FLOOD_LEVEL_M = 2.6  # water level of the design flood, metres above datum
MIN_DEPTH_M = 0.05


def write_rasters(out_dir: Path, bounds: tuple[float, float, float, float],
                  elevation: Elevation) -> dict[str, Path]:
    """Write elevation.tif and flood_depth.tif covering `bounds` (EPSG:5899) plus a margin."""
    x0 = np.floor((bounds[0] - MARGIN_M) / PIXEL_M) * PIXEL_M
    y1 = np.ceil((bounds[3] + MARGIN_M) / PIXEL_M) * PIXEL_M
    width = int(np.ceil((bounds[2] + MARGIN_M - x0) / PIXEL_M))
    height = int(np.ceil((y1 - bounds[1] + MARGIN_M) / PIXEL_M))
    xs = x0 + (np.arange(width) + 0.5) * PIXEL_M
    ys = y1 - (np.arange(height) + 0.5) * PIXEL_M
    gx, gy = np.meshgrid(xs, ys)
    ground = elevation.at(gx, gy).astype("float32")
    depth = (FLOOD_LEVEL_M - ground).astype("float32")
    depth[depth < MIN_DEPTH_M] = NODATA
    profile = {"driver": "GTiff", "dtype": "float32", "count": 1, "width": width,
               "height": height, "crs": METRIC_CRS, "nodata": NODATA,
               "transform": from_origin(x0, y1, PIXEL_M, PIXEL_M), "tiled": True,
               "blockxsize": 256, "blockysize": 256, "compress": "deflate", "predictor": 3}
    paths = {}
    for name, data in (("elevation", np.round(ground, 2)), ("flood_depth", depth)):
        path = out_dir / f"{name}.tif"
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data, 1)
            dst.update_tags(1, unit="m")
        paths[name] = path
    return paths
