"""Bench: OGC API Features items pages against the same page as raw SQL GeoJSON from PostGIS.

One command: `DATABASE_URL=… .venv/bin/python bench/features.py [--n 40]`. Needs the demo
city loaded. For pages of 10, 100 and 1,000 parcels it times GET /collections/parcels/items
through the WSGI app (parameters, SQL, GeoJSON, links; gzip when accepted) and one raw SQL
statement returning the same FeatureCollection (count, ST_AsGeoJSON, json_agg) over psycopg,
and prints pages/s, p95 ms, bytes (plain and gzip) and the ratio app/SQL in pages/s (1.0
would be free). Both walk the same pages (offsets spread over the layer).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import psycopg  # noqa: E402

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


def timed(fn, offsets: list[int]) -> list[float]:
    fn(offsets[0])  # warm
    out = []
    for offset in offsets:
        start = time.perf_counter()
        fn(offset)
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="pages per case")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL)
    client = create_app({"DATABASE_URL": url}).test_client()
    with psycopg.connect(libpq_url(url), options="-c jit=off", autocommit=True) as conn:
        total = conn.execute("SELECT count(*) FROM parcels").fetchone()[0]
        print(f"parcels: {total:,}; {args.n} pages per case, offsets spread over the layer")
        print(f"{'page':>5s} {'app/s':>7s} {'app p95':>8s} {'gzip/s':>7s} {'sql/s':>7s} "
              f"{'sql p95':>8s} {'bytes':>9s} {'gzipped':>8s} {'ratio':>6s}")
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

            app = timed(app_page, offsets)
            packed = timed(lambda o: app_page(o, "gzip"), offsets)
            sql = timed(sql_page, offsets)
            rate = lambda ms: 1000 / statistics.mean(ms)  # noqa: E731
            print(f"{size:5d} {rate(app):7.1f} {p95(app):8.1f} {rate(packed):7.1f} "
                  f"{rate(sql):7.1f} {p95(sql):8.1f} {sizes['identity']:9,d} "
                  f"{sizes['gzip']:8,d} {rate(app) / rate(sql):6.2f}")


if __name__ == "__main__":
    main()
