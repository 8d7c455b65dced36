"""Bench: OGC API Features items (in-process Flask) against the bare SQL for the same page.

One command: `DATABASE_URL=… .venv/bin/python bench/features.py [--n 30]`. Needs the demo
city loaded. For each case it times GET /collections/{layer}/items through the WSGI app
(parsing, CQL2 translation, count, page, GeoJSON) and the two statements it stands for
run directly with psycopg (count, then the page with ST_AsGeoJSON); prints p50/p95 ms and
the ratio app/SQL (1.0 would be free).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import psycopg  # noqa: E402

from gisapp import create_app  # noqa: E402
from gisapp.db.provision import libpq_url  # noqa: E402
from gisapp.settings import LOCAL_DATABASE_URL  # noqa: E402

LON, LAT = 108.22705602, 16.06114045  # Dragon Bridge
BOX = (LON - .005, LAT - .005, LON + .005, LAT + .005)
# (name, items URL, bare SQL for the same rows: count, then page) — the bench's own SQL.
CASES = [
    ("parcels page", "/collections/parcels/items?limit=100",
     "SELECT count(*) FROM parcels",
     "SELECT id, ward_code, former_ward_code, sheet_no, parcel_no, parcel_uid, land_use, "
     "legal_area, address, street, ST_AsGeoJSON(geom, 7) FROM parcels ORDER BY id LIMIT 100"),
    ("parcels bbox 1 km", "/collections/parcels/items?limit=100&bbox=" + ",".join(map(str, BOX)),
     "SELECT count(*) FROM parcels WHERE ST_Intersects(geom, ST_MakeEnvelope(%s,%s,%s,%s,4326))",
     "SELECT id, ward_code, former_ward_code, sheet_no, parcel_no, parcel_uid, land_use, "
     "legal_area, address, street, ST_AsGeoJSON(geom, 7) FROM parcels WHERE "
     "ST_Intersects(geom, ST_MakeEnvelope(%s,%s,%s,%s,4326)) ORDER BY id LIMIT 100"),
    ("parcels CQL2", "/collections/parcels/items?limit=100&filter="
     + quote("land_use = 'TMD' AND legal_area > 200"),
     "SELECT count(*) FROM parcels WHERE land_use = 'TMD' AND legal_area > 200",
     "SELECT id, ward_code, former_ward_code, sheet_no, parcel_no, parcel_uid, land_use, "
     "legal_area, address, street, ST_AsGeoJSON(geom, 7) FROM parcels WHERE land_use = 'TMD' "
     "AND legal_area > 200 ORDER BY id LIMIT 100"),
    ("lights S_DWITHIN 300 m", "/collections/street_lights/items?limit=100&filter="
     + quote(f"S_DWITHIN(geom, POINT({LON} {LAT}), 300, meters)"),
     "SELECT count(*) FROM street_lights WHERE ST_DWithin(ST_Transform(geom, 5899), "
     "ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 5899), 300)",
     "SELECT id, light_id, cabinet_id, lamp_type, wattage, pole_height, status, street, "
     "ST_AsGeoJSON(geom, 7) FROM street_lights WHERE ST_DWithin(ST_Transform(geom, 5899), "
     "ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), 5899), 300) ORDER BY id LIMIT 100"),
]
PARAMS = {"parcels bbox 1 km": BOX, "lights S_DWITHIN 300 m": (LON, LAT)}


def timed(fn, n: int) -> list[float]:
    fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL)
    app = create_app({"DATABASE_URL": url})
    client = app.test_client()
    with psycopg.connect(libpq_url(url), options="-c jit=off") as conn:
        print(f"{'case':26s} {'app p50':>8s} {'app p95':>8s} {'sql p50':>8s} "
              f"{'sql p95':>8s} ratio")
        for name, items_url, count_sql, page_sql in CASES:
            params = PARAMS.get(name, ())

            def app_call():
                resp = client.get(items_url)
                assert resp.status_code == 200, resp.get_data(as_text=True)[:300]

            def sql_call():
                conn.execute(count_sql, params).fetchone()
                conn.execute(page_sql, params).fetchall()

            a, s = timed(app_call, args.n), timed(sql_call, args.n)
            p95 = max(0, int(len(a) * 0.95) - 1)
            ratio = statistics.median(a) / statistics.median(s)
            print(f"{name:26s} {statistics.median(a):8.1f} {a[p95]:8.1f} "
                  f"{statistics.median(s):8.1f} {s[p95]:8.1f} {ratio:5.2f}")


if __name__ == "__main__":
    main()
