"""Raster tiles: reprojected reads, colour ramp, transparent nodata, PNG, TileJSON."""
import math

import numpy as np
import psycopg
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds

from gisapp import create_app
from layers.city import CITY
from tiles.grid import Tile, tile_of
from tiles.raster import RAMPS

from .conftest import CENTER

NODATA = -9999.0
pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
E, N = 550846.113, 1776402.965  # the Dragon Bridge in EPSG:5899 (DOMAIN.md)


def pixel_in_tile(lon: float, lat: float, tile: Tile) -> tuple[int, int]:
    n = 1 << tile.z
    fx = (lon + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    row, col = int((fy - tile.y) * 256), int((fx - tile.x) * 256)
    assert 0 <= row < 256 and 0 <= col < 256, "the point must lie inside the tile"
    return row, col


@pytest.fixture()
def raster_client(scratch_url, tmp_path):
    """A 1 km square elevation raster in VN-2000 / TM-3 (EPSG:5899) around the bridge.

    Values rise west to east from 0 to 99; the northern half is nodata.
    """
    values = np.tile(np.arange(100, dtype="float32"), (100, 1))
    values[:50, :] = NODATA
    path = tmp_path / "elevation.tif"
    with rasterio.open(path, "w", driver="GTiff", width=100, height=100, count=1,
                       dtype="float32", crs=CITY.metric_crs, nodata=NODATA,
                       transform=from_origin(E - 500, N + 500, 10, 10)) as dst:
        dst.write(values, 1)
    bounds = transform_bounds(CITY.metric_crs, "EPSG:4326", E - 500, N - 500, E + 500, N + 500)
    with psycopg.connect(scratch_url) as conn:
        conn.execute(
            "INSERT INTO rasters (name, path, crs, bounds, width, height, nodata, unit, stats)"
            " VALUES ('elevation', %s, %s, ST_MakeEnvelope(%s, %s, %s, %s, 4326),"
            " 100, 100, %s, 'm', %s)",
            (str(path), CITY.metric_crs, *bounds, NODATA,
             psycopg.types.json.Jsonb({"bands": [{"band": 1, "min": 0.0, "max": 99.0}]})))
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path / "data", "PUBLIC_URL": "http://localhost"})
    yield app.test_client()
    app.extensions["engine"].dispose()


def read_png(data: bytes) -> np.ndarray:
    with MemoryFile(data) as mem, mem.open() as src:
        assert src.driver == "PNG" and src.count == 4
        return src.read()


def test_tile_is_a_png_with_nodata_transparent(raster_client):
    tile = Tile(14, *tile_of(*CENTER, 14))
    r = raster_client.get(f"/rasters/elevation/{tile}.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    rgba = read_png(r.data)
    north = pixel_in_tile(CENTER[0], CENTER[1] + 0.001, tile)
    south = pixel_in_tile(CENTER[0], CENTER[1] - 0.001, tile)
    assert rgba[3][north] == 0
    assert rgba[3][south] == 255


def test_values_follow_the_ramp(raster_client):
    tile = Tile(14, *tile_of(*CENTER, 14))
    rgba = read_png(raster_client.get(f"/rasters/elevation/{tile}.png?ramp=blues").data)
    west = pixel_in_tile(CENTER[0] - 0.0044, CENTER[1] - 0.002, tile)
    east = pixel_in_tile(CENTER[0] + 0.0044, CENTER[1] - 0.002, tile)
    low, high = RAMPS["blues"][0][1], RAMPS["blues"][-1][1]
    assert np.abs(rgba[:3, west[0], west[1]].astype(int) - low).max() < 40
    assert np.abs(rgba[:3, east[0], east[1]].astype(int) - high).max() < 40
    outside = (0, 0)
    assert rgba[3][outside] == 0


def test_tile_away_from_the_raster_is_a_transparent_png(raster_client):
    r = raster_client.get("/rasters/elevation/16/0/0.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    rgba = read_png(r.data)
    assert rgba.shape == (4, 256, 256) and not rgba[3].any()


def test_empty_and_revalidated_tiles_carry_no_html_content_type(raster_client):
    etag = raster_client.get("/rasters/elevation/16/0/0.png").headers["ETag"]
    again = raster_client.get("/rasters/elevation/16/0/0.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and "Content-Type" not in again.headers


@pytest.mark.parametrize("path,status", [
    ("/rasters/nope/14/0/0.png", 404), ("/rasters/elevation/23/0/0.png", 400),
    ("/rasters/elevation/14/a/0.png", 400), ("/rasters/elevation/14/0/0.png?ramp=rainbow", 400),
    ("/rasters/elevation/14/0/0.png?min=5&max=1", 400),
    ("/rasters/elevation/14/0/0.png?min=5", 400), ("/rasters/nope.json", 404),
    ("/rasters/Elevation;drop/14/0/0.png", 404), ("/rasters/" + "a" * 300 + ".json", 404),
])
def test_bad_raster_request_gets_its_status(raster_client, path, status):
    r = raster_client.get(path)
    assert r.status_code == status and r.get_json()["error"]["message"]


def test_raster_etag_gives_304(raster_client):
    tile = Tile(16, *tile_of(*CENTER, 16))
    etag = raster_client.get(f"/rasters/elevation/{tile}.png").headers["ETag"]
    again = raster_client.get(f"/rasters/elevation/{tile}.png", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_raster_tilejson(raster_client):
    doc = raster_client.get("/rasters/elevation.json").get_json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == ["http://localhost/rasters/elevation/{z}/{x}/{y}.png"]
    west, south, east, north = doc["bounds"]
    assert west < CENTER[0] < east and south < CENTER[1] < north
    assert doc["maxzoom"] == 14  # 10 m pixels: zoom 14 has 9.2 m pixels here
