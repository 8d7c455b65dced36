"""Raster tiles of the demo city's elevation and flood-depth GeoTIFFs (test database, read only)."""
import math

import numpy as np
import psycopg
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import transform as warp_transform

from tiles.grid import Tile, tile_of

DEMO_RASTERS = ("elevation", "flood_depth")  # the two the issue asks tiles of


def raster_path(test_url: str, name: str) -> str:
    with psycopg.connect(test_url) as conn:
        row = conn.execute("SELECT path FROM rasters WHERE name = %s", (name,)).fetchone()
    assert row, f"the demo city must register {name} (make test loads it)"
    return row[0]


def lonlat_of(src, mask: np.ndarray, near: tuple[int, int] = (0, 0)) -> tuple[float, float]:
    """Lon/lat of the pixel nearest `near` (row, col) whose whole 5×5 block is in mask."""
    blocks = np.lib.stride_tricks.sliding_window_view(mask, (5, 5)).all(axis=(2, 3))
    rows, cols = np.nonzero(blocks)
    assert len(rows), "the raster needs a 5x5 block of such pixels"
    i = int(np.argmin((rows + 2 - near[0]) ** 2 + (cols + 2 - near[1]) ** 2))
    x, y = src.xy(int(rows[i]) + 2, int(cols[i]) + 2)
    lon, lat = warp_transform(src.crs, "EPSG:4326", [x], [y])
    return lon[0], lat[0]


def pixel_in_tile(lon: float, lat: float, tile: Tile) -> tuple[int, int]:
    n = 1 << tile.z
    fx = (lon + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return int((fy - tile.y) * 256), int((fx - tile.x) * 256)


def alpha_at(client, name: str, z: int, lon: float, lat: float) -> int:
    tile = Tile(z, *tile_of(lon, lat, z))
    r = client.get(f"/rasters/{name}/{tile}.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    with MemoryFile(r.data) as mem, mem.open() as png:
        assert png.count == 4
        return int(png.read(4)[pixel_in_tile(lon, lat, tile)])


@pytest.mark.parametrize("name", DEMO_RASTERS)
def test_demo_raster_tiles_show_the_data(client, test_url, name):
    doc = client.get(f"/rasters/{name}.json").get_json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"][0].endswith(f"/rasters/{name}/{{z}}/{{x}}/{{y}}.png")
    with rasterio.open(raster_path(test_url, name)) as src:
        point = lonlat_of(src, ~src.read(1, masked=True).mask)
    west, south, east, north = doc["bounds"]
    assert west < point[0] < east and south < point[1] < north
    assert alpha_at(client, name, doc["maxzoom"], *point) == 255


def test_dry_land_beside_water_is_transparent_in_flood_depth_tiles(client, test_url):
    with rasterio.open(raster_path(test_url, "flood_depth")) as src:
        dry = src.read(1, masked=True).mask
        wet_rows, wet_cols = np.nonzero(~dry)
        wet = (int(wet_rows[0]), int(wet_cols[0]))
        wet_point, dry_point = lonlat_of(src, ~dry, near=wet), lonlat_of(src, dry, near=wet)
    maxzoom = client.get("/rasters/flood_depth.json").get_json()["maxzoom"]
    z = next(z for z in range(maxzoom, -1, -1)
             if tile_of(*wet_point, z) == tile_of(*dry_point, z))
    assert alpha_at(client, "flood_depth", z, *wet_point) == 255
    assert alpha_at(client, "flood_depth", z, *dry_point) == 0
