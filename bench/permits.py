"""Bench: permit pre-check and parcel report latency on the demo city (targets: p95 < 300 / 500 ms).

One command: `DATABASE_URL=… GISAPP_DATA_DIR=… .venv/bin/python bench/permits.py [--n 100]`.
Samples n residential (ODT) parcels, proposes on each a 4-floor, 15 m house whose footprint
is the parcel shrunk by 2 m (EPSG:5899), and times
- the pre-check service (run_check + save_check, in a transaction rolled back: no rows stay),
- GET /api/parcels/{uid}/report through the Flask app (read only),
- with --http, POST /api/permits/checks too (this commits checks and audit rows).
Prints p50/p95/max in ms beside the targets.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time


import psycopg  # noqa: E402

from gisapp import create_app  # noqa: E402
from gisapp.db.provision import libpq_url  # noqa: E402
from gisapp.permits.checks import run_check  # noqa: E402
from gisapp.permits.sitemodel import Proposal  # noqa: E402
from gisapp.permits.store import save_check  # noqa: E402
from gisapp.settings import Settings  # noqa: E402

SAMPLE_SQL = """
SELECT parcel_uid, ST_AsGeoJSON(ST_Buffer(ST_Transform(geom, 5899), -2.0))
FROM parcels
WHERE land_use = 'ODT' AND ST_Area(ST_Transform(geom, 5899)) BETWEEN 60 AND 600
  AND ST_Area(ST_Buffer(ST_Transform(geom, 5899), -2.0)) > 20
ORDER BY md5(parcel_uid) LIMIT %s
"""
TARGETS_MS = {"pre-check (service)": 300, "pre-check (HTTP)": 300, "parcel report (HTTP)": 500}


def _body(uid: str, footprint: str) -> dict:
    return {"parcel_uid": uid, "use": "residential", "floors": 4, "height_m": 15.0,
            "footprint": json.loads(footprint), "footprint_crs": "EPSG:5899"}


def _times(fn, sample) -> list[float]:
    out = []
    for row in sample:
        t0 = time.perf_counter()
        fn(row)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _line(name: str, ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[18]
    ok = "ok" if p95 < TARGETS_MS[name] else "SLOW"
    return (f"{name:<22} p50 {statistics.median(ms):7.1f}  p95 {p95:7.1f}  max {max(ms):7.1f}"
            f"   target p95 < {TARGETS_MS[name]} ms: {ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--http", action="store_true", help="also time POST /api/permits/checks")
    args = parser.parse_args()
    settings = Settings.load()
    with psycopg.connect(libpq_url(settings.database_url)) as conn:
        sample = conn.execute(SAMPLE_SQL, (args.n,)).fetchall()
    if len(sample) < 20:
        raise SystemExit("too few residential parcels: run `gisapp demo load` first")
    app = create_app({"DATABASE_URL": settings.database_url})
    engine, client = app.extensions["engine"], app.test_client()

    def check(row):
        with engine.connect() as conn:
            outcome = run_check(conn, Proposal.parse(_body(*row)), settings.data_dir)
            save_check(conn, outcome, "bench")
            conn.rollback()

    def report(row):
        resp = client.get(f"/api/parcels/{row[0]}/report")
        if resp.status_code != 200:
            raise SystemExit(f"report failed: {resp.status_code} {resp.get_json()}")

    runs = {"pre-check (service)": check, "parcel report (HTTP)": report}
    if args.http:
        from gisapp import accounts
        with engine.begin() as conn:
            if accounts.identity_for_user(conn, "bench-officer") is None:
                accounts.add_user(conn, "bench-officer", "permit_officer", "bench password 1")
            _, token = accounts.create_token(conn, "bench-officer", "bench")
        headers = {"Authorization": f"Bearer {token}"}

        def http_check(row):
            resp = client.post("/api/permits/checks", json=_body(*row), headers=headers)
            if resp.status_code != 201:
                raise SystemExit(f"check failed: {resp.status_code} {resp.get_json()}")
        runs["pre-check (HTTP)"] = http_check
    print(f"{len(sample)} residential parcels; times in ms")
    for name, fn in runs.items():
        _times(fn, sample[:10])  # warm the pool, caches and raster file handles
        print(_line(name, _times(fn, sample)))
    engine.dispose()


if __name__ == "__main__":
    main()
