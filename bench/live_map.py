"""Bench: the live map's feeds over 300 rain gauges with 30 days of 5-minute readings.

One command: `.venv/bin/python bench/live_map.py [--days 30] [--gauges 300] [-n 50]`.
It works in a database of its own on DATABASE_URL's server (`gisapp_bench_live_map`, made
afresh with bench/sensors.py's generator: readings, hourly and daily aggregates, latest
values) and times, in-process through the Flask app (routing, SQL, JSON; no HTTP):
- `GET /api/live/state`: every gauge's class, readings and rain of the last hour, now;
- `GET /api/live/state?at=`: the same replayed at a past hour (from the raw readings);
- `GET /api/live/datastreams/{id}/series`: a 24-hour chart (raw) and a 30-day one (hourly);
next to the raw SQL of the newest reading of every datastream. The load average is printed
with every result (the machine is shared).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.sensors import (LATEST_RAW, drop_database, load_average, p, timed_api,  # noqa: E402
                           timed_sql, year_database, _z)
from gisapp.db import provision  # noqa: E402


def bench_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgresql://gisapp:gisapp@127.0.0.1:5433/gisapp")
    return provision.libpq_url(base).rpartition("/")[0] + "/gisapp_bench_live_map"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gauges", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("-n", type=int, default=50, help="timed requests per query")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = bench_url()
    work = Path(tempfile.mkdtemp(prefix="gisapp-bench-live-"))
    print(f"== {url.rpartition('/')[2]}: {args.gauges} gauges x {args.days} days of 5-minute "
          f"readings ({load_average()})", flush=True)
    began = time.perf_counter()
    ids = year_database(url, args.gauges, args.days)
    print(f"  made in {time.perf_counter() - began:.0f} s", flush=True)
    try:
        with psycopg.connect(url) as conn:
            end = conn.execute("SELECT max(phenomenon_time) FROM sensor_observations"
                               " WHERE datastream_id = %s", (ids[0],)).fetchone()[0]
        n = args.n
        stream = lambda i: ids[(i * 37) % len(ids)]  # noqa: E731
        results = {
            "state now, every thing (/api/live/state)":
                timed_api(url, lambda i: "/api/live/state", n, work),
            "state replayed at a past hour (/api/live/state?at=)":
                timed_api(url, lambda i: "/api/live/state?at="
                          + _z(end - timedelta(hours=1 + i % 24)), n, work),
            "24-hour chart, one datastream (series: 288 raw readings)":
                timed_api(url, lambda i: f"/api/live/datastreams/{stream(i)}/series?from="
                          f"{_z(end - timedelta(hours=24))}&to={_z(end)}", n, work),
            "30-day chart, one datastream (series: 720 hourly points)":
                timed_api(url, lambda i: f"/api/live/datastreams/{stream(i)}/series?from="
                          f"{_z(end - timedelta(days=30))}&to={_z(end)}", n, work),
            "newest raw reading of every datastream (raw SQL, for comparison)":
                timed_sql(url, LATEST_RAW, lambda i: (), n),
        }
        for label, times in results.items():
            print(f"{label}: p50 {p(times, 0.5):.1f} ms, p95 {p(times, 0.95):.1f} ms "
                  f"(n={len(times)}, {load_average()})", flush=True)
    finally:
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
