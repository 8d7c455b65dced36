"""GDAL's own OGC API Features reader (ogrinfo, ogr2ogr from gdal-bin) against a real gunicorn.

What a QGIS or GDAL user does: list the layers of the landing page, open parcels, filter
with -where, copy parcels into a GeoPackage. The server's access log shows which requests
GDAL needed, so "opens quickly" is asserted as "without reading the features".
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from urllib.parse import unquote_plus

import psycopg

from layers import LAYERS


def gdal(*args: str, timeout: int = 600) -> str:
    """Run a gdal-bin command; its stdout, or the failure with stderr."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          env={"CPL_DEBUG": "OFF", "GDAL_HTTP_TIMEOUT": "120",
                               "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def count(test_url: str, where: str = "TRUE") -> int:
    """The test's own count of parcels (its SQL, not the app's)."""
    with psycopg.connect(test_url) as conn:
        return conn.execute(f"SELECT count(*) FROM parcels WHERE {where}").fetchone()[0]


def item_requests(lines: list[str]) -> list[str]:
    return [line for line in lines if "/items" in line]


def test_ogrinfo_lists_every_layer_of_the_landing_page(live_server):
    out = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server.url}/")
    names = re.findall(r"^\d+: (\w+) \(title:", out, re.M)
    assert names == list(LAYERS)


def test_ogrinfo_opens_parcels_from_the_collection_extent(live_server, test_url):
    mark = live_server.mark()
    out = gdal("ogrinfo", "-ro", "-so", f"OAPIF:{live_server.url}/", "parcels")
    assert f"Feature Count: {count(test_url)}" in out
    extent = re.search(r"Extent: \(([\d.]+), ([\d.]+)\) - \(([\d.]+), ([\d.]+)\)", out)
    assert extent and 108.0 < float(extent[1]) < float(extent[3]) < 108.5
    assert "TEMPORAL_INTERVAL_MIN=" in out  # the versions' validity
    items = item_requests(live_server.requests_since(mark))
    assert len(items) <= 2, items  # the schema page only: no feature scan for the extent


def test_ogrinfo_where_sends_the_filter_to_the_server(live_server, test_url):
    mark = live_server.mark()
    out = gdal("ogrinfo", "-ro", "-al", "-so", f"OAPIF:{live_server.url}/", "parcels",
               "-where", "legal_area > 500 AND land_use = 'TMD'")
    expected = count(test_url, "legal_area > 500 AND land_use = 'TMD'")
    assert 0 < expected < 200 and f"Feature Count: {expected}" in out
    items = [unquote_plus(x) for x in item_requests(live_server.requests_since(mark))]
    filtered = [x for x in items if "filter=" in x]
    assert filtered and "legal_area > 500" in filtered[0] and "land_use = 'TMD'" in filtered[0]
    # Only the filtered features travel: a few pages, not the 2,000 of the whole layer.
    assert len(items) <= 2 + expected // 10 + 1


def test_ogr2ogr_copies_every_parcel_into_a_geopackage(live_server, test_url, tmp_path):
    """With GDAL's default options: Debian 12's GDAL 3.6 pages 10 features at a time.

    Its time is printed, not asserted (bench/features.py measures it: a timed test on a
    shared machine could fail for the load alone).
    """
    target = tmp_path / "parcels.gpkg"
    start = time.perf_counter()
    gdal("ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{live_server.url}/", "parcels",
         timeout=900)
    print(f"ogr2ogr default options: {time.perf_counter() - start:.1f} s "
          f"(load average {os.getloadavg()[0]:.1f})")
    out = gdal("ogrinfo", "-ro", "-so", str(target), "parcels")
    assert f"Feature Count: {count(test_url)}" in out
