"""Raster tiles: a registered GeoTIFF reprojected to a Web Mercator tile, coloured, as PNG.

Reads go through rasterio's WarpedVRT (EPSG:3857, bilinear), nodata becomes transparent,
values are mapped through a colour ramp between the band's min and max (the stats the
import recorded) unless the caller gives its own range.
"""
from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform

from tiles.grid import MAX_ZOOM, WORLD_HALF_M, Tile, tile_bounds_3857, tile_bounds_lonlat

TILE_SIZE = 256
# Stops (0..1 -> RGB). Terrain for heights, blues for water depths, viridis as a neutral one.
RAMPS: dict[str, tuple[tuple[float, tuple[int, int, int]], ...]] = {
    "terrain": ((0.0, (0, 97, 71)), (0.25, (86, 160, 74)), (0.5, (231, 215, 140)),
                (0.75, (164, 112, 63)), (1.0, (255, 255, 255))),
    "blues": ((0.0, (222, 235, 247)), (0.5, (107, 174, 214)), (1.0, (8, 48, 107))),
    "viridis": ((0.0, (68, 1, 84)), (0.25, (59, 82, 139)), (0.5, (33, 145, 140)),
                (0.75, (94, 201, 98)), (1.0, (253, 231, 37))),
}
DEFAULT_RAMP = "viridis"


class RasterError(ValueError):
    """A raster request that cannot be served as asked."""


@dataclass(frozen=True)
class RasterInfo:
    """A registered raster, as the `rasters` table holds it."""

    name: str
    path: Path
    bounds: tuple[float, float, float, float]
    width: int
    height: int
    nodata: float | None
    unit: str | None
    low: float | None
    high: float | None
    updated: str


def find_raster(conn: Any, name: str, data_dir: Path) -> RasterInfo | None:
    """The raster registered under `name` (relative paths are under data_dir), or None."""
    cur = conn.cursor()
    try:
        cur.execute("SELECT name, path, ST_XMin(bounds), ST_YMin(bounds), ST_XMax(bounds),"
                    " ST_YMax(bounds), width, height, nodata, unit, stats, updated_at::text"
                    " FROM rasters WHERE name = %s", (name,))
        row = cur.fetchone()
    finally:
        cur.close()
    if row is None:
        return None
    bands = (row[10] or {}).get("bands") or [{}]
    path = Path(row[1]) if Path(row[1]).is_absolute() else Path(data_dir) / row[1]
    return RasterInfo(row[0], path, tuple(row[2:6]), row[6], row[7], row[8], row[9],
                      bands[0].get("min"), bands[0].get("max"), row[11])


@lru_cache(maxsize=64)
def zoom_range(info: RasterInfo) -> tuple[int, int]:
    """(minzoom, maxzoom) of the raster's tiles, from its resolution in Web Mercator.

    maxzoom is the first zoom whose pixels are as fine as the raster's own; minzoom the
    zoom whose pixels are as coarse as the raster halved until it fits one tile (the
    coarsest overview of a COG, as GDAL's COG driver and rio-tiler count it). Cached per
    registration (`info` carries its update time).
    """
    with rasterio.open(info.path) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:3857", src.width, src.height, *src.bounds)
    resolution = max(abs(transform.a), abs(transform.e), 1e-9)
    halvings = max(0, math.ceil(math.log2(max(width, height) / TILE_SIZE)))

    def zoom(res: float) -> float:
        return math.log2(2 * WORLD_HALF_M / TILE_SIZE / res)

    maxzoom = max(0, min(MAX_ZOOM, math.ceil(zoom(resolution))))
    minzoom = max(0, min(maxzoom, math.floor(zoom(resolution * 2 ** halvings))))
    return minzoom, maxzoom


def colourise(values: np.ma.MaskedArray, low: float, high: float, ramp: str) -> np.ndarray:
    """RGBA uint8 of a masked band: masked and non-finite pixels are transparent."""
    stops = RAMPS[ramp]
    span = (high - low) or 1.0
    filled = values.filled(np.nan).astype("float64")
    finite = np.isfinite(filled)
    t = np.clip((np.where(finite, filled, low) - low) / span, 0.0, 1.0)
    positions = [s[0] for s in stops]
    rgba = np.zeros(values.shape + (4,), dtype=np.uint8)
    for channel in range(3):
        rgba[..., channel] = np.interp(t, positions, [s[1][channel] for s in stops])
    rgba[..., 3] = np.where(finite, 255, 0)
    return rgba


def encode_png(rgba: np.ndarray) -> bytes:
    """A PNG (8-bit RGBA) of an (h, w, 4) uint8 array."""
    height, width, _ = rgba.shape
    raw = np.concatenate([np.zeros((height, 1), np.uint8),
                          rgba.reshape(height, width * 4)], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def _touches(info: RasterInfo, tile: Tile) -> bool:
    west, south, east, north = tile_bounds_lonlat(tile)
    rw, rs, re_, rn = info.bounds
    return west < re_ and east > rw and south < rn and north > rs


def render_raster_tile(info: RasterInfo, tile: Tile, ramp: str = DEFAULT_RAMP,
                       value_range: tuple[float, float] | None = None) -> bytes | None:
    """The PNG of a tile, or None when the raster has no pixel there."""
    if ramp not in RAMPS:
        raise RasterError(f"unknown ramp {ramp!r}; ramps: {', '.join(RAMPS)}")
    if not _touches(info, tile):
        return None
    low, high = value_range or (info.low, info.high)
    if low is None or high is None:
        raise RasterError(f"raster {info.name} has no recorded value range; pass min and max")
    transform = from_bounds(*tile_bounds_3857(tile), TILE_SIZE, TILE_SIZE)
    with rasterio.open(info.path) as src:
        with WarpedVRT(src, crs="EPSG:3857", transform=transform, width=TILE_SIZE,
                       height=TILE_SIZE, resampling=Resampling.bilinear,
                       src_nodata=src.nodata, nodata=float("nan"),
                       dtype="float32") as vrt:
            values = vrt.read(1, masked=True)
    if values.mask is not np.ma.nomask and values.mask.all():
        return None
    return encode_png(colourise(values, float(low), float(high), ramp))


def raster_tilejson(info: RasterInfo, tiles_url: str) -> dict[str, Any]:
    """TileJSON 3.0 of a raster's PNG tiles."""
    minzoom, maxzoom = zoom_range(info)
    west, south, east, north = info.bounds
    return {"tilejson": "3.0.0", "name": info.name, "version": "1.0.0", "scheme": "xyz",
            "description": f"{info.name} ({info.unit or 'no unit'}), "
                           f"{info.low} to {info.high}",
            "tiles": [tiles_url], "minzoom": minzoom, "maxzoom": maxzoom,
            "bounds": [west, south, east, north],
            "center": [(west + east) / 2, (south + north) / 2, minzoom]}


# Sent where a raster has no pixel: a 256 × 256 fully transparent tile.
TRANSPARENT_PNG = encode_png(np.zeros((TILE_SIZE, TILE_SIZE, 4), dtype=np.uint8))
