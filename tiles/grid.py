"""Web Mercator tile grid: parse and check z/x/y, tile bounds, tiles covering a bbox.

WorldCRS84Quad tile addresses are checked here too (parse_crs84_tile).

Everything here is checked before any SQL runs: PostGIS raises on envelopes outside the
grid, and a bad path must be a 400, never a 500.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

from layers import LAYERS, Layer, get_layer

MIN_ZOOM = 0
MAX_ZOOM = 22
MAX_CRS84_LEVEL = MAX_ZOOM - 1  # WorldCRS84Quad level L is as wide as Web Mercator zoom L+1
MAX_LATITUDE = 85.0511287798066
WORLD_HALF_M = 20037508.342789244
TILE_NUMBER = re.compile(r"^[0-9]{1,8}$")
LAYER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class GridError(ValueError):
    """A tile address or layer list that is not on the grid or not allowed."""


@dataclass(frozen=True, order=True)
class Tile:
    """One tile of the Web Mercator (XYZ, y down) grid."""

    z: int
    x: int
    y: int

    def __str__(self) -> str:
        return f"{self.z}/{self.x}/{self.y}"


def parse_tile(z: str, x: str, y: str) -> Tile:
    """Parse path segments into a Tile, or GridError saying what is allowed."""
    for name, value in (("z", z), ("x", x), ("y", y)):
        if not TILE_NUMBER.match(value):
            raise GridError(f"{name} must be a non-negative integer, got {value!r}")
    return check_tile(int(z), int(x), int(y))


def check_tile(z: int, x: int, y: int) -> Tile:
    """A Tile if z is in 0–22 and x, y are inside the zoom's range, else GridError."""
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        raise GridError(f"zoom {z} is outside {MIN_ZOOM}–{MAX_ZOOM}")
    last = (1 << z) - 1
    if not 0 <= x <= last:
        raise GridError(f"x {x} is outside 0–{last} at zoom {z}")
    if not 0 <= y <= last:
        raise GridError(f"y {y} is outside 0–{last} at zoom {z}")
    return Tile(z, x, y)


def parse_crs84_tile(matrix: str, row: str, col: str) -> Tile:
    """A WorldCRS84Quad tile as the Tile of the same cell one zoom deeper in a 360° grid.

    WorldCRS84Quad level L has 2^(L+1) × 2^L tiles of 180/2^L degrees from (-180, 90);
    that is zoom L+1 of a square grid of 360° whose top-left corner is (-180, 90), which
    is how the tile SQL addresses it (ST_TileEnvelope with those bounds). The zoom is then
    the Web Mercator zoom whose tiles are as wide, so zoom ranges apply unchanged.
    """
    for name, value in (("tileMatrix", matrix), ("tileRow", row), ("tileCol", col)):
        if not TILE_NUMBER.match(value):
            raise GridError(f"{name} must be a non-negative integer, got {value!r}")
    level, y, x = int(matrix), int(row), int(col)
    if not MIN_ZOOM <= level <= MAX_CRS84_LEVEL:
        raise GridError(f"tileMatrix {level} is outside {MIN_ZOOM}–{MAX_CRS84_LEVEL}")
    if not 0 <= y < 1 << level:
        raise GridError(f"tileRow {y} is outside 0–{(1 << level) - 1} at tileMatrix {level}")
    if not 0 <= x < 2 << level:
        raise GridError(f"tileCol {x} is outside 0–{(2 << level) - 1} at tileMatrix {level}")
    return Tile(level + 1, x, y)


def parse_layer_list(text: str) -> tuple[Layer, ...]:
    """Layers of a comma list: each known, none repeated, at most every layer once.

    Raises GridError for a malformed, repeated or over-long list and UnknownLayer (404)
    for a well-formed name the registry does not hold.
    """
    return tuple(get_layer(name) for name in _layer_names(text))


@lru_cache(maxsize=1024)
def _layer_names(text: str) -> tuple[str, ...]:
    """The checked names of a layer list; a map asks for the same few lists all day."""
    names = text.split(",")
    if len(names) > len(LAYERS):
        raise GridError(f"at most {len(LAYERS)} layers per tile, got {len(names)}")
    seen: set[str] = set()
    for name in names:
        if not LAYER_NAME.match(name):
            raise GridError(f"layer name {name[:64]!r} is malformed: use lower-case ids "
                            "separated by commas")
        if name in seen:
            raise GridError(f"layer {name!r} is repeated in the layer list")
        seen.add(name)
    return tuple(names)


def tile_bounds_3857(tile: Tile) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of the tile in EPSG:3857 metres."""
    size = 2 * WORLD_HALF_M / (1 << tile.z)
    minx = -WORLD_HALF_M + tile.x * size
    maxy = WORLD_HALF_M - tile.y * size
    return (minx, maxy - size, minx + size, maxy)


def tile_bounds_lonlat(tile: Tile) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the tile in degrees."""
    n = 1 << tile.z

    def lat(yy: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * yy / n))))

    return (tile.x / n * 360.0 - 180.0, lat(tile.y + 1), (tile.x + 1) / n * 360.0 - 180.0,
            lat(tile.y))


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the tile holding a lon/lat point at zoom z, clamped to the grid."""
    n = 1 << z
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n)
    return (min(max(x, 0), n - 1), min(max(y, 0), n - 1))


def tile_range(bbox: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """(xmin, ymin, xmax, ymax) of the tiles at zoom z that touch a lon/lat bbox."""
    west, south, east, north = bbox
    xmin, ymin = tile_of(west, north, z)
    xmax, ymax = tile_of(east, south, z)
    return (xmin, ymin, xmax, ymax)


def tiles_in_bbox(bbox: tuple[float, float, float, float], zooms: range) -> Iterator[Tile]:
    """Every tile of the zooms that touches the lon/lat bbox, zoom by zoom, row by row."""
    for z in zooms:
        xmin, ymin, xmax, ymax = tile_range(bbox, z)
        for x in range(xmin, xmax + 1):
            for y in range(ymin, ymax + 1):
                yield Tile(z, x, y)


def count_tiles(bbox: tuple[float, float, float, float], zooms: range) -> int:
    """How many tiles tiles_in_bbox yields."""
    total = 0
    for z in zooms:
        xmin, ymin, xmax, ymax = tile_range(bbox, z)
        total += (xmax - xmin + 1) * (ymax - ymin + 1)
    return total


def parse_zoom_range(text: str) -> range:
    """'10-16' or '14' into a range of zooms inside 0–22, or GridError."""
    low, _, high = text.partition("-")
    high = high or low
    if not (TILE_NUMBER.match(low) and TILE_NUMBER.match(high)):
        raise GridError(f"zoom range {text!r} must look like 10-16 or 14")
    zlow, zhigh = int(low), int(high)
    if not MIN_ZOOM <= zlow <= zhigh <= MAX_ZOOM:
        raise GridError(f"zoom range {text!r} must lie inside {MIN_ZOOM}–{MAX_ZOOM}, low first")
    return range(zlow, zhigh + 1)


def tiles_touching(bbox: tuple[float, float, float, float], z: int,
                   margin: float) -> tuple[int, int, int, int]:
    """(xmin, ymin, xmax, ymax) of zoom-z tiles whose area plus `margin` (a fraction of a
    tile, the MVT buffer) touches the lon/lat bbox: the tiles a change there can alter."""
    n = 1 << z
    west, south, east, north = bbox

    def fx(lon: float) -> float:
        return (lon + 180.0) / 360.0 * n

    def fy(lat: float) -> float:
        lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
        return (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n

    def clamp(v: float) -> int:
        return min(max(int(math.floor(v)), 0), n - 1)

    return (clamp(fx(west) - margin), clamp(fy(north) - margin),
            clamp(fx(east) + margin), clamp(fy(south) + margin))


def changed_tiles(bbox: tuple[float, float, float, float], zooms: Iterable[int],
                  margin: float) -> Iterator[tuple[int, int, int]]:
    """Every (z, x, y) at these zooms that a change inside the lon/lat bbox can alter."""
    for z in zooms:
        xmin, ymin, xmax, ymax = tiles_touching(bbox, z, margin)
        for x in range(xmin, xmax + 1):
            for y in range(ymin, ymax + 1):
                yield z, x, y
