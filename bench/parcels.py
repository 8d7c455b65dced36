"""Parcel lookup latency on the loaded city: by key and by point, p50/p95 in milliseconds.

    DATABASE_URL=postgresql://…/gisapp .venv/bin/python bench/parcels.py [--n 300]

For each lookup it prints three figures side by side: the bare SQL (psycopg, one indexed
query), the gisapp.land function (the whole parcel document: land uses, rights, neighbours,
ward), and the endpoint through Flask's test client (adds routing and JSON). Read-only:
anonymous (public) requests, so nothing is audited or written. Target: endpoint p95 < 20 ms.
"""
from __future__ import annotations

import argparse
import statistics
import time

import psycopg  # noqa: E402

from gisapp import create_app  # noqa: E402
from gisapp.db.provision import libpq_url  # noqa: E402
from gisapp.land import lookup  # noqa: E402
from gisapp.settings import Settings  # noqa: E402
from layers import levels_for  # noqa: E402

KEY_SQL = ("SELECT id FROM parcels WHERE ward_code = %s AND former_ward_code = %s"
           " AND sheet_no = %s AND parcel_no = %s")
POINT_SQL = ("SELECT id FROM parcels"
             " WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))")
SAMPLE_SQL = ("SELECT ward_code, former_ward_code, sheet_no, parcel_no,"
              " ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
              " FROM parcels TABLESAMPLE SYSTEM (5) LIMIT %s")


def _ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=20)
    return f"p50 {statistics.median(samples):6.2f}  p95 {q[18]:6.2f}"


def _time(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="lookups per measurement")
    args = parser.parse_args()
    url = Settings.load().database_url
    with psycopg.connect(libpq_url(url)) as conn:
        total = conn.execute("SELECT count(*) FROM parcels").fetchone()[0]
        sample = conn.execute(SAMPLE_SQL, (args.n,)).fetchall()
    if not sample:
        raise SystemExit("no parcels loaded: run `gisapp demo load` first")
    app = create_app({"DATABASE_URL": url})
    client = app.test_client()
    public = levels_for("public")
    engine = app.extensions["engine"]

    with psycopg.connect(libpq_url(url)) as raw, engine.connect() as conn:
        raw.execute("SET jit = off")
        runs = {
            "key": (lambda r: raw.execute(KEY_SQL, r[:4]).fetchall(),
                    lambda r: lookup.find_by_key(conn, lookup.ParcelKey(r[0], r[2], r[3], r[1]),
                                                 public),
                    lambda r: _ok(client.get(f"/api/parcels?ward={r[0]}&former={r[1]}"
                                             f"&sheet={r[2]}&parcel={r[3]}"))),
            "point": (lambda r: raw.execute(POINT_SQL, (r[4], r[5])).fetchall(),
                      lambda r: lookup.find_at_point(conn, r[4], r[5], public),
                      lambda r: _ok(client.get(f"/api/parcels/at?lon={r[4]}&lat={r[5]}"))),
        }
        print(f"{total:,} parcels; {len(sample)} lookups each, times in ms")
        print(f"{'lookup':<7} {'direct SQL':<24} {'gisapp.land function':<24} endpoint")
        for name, (sql_fn, func_fn, http_fn) in runs.items():
            for fn in (sql_fn, func_fn, http_fn):  # warm caches and the pool
                _time(fn, sample[:20])
            print(f"{name:<7} {_ms(_time(sql_fn, sample)):<24} {_ms(_time(func_fn, sample)):<24} "
                  f"{_ms(_time(http_fn, sample))}")
    engine.dispose()


def _ok(resp):
    if resp.status_code != 200:
        raise SystemExit(f"lookup failed: {resp.status_code} {resp.get_json()}")
    return resp


if __name__ == "__main__":
    main()
