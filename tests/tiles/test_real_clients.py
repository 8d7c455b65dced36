"""GDAL's and owslib's own readers against a real gunicorn serving the demo city.

GDAL (gdal-bin) reads the elevation COG over HTTP with /vsicurl/; GDAL's OGCAPI driver
(pyogrio's GDAL, see the vector tile test) reads the parcels' vector tiles through OGC API
– Tiles; owslib walks the OGC API from the landing page to a tile.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import psycopg
import pyogrio
import pytest
import rasterio
from owslib.ogcapi import API, Collections
from owslib.util import http_get
from rasterio.warp import transform as warp_transform

from layers import LAYERS
from layers.city import CITY
from tests.served import gunicorn
from tiles.grid import tile_of
from tiles.tilesets import REL_TILESETS_VECTOR, TILES_CONFORMANCE, TMS_URI


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
    assert f'ID["EPSG",{CITY.metric_srid}]' in info["coordinateSystem"]["wkt"]
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


def test_gdal_reads_vector_tiles_through_ogc_api_tiles(base, test_url):
    """GDAL's OGCAPI driver: from the collection URL to every parcel, in lon/lat tiles.

    pyogrio's GDAL (3.12) reads them; Debian 12's GDAL 3.6 cannot: its OGCAPI driver was
    built without its vector tile code (OSGeo/gdal#6651 put it under
    OGR_ENABLE_DRIVER_GML, which the CMake build did not define until #7993, GDAL 3.7.1).
    GDAL picks the WorldCRS84Quad tileset (tiles/tilesets.py says why).
    """
    url = f"OGCAPI:{base}/collections/parcels"
    parcels = LAYERS["parcels"]
    levels = range(parcels.minzoom - 1, parcels.maxzoom)  # WorldCRS84Quad: zoom - 1
    assert [name for name, _ in pyogrio.list_layers(url)] == [f"Zoom level {n}" for n in levels]
    read = pyogrio.read_dataframe(url, layer="Zoom level 15")  # parcels, not their overview
    assert read.crs.to_string() == "OGC:CRS84"
    with psycopg.connect(test_url) as conn:
        rows = conn.execute("SELECT id, land_use, ST_Area(geom::geography) >= 1 "
                            "FROM parcels").fetchall()
    land_use = {pid: use for pid, use, _ in rows}
    seen = set(read["mvt_id"])
    assert seen <= set(land_use)
    assert {pid for pid, _, visible in rows if visible} <= seen  # slivers vanish in a tile
    assert all(land_use[pid] == use for pid, use in zip(read["mvt_id"], read["land_use"]))
    sample = read.iloc[::max(1, len(read) // 200)]
    points = [(int(pid), geom.representative_point().wkt)
              for pid, geom in zip(sample["mvt_id"], sample.geometry)]
    with psycopg.connect(test_url) as conn:
        far = conn.execute(
            "SELECT p.id FROM unnest(%s::bigint[], %s::text[]) AS s(id, wkt) "
            "JOIN parcels AS p USING (id) "
            "WHERE NOT ST_DWithin(p.geom::geography, ST_GeomFromText(s.wkt, 4326)::geography, 1)",
            ([p for p, _ in points], [w for _, w in points])).fetchall()
    assert not far, f"parcels GDAL placed more than 1 m away: {far[:5]}"


def test_owslib_walks_to_the_vector_tiles(base):
    landing = API(base)
    assert set(TILES_CONFORMANCE) <= set(landing.conformance()["conformsTo"])
    dataset = next(ln for ln in landing.links if ln["rel"] == REL_TILESETS_VECTOR)
    assert dataset["href"] == f"{base}/tiles"
    collection = Collections(base).collection("parcels")
    tilesets_url = next(ln["href"] for ln in collection["links"]
                        if ln["rel"] == REL_TILESETS_VECTOR)
    tilesets = http_get(tilesets_url).json()["tilesets"]
    mercator = next(t for t in tilesets if t["tileMatrixSetURI"] == TMS_URI)
    tileset_url = next(ln["href"] for ln in mercator["links"] if ln["rel"] == "self")
    tileset = http_get(tileset_url).json()
    template = next(ln["href"] for ln in tileset["links"]
                    if ln["rel"] == "item" and ln["type"] == MVT)
    lon, lat = tileset["centerPoint"]["coordinates"]
    z = int(tileset["centerPoint"]["tileMatrix"])
    x, y = tile_of(lon, lat, z)
    response = http_get(template.format(tileMatrix=z, tileRow=y, tileCol=x))
    assert response.status_code == 200 and response.headers["Content-Type"] == MVT
    assert response.content == http_get(f"{base}/tiles/parcels/{z}/{x}/{y}.mvt").content
    assert mapbox_vector_tile.decode(response.content)["parcels"]["features"]
