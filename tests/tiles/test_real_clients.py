"""GDAL's and owslib's own readers against a real gunicorn serving the demo city.

GDAL (gdal-bin) reads the elevation COG over HTTP with /vsicurl/ and decodes vector tiles
found through OGC API – Tiles; owslib walks the OGC API from the landing page. Debian 12's
GDAL 3.6 OGCAPI driver opens no layer from a vector tileset (it reads our collection,
tilesets, tileset and tile matrix set, then stops without an error), so its MVT driver
reads the tiles the tileset's template names.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import psycopg
import pytest
import rasterio
from owslib.ogcapi import API, Collections
from owslib.util import http_get
from rasterio.warp import transform as warp_transform

from tests.served import gunicorn
from tiles.grid import tile_of
from tiles.tilesets import REL_TILESETS_VECTOR, TILES_CONFORMANCE


MVT = "application/vnd.mapbox-vector-tile"


@pytest.fixture(scope="module")
def base(test_url: str, tmp_path_factory) -> str:
    """gisapp under gunicorn (the repo's config) on the demo test database."""
    with gunicorn(test_url, tmp_path_factory.mktemp("served"), workers=1, threads=4) as port:
        yield f"http://127.0.0.1:{port}"


def gdal(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GDAL_HTTP_TIMEOUT": "60"})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def elevation(test_url: str) -> Path:
    with psycopg.connect(test_url) as conn:
        row = conn.execute("SELECT path FROM rasters WHERE name = 'elevation'").fetchone()
    assert row, "make test loads the demo city's elevation raster"
    return Path(row[0])


def test_gdalinfo_reads_the_cog_over_http(base, elevation):
    info = json.loads(gdal("gdalinfo", "-json", f"/vsicurl/{base}/rasters/elevation.tif"))
    assert 'ID["EPSG",5899]' in info["coordinateSystem"]["wkt"]
    with rasterio.open(elevation) as src:
        assert info["size"] == [src.width, src.height]
        assert info["geoTransform"] == pytest.approx(list(src.transform.to_gdal()))


def test_gdallocationinfo_reads_the_pixel_value_of_the_source(base, elevation, test_url):
    with rasterio.open(elevation) as src:
        band = src.read(1, masked=True)
        rows, cols = np.nonzero(~np.ma.getmaskarray(band))
        picks = [(int(rows[i]), int(cols[i])) for i in (0, len(rows) // 2, len(rows) - 1)]
        for row, col in picks:
            x, y = src.xy(row, col)
            lon, lat = (v[0] for v in warp_transform(src.crs, "EPSG:4326", [x], [y]))
            read = gdal("gdallocationinfo", "-valonly", "-wgs84",
                        f"/vsicurl/{base}/rasters/elevation.tif", str(lon), str(lat))
            assert float(read) == pytest.approx(float(band[row, col]), abs=1e-4)
            served = json.loads(http_get(f"{base}/rasters/elevation/value",
                                         params={"lon": lon, "lat": lat}).content)
            assert served["values"][0] == pytest.approx(float(band[row, col]), abs=1e-4)


def tile_features(path: Path, z: int, x: int, y: int) -> dict[int, str]:
    """Features of an MVT file as GDAL's MVT driver reads them: MVT id -> WKT (EPSG:3857)."""
    out = gdal("ogrinfo", "-ro", "-al", "-q", "-oo", f"X={x}", "-oo", f"Y={y}", "-oo", f"Z={z}",
               "-oo", "CLIP=NO", f"MVT:{path}")  # unclipped: the tile buffer's features too
    features: dict[int, str] = {}
    current = None
    for line in out.splitlines():
        if line.strip().startswith("mvt_id ("):
            current = int(line.rsplit("=", 1)[1])
        elif current is not None and line.strip().startswith(("POINT", "LINESTRING", "POLYGON",
                                                               "MULTI")):
            features[current] = line.strip()
    return features


def test_owslib_and_gdal_read_vector_tiles_through_ogc_api_tiles(base, tmp_path):
    landing = API(base)
    assert set(TILES_CONFORMANCE) <= set(landing.conformance()["conformsTo"])
    dataset = next(ln for ln in landing.links if ln["rel"] == REL_TILESETS_VECTOR)
    assert dataset["href"] == f"{base}/tiles"
    collection = Collections(base).collection("parcels")
    tilesets_url = next(ln["href"] for ln in collection["links"]
                        if ln["rel"] == REL_TILESETS_VECTOR)
    tilesets = http_get(tilesets_url).json()["tilesets"]
    tileset_url = next(ln["href"] for ln in tilesets[0]["links"] if ln["rel"] == "self")
    tileset = http_get(tileset_url).json()
    template = next(ln["href"] for ln in tileset["links"]
                    if ln["rel"] == "item" and ln["type"] == MVT)
    lon, lat = tileset["centerPoint"]["coordinates"]
    z = int(tileset["centerPoint"]["tileMatrix"])
    x, y = tile_of(lon, lat, z)
    response = http_get(template.format(tileMatrix=z, tileRow=y, tileCol=x))
    assert response.status_code == 200 and response.headers["Content-Type"] == MVT
    (tmp_path / "tile.mvt").write_bytes(response.content)
    read_by_gdal = tile_features(tmp_path / "tile.mvt", z, x, y)
    decoded = mapbox_vector_tile.decode(http_get(f"{base}/tiles/parcels/{z}/{x}/{y}.mvt").content)
    assert read_by_gdal and set(read_by_gdal) == {f["id"] for f in decoded["parcels"]["features"]}
    assert all(wkt.startswith(("POLYGON", "MULTIPOLYGON")) for wkt in read_by_gdal.values())
    some = next(iter(read_by_gdal.values()))
    x0, y0 = map(float, some.lstrip("MULTIPOLYGON (").split(",", 1)[0].split())
    west, south = warp_transform("EPSG:4326", "EPSG:3857", [lon - 0.1], [lat - 0.1])
    east, north = warp_transform("EPSG:4326", "EPSG:3857", [lon + 0.1], [lat + 0.1])
    assert west[0] < x0 < east[0] and south[0] < y0 < north[0]  # georeferenced in Da Nang
