"""Bench: OGC API Features items pages against the same page as raw SQL GeoJSON from PostGIS.

One command: `DATABASE_URL=… .venv/bin/python bench/features.py [--n 40] [--repeat 3]`.
Needs the demo city loaded. For pages of 10, 100 and 1,000 parcels it times
GET /collections/parcels/items through the WSGI app (parameters, SQL, GeoJSON, links; gzip
when accepted) and one raw SQL statement returning the same FeatureCollection (count,
ST_AsGeoJSON, json_agg) over psycopg, and prints pages/s, p95 ms, bytes (plain and gzip)
and the ratio app/SQL in pages/s (1.0 would be free), with the load average: on a shared
machine only ratios measured side by side mean something, so each page is fetched by the
app and by SQL in turn, and each size is measured --repeat times. Both walk the same pages
(offsets spread over the layer).
Then, unless --no-gdal, it serves the app with gunicorn (the repository's configuration)
and times copying parcels from `OAPIF:<landing>` to GeoPackage with default options twice:
with the GDAL bundled in pyogrio (3.12: pages of the `limit` maximum the OpenAPI declares)
and with Debian 12's `ogr2ogr` (GDAL 3.6 asks for 10 features a page: one request per 10
parcels).
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator


import psycopg  # noqa: E402
import pyogrio  # noqa: E402
import pyogrio.raw  # noqa: E402

from gisapp import create_app  # noqa: E402
from gisapp.db.provision import libpq_url  # noqa: E402
from gisapp.settings import LOCAL_DATABASE_URL  # noqa: E402
from layers import LAYERS, Access  # noqa: E402

PAGE_SIZES = (10, 100, 1000)
FIELDS = [f.name for f in LAYERS["parcels"].visible_fields(frozenset({Access.PUBLIC}))]
# The bench's own SQL for the same document: the public fields, 7 decimals, page by id.
RAW_SQL = (
    "SELECT json_build_object('type', 'FeatureCollection', 'numberMatched', "
    "(SELECT count(*) FROM parcels), 'numberReturned', count(*), 'features', "
    "coalesce(json_agg(json_build_object('type', 'Feature', 'id', id, "
    "'geometry', ST_AsGeoJSON(geom, 7)::json, 'properties', json_build_object("
    + ", ".join(f"'{name}', {name}" for name in FIELDS)
    + ")) ORDER BY id), '[]'))::text FROM (SELECT * FROM parcels ORDER BY id "
    "LIMIT %s OFFSET %s) page")


def side_by_side(app, sql, offsets: list[int]) -> tuple[list[float], list[float]]:
    """Milliseconds of each page fetched by the app and by SQL in turn, after a warm-up."""
    app(offsets[0])
    sql(offsets[0])
    app_ms, sql_ms = [], []
    for offset in offsets:
        for fn, out in ((app, app_ms), (sql, sql_ms)):
            start = time.perf_counter()
            fn(offset)
            out.append((time.perf_counter() - start) * 1000)
    return app_ms, sql_ms


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def rate(ms: list[float]) -> float:
    return 1000 / statistics.mean(ms)


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(url: str) -> Iterator[str]:
    """The app under gunicorn on a free port, yielding its landing URL."""
    root = Path(__file__).resolve().parent.parent
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": url, "GISAPP_DATA_DIR": tmp,
               "GISAPP_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        env.pop("GISAPP_ACCESS_LOG", None)
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c",
                                   str(root / "gisapp/gunicorn.conf.py"), "--bind",
                                   f"127.0.0.1:{port}", "gisapp:create_app()"], env=env,
                                  cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            yield f"http://127.0.0.1:{port}/"
        finally:
            server.terminate()
            server.wait(timeout=30)


def ogr2ogr_seconds(landing: str, expected: int) -> float:
    """Seconds Debian's ogr2ogr (gdal-bin) takes to copy parcels with default options."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "parcels.gpkg"
        start = time.perf_counter()
        subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{landing}", "parcels"],
                       check=True, env={"PATH": "/usr/bin:/bin"}, timeout=1800)
        seconds = time.perf_counter() - start
        info = subprocess.run(["ogrinfo", "-ro", "-so", str(target), "parcels"],
                              capture_output=True, text=True, check=True).stdout
        assert f"Feature Count: {expected}" in info, info
        return seconds


def pyogrio_copy_seconds(landing: str, expected: int) -> float:
    """Seconds the GDAL bundled with pyogrio takes to copy parcels to GeoPackage with default
    options (OAPIF reader -> GPKG writer, the same work as ogr2ogr)."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "parcels.gpkg"
        start = time.perf_counter()
        meta, table = pyogrio.raw.read_arrow(f"OAPIF:{landing}", layer="parcels")
        pyogrio.raw.write_arrow(table, target, layer="parcels", driver="GPKG",
                                geometry_name=meta["geometry_name"] or "geometry",
                                geometry_type=meta["geometry_type"], crs=meta["crs"])
        seconds = time.perf_counter() - start
        assert pyogrio.read_info(target, layer="parcels")["features"] == expected
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="pages per case")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per page size")
    parser.add_argument("--no-gdal", action="store_true", help="skip the ogr2ogr timing")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL)
    client = create_app({"DATABASE_URL": url}).test_client()
    with psycopg.connect(libpq_url(url), options="-c jit=off", autocommit=True) as conn:
        total = conn.execute("SELECT count(*) FROM parcels").fetchone()[0]
        print(f"parcels: {total:,}; {args.n} pages per case, offsets spread over the layer")
        print(f"{'page':>5s} {'app/s':>7s} {'app p95':>8s} {'gzip/s':>7s} {'sql/s':>7s} "
              f"{'sql p95':>8s} {'bytes':>9s} {'gzipped':>8s} {'ratio':>6s} {'gz ratio':>8s} "
              f"{'load':>5s}")
        for size in PAGE_SIZES:
            offsets = [(i * 7919 * size) % max(1, total - size) for i in range(args.n)]
            sizes: dict[str, int] = {}

            def app_page(offset: int, encoding: str = "identity") -> None:
                resp = client.get(f"/collections/parcels/items?limit={size}&offset={offset}",
                                  headers={"Accept-Encoding": encoding})
                assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
                sizes[encoding] = len(resp.data)

            def sql_page(offset: int) -> None:
                text = conn.execute(RAW_SQL, (size, offset)).fetchone()[0]
                sizes["sql"] = len(text.encode())

            for _ in range(args.repeat):
                app, sql = side_by_side(app_page, sql_page, offsets)
                packed, sql_again = side_by_side(lambda o: app_page(o, "gzip"), sql_page,
                                                 offsets)
                print(f"{size:5d} {rate(app):7.1f} {p95(app):8.1f} {rate(packed):7.1f} "
                      f"{rate(sql):7.1f} {p95(sql):8.1f} {sizes['identity']:9,d} "
                      f"{sizes['gzip']:8,d} {rate(app) / rate(sql):6.2f} "
                      f"{rate(packed) / rate(sql_again):8.2f} {load():>5s}")
    if not args.no_gdal:
        with served(url) as landing:
            before = load()
            seconds = pyogrio_copy_seconds(landing, total)
            print(f"GDAL {pyogrio.__gdal_version_string__} (pyogrio) OAPIF -> GPKG, default "
                  f"options: {seconds:.1f} s ({total:,} parcels; load {before} -> {load()})")
            before = load()
            seconds = ogr2ogr_seconds(landing, total)
            print(f"ogr2ogr (gdal-bin) default options: {seconds:.1f} s ({total:,} parcels, "
                  f"{-(-total // 10):,} pages of 10; load {before} -> {load()})")


if __name__ == "__main__":
    main()
