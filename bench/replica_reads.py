"""Bench: a streaming replica on this machine: commit-to-replay delay, reads routed to it.

One command: `.venv/bin/python bench/replica_reads.py [--commits 200] [--pages 200]`.
Starts its own primary and hot-standby replica (tests/pg_cluster.py: temp directories,
free ports, run as postgres when root), loads 2,000 points through the ETL, then prints:
- the delay from a commit on the primary until the replica has replayed it (p50, p95, max),
  for a plain commit and for a layer version settled as imports and edits settle it;
- feature pages (100 points, GeoJSON) per second through the WSGI app reading from the
  primary alone and routed to the replica (DATABASE_READ_URLS), side by side, and the ratio;
- the in-process cost of choosing where a read goes (commit LSN of the layer versions and
  the replicas' last health check), in microseconds;
- the cost a state-changing request pays for its read-your-writes cookie (the primary's
  WAL position after settling commit LSNs), median in ms.
On one 2-core machine primary and replica share the cores: the ratio shows the cost of
routing, not added capacity.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from etl.pipeline import ImportRequest, run_import  # noqa: E402
from gisapp import create_app  # noqa: E402
from gisapp.read_routing import choose_replica, required_lsn  # noqa: E402
from store.layer_changes import settle_commit_lsns  # noqa: E402
from tests.gisapp.etl_ops.conftest import geojson_points, point_layer  # noqa: E402
from tests.pg_cluster import PgCluster, PgReplica  # noqa: E402

LSN_NOW = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"


def replay_delays(primary_url: str, replica: PgReplica, commits: int,
                  settle: bool) -> list[float]:
    """Milliseconds from each commit until the replica's replay position passes it.

    With `settle`, each commit bumps a layer version and is followed by
    settle_commit_lsns, as imports and state-changing requests are.
    """
    delays = []
    with psycopg.connect(primary_url, autocommit=True) as conn, \
            replica.superuser() as standby:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_ticks (at timestamptz)")
        for _ in range(commits):
            started = time.perf_counter()
            if settle:
                conn.execute("UPDATE layer_state SET data_version = data_version + 1,"
                             " commit_lsn = NULL")
                target = settle_commit_lsns(conn)
            else:
                conn.execute("INSERT INTO bench_ticks VALUES (now())")
                target = conn.execute(LSN_NOW).fetchone()[0]
            while standby.execute("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint"
                                  ).fetchone()[0] < target:
                time.sleep(0.0002)
            delays.append((time.perf_counter() - started) * 1000)
    return delays


def pages_per_second(app, pages: int, url: str) -> tuple[float, set[str]]:
    client = app.test_client()
    client.get(url)
    sources = set()
    started = time.perf_counter()
    for _ in range(pages):
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:200]
        sources.add(response.headers.get("X-Read-Source", "primary"))
    return pages / (time.perf_counter() - started), sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    primary = PgCluster(Path(tempfile.mkdtemp(prefix="bench-primary-")))
    replica = PgReplica(Path(tempfile.mkdtemp(prefix="bench-replica-")), primary)
    try:
        primary.init()
        primary.start()
        url = primary.create_database("bench_replica")
        replica.init()
        replica.start()
        layer = point_layer()
        source = Path(tempfile.mkdtemp()) / "points.geojson"
        source.write_bytes(geojson_points(layer, 2000))
        run_import(url, ImportRequest(layer=layer.id, path=source, mode="replace"))
        replica.catch_up()
        print(f"load average {os.getloadavg()[0]:.1f}")
        for settle, what in ((False, "a plain commit (synchronous_commit=off)"),
                             (True, "a layer version, settled")):
            delays = sorted(replay_delays(url, replica, args.commits, settle))
            print(f"{what} -> replayed on the replica, {len(delays)} commits: "
                  f"p50 {statistics.median(delays):.2f} ms, "
                  f"p95 {delays[int(len(delays) * 0.95) - 1]:.2f} ms, max {delays[-1]:.2f} ms")
        data = Path(tempfile.mkdtemp())
        common = {"DATABASE_URL": url, "SECRET_KEY": "bench", "DATA_DIR": data,
                  "PUBLIC_URL": "http://localhost"}
        alone = create_app(common)
        routed = create_app({**common, "DATABASE_READ_URLS": replica.url("bench_replica")})
        page = f"/collections/{layer.id}/items?limit=100"
        rates: dict[str, list[float]] = {"primary alone": [], "routed to the replica": []}
        for _ in range(args.repeat):
            for name, app in (("primary alone", alone), ("routed to the replica", routed)):
                rate, sources = pages_per_second(app, args.pages, page)
                rates[name].append(rate)
                if name.startswith("routed"):
                    assert sources == {"replica-1"}, sources
        base = statistics.median(rates["primary alone"])
        for name, values in rates.items():
            print(f"feature pages (100 points), {name}: {statistics.median(values):.0f} pages/s"
                  f" (x{statistics.median(values) / base:.2f})")
        with routed.test_request_context(page):
            calls = 20_000
            started = time.perf_counter()
            for _ in range(calls):
                choose_replica(required_lsn((layer.id,)))
            elapsed = time.perf_counter() - started
        print(f"choosing the replica for a read (commit LSN + health, in process): "
              f"{elapsed / calls * 1e6:.1f} us")
        costs = []
        with psycopg.connect(url, autocommit=True) as conn:
            for _ in range(200):
                started = time.perf_counter()
                settle_commit_lsns(conn)
                costs.append((time.perf_counter() - started) * 1000)
        print(f"read-your-writes cookie (settle + WAL position): median "
              f"{statistics.median(costs):.2f} ms")
        for app in (alone, routed):
            app.extensions["engine"].dispose()
    finally:
        replica.destroy()
        primary.destroy()


if __name__ == "__main__":
    main()
