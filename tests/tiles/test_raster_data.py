"""Rasters as data: the GeoTIFF by range requests, point values, polygon summaries."""
import re

import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import transform as warp_transform

from layers.city import CITY
from .test_raster import E, N, raster_client  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
TIF = "/rasters/elevation.tif"


def lonlat(row: int, col: int) -> tuple[float, float]:
    """Centre of a pixel of the fixture raster (10 m pixels from E-500, N+500, EPSG:5899)."""
    x, y = E - 500 + (col + 0.5) * 10, N + 500 - (row + 0.5) * 10
    lon, lat = warp_transform(CITY.metric_crs, "EPSG:4326", [x], [y])
    return lon[0], lat[0]


def whole_file(client) -> bytes:
    r = client.get(TIF)
    assert r.status_code == 200 and r.mimetype == "image/tiff"
    return r.data


def test_head_says_ranges_are_served(raster_client):
    body = whole_file(raster_client)
    r = raster_client.head(TIF)
    assert r.status_code == 200 and r.data == b""
    assert r.headers["Accept-Ranges"] == "bytes"
    assert int(r.headers["Content-Length"]) == len(body)
    assert r.headers["ETag"] and r.headers["Last-Modified"]


def test_the_file_read_back_holds_the_raster(raster_client):
    with MemoryFile(whole_file(raster_client)) as mem, mem.open() as src:
        assert src.crs.to_epsg() == CITY.metric_srid
        values = src.read(1)
    assert values[75, 42] == 42 and values[10, 10] == -9999


@pytest.mark.parametrize("header,start,stop", [
    ("bytes=0-99", 0, 100), ("bytes=100-", 100, None), ("bytes=-10", -10, None)])
def test_one_range_is_a_206_of_those_bytes(raster_client, header, start, stop):
    body = whole_file(raster_client)
    r = raster_client.get(TIF, headers={"Range": header})
    assert r.status_code == 206 and r.data == body[start:stop]
    first = start if start >= 0 else len(body) + start
    assert r.headers["Content-Range"] == f"bytes {first}-{first + len(r.data) - 1}/{len(body)}"


def test_several_ranges_are_one_multipart_response(raster_client):
    body = whole_file(raster_client)
    r = raster_client.get(TIF, headers={"Range": "bytes=0-9,200-219,-5"})
    assert r.status_code == 206 and r.mimetype == "multipart/byteranges"
    assert int(r.headers["Content-Length"]) == len(r.data)
    boundary = r.mimetype_params["boundary"].encode()
    parts = r.data.split(b"--" + boundary)[1:-1]
    got = []
    for part in parts:
        head, _, data = part.partition(b"\r\n\r\n")
        first, last = map(int, re.search(rb"bytes (\d+)-(\d+)/", head).groups())
        assert data[:-2] == body[first:last + 1] and data.endswith(b"\r\n")
        got.append((first, last))
    assert got == [(0, 9), (200, 219), (len(body) - 5, len(body) - 1)]


def test_revalidation_and_if_range(raster_client):
    etag = raster_client.head(TIF).headers["ETag"]
    assert raster_client.get(TIF, headers={"If-None-Match": etag}).status_code == 304
    same = raster_client.get(TIF, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206
    stale = raster_client.get(TIF, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and len(stale.data) > 10


def test_a_range_past_the_end_is_416(raster_client):
    size = len(whole_file(raster_client))
    for header in (f"bytes={size + 10}-{size + 20}", f"bytes={size}-,{size + 5}-"):
        r = raster_client.get(TIF, headers={"Range": header})
        assert r.status_code == 416 and r.get_json()["error"]["message"]
        assert r.headers["Content-Range"] == f"bytes */{size}"


def test_unknown_raster_file_is_404(raster_client):
    r = raster_client.get("/rasters/nope.tif")
    assert r.status_code == 404 and "nope" in r.get_json()["error"]["message"]


def test_point_value_is_the_pixel_and_nodata_is_null(raster_client):
    lon, lat = lonlat(75, 42)
    doc = raster_client.get(f"/rasters/elevation/value?lon={lon}&lat={lat}").get_json()
    assert doc["values"] == [42.0] and (doc["row"], doc["col"]) == (75, 42)
    assert doc["crs"] == CITY.metric_crs and doc["unit"] == "m"
    lon, lat = lonlat(10, 42)
    assert raster_client.get(f"/rasters/elevation/value?lon={lon}&lat={lat}").get_json()[
        "values"] == [None]


@pytest.mark.parametrize("query", ["lon=100&lat=16", "lon=108.2", "lon=abc&lat=16",
                                   "lon=108.2&lat=95", "lon=nan&lat=16"])
def test_bad_or_outside_points_are_400(raster_client, query):
    r = raster_client.get(f"/rasters/elevation/value?{query}")
    assert r.status_code == 400 and r.get_json()["error"]["message"]


def south_half_polygon() -> dict:
    (west, south), (east, north) = lonlat(99, 0), lonlat(50, 99)
    inset = 1e-6  # pixel centres only: stay inside the outer pixels' centres
    return {"type": "Polygon", "coordinates": [[
        [west - inset, south - inset], [east + inset, south - inset],
        [east + inset, north + inset], [west - inset, north + inset],
        [west - inset, south - inset]]]}


def test_polygon_summary_counts_the_pixels_inside(raster_client):
    doc = raster_client.post("/rasters/elevation/summary",
                             json={"geometry": south_half_polygon()}).get_json()
    assert doc["min"] == 0 and doc["max"] == 99
    assert doc["mean"] == pytest.approx(49.5, abs=0.5)
    assert 4800 <= doc["count"] <= 5000  # the polygon is the pixel grid turned into lon/lat


def test_bbox_summary_matches_the_polygon_summary(raster_client):
    ring = south_half_polygon()["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    bbox = f"{min(xs)},{min(ys)},{max(xs)},{max(ys)}"
    doc = raster_client.get(f"/rasters/elevation/summary?bbox={bbox}").get_json()
    assert doc["min"] == 0 and doc["max"] == 99 and doc["count"] >= 4800


@pytest.mark.parametrize("body", [{}, {"geometry": {"type": "Point", "coordinates": [1, 2]}},
                                  {"geometry": {"type": "Polygon", "coordinates": "x"}},
                                  {"geometry": {"type": "Polygon", "coordinates": [[[500, 0],
                                                [501, 0], [501, 1], [500, 0]]]}}])
def test_bad_summary_geometry_is_400(raster_client, body):
    r = raster_client.post("/rasters/elevation/summary", json=body)
    assert r.status_code == 400 and r.get_json()["error"]["message"]


def test_summary_needs_a_bbox_or_a_geometry(raster_client):
    for path in ("/rasters/elevation/summary", "/rasters/elevation/summary?bbox=1,2,3"):
        assert raster_client.get(path).status_code == 400


def test_a_bbox_around_the_whole_world_summarises_the_whole_raster(raster_client):
    doc = raster_client.get("/rasters/elevation/summary?bbox=-180,-90,180,90").get_json()
    assert doc["count"] == 5000 and (doc["min"], doc["max"]) == (0, 99)


def test_summary_away_from_the_raster_counts_nothing(raster_client):
    doc = raster_client.get("/rasters/elevation/summary?bbox=100,10,100.1,10.1").get_json()
    assert doc["count"] == 0 and doc["mean"] is None


def test_raster_tilejson_zooms_come_from_the_resolution(raster_client, tmp_path):
    doc = raster_client.get("/rasters/elevation.json").get_json()
    # 10 m pixels are ~10.4 Web Mercator metres here: zoom 14's 9.55 m is the first as fine;
    # the 100 px raster fits one 256 px tile at its own resolution, so zoom 13 at the coarse end
    with rasterio.open(tmp_path / "elevation.tif") as src:
        assert src.res == (10, 10)
    assert (doc["minzoom"], doc["maxzoom"]) == (13, 14)
    assert np.isclose(doc["center"][2], 13)
