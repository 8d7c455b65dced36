"""Tile throughput: raw SQL (the PostGIS limit) vs our server uncached vs cached.

One command:  .venv/bin/python bench/tiles.py
For each city (the demo city, and a 250,000-parcel city) and each concurrency (1, 2, 8
clients) it runs the same list of distinct z14-z16 composite tiles of every layer through
  (a) the tile statement itself on PostGIS, one pooled connection per client,
  (b) gunicorn serving the app with the tile cache off,
  (c) gunicorn serving the app with the tile cache on (memory + disk, empty at start),
once cold (each tile once: no cache can hide the work) and once warm (the same list again),
and prints tiles/s, p50/p95/p99 latency and errors, with the ratios the README targets.
Each concurrency level gets its own tiles, so (c)'s cold pass is really cold. PostgreSQL's
buffers are warmed over all tiles first, so (a), (b) and (c) read the same warm pages.
Cities missing from their database are loaded with `gisapp demo load` first (slow once).
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from layers import LAYERS, ROLES, FieldType  # noqa: E402
from layers.land import PARCELS  # noqa: E402
from tiles.grid import Tile, tile_of  # noqa: E402
from tiles.sql import active_layers, composite_tile_sql, tile_params  # noqa: E402

BASE = "postgresql://gisapp:gisapp@127.0.0.1:5433/"
DEMO_PARCELS = 20_000
CITIES = {"demo": (BASE + "gisapp_bench_tiles", DEMO_PARCELS),
          "250k": (BASE + "gisapp_bench_tiles_250k", 250_000)}
CLIENTS = (1, 2, 8)
ZOOMS = (14, 15, 16)
ALL = tuple(LAYERS.values())
PUBLIC = ROLES["public"]


def top_up_parcels(url: str, target: int) -> None:
    """Copy the first parcels, shifted south of the city, until there are `target` of them.

    The demo generator's --parcels is approximate (250,000 asked gave 194,547); the copies
    get new sheet numbers so every key stays unique.
    """
    table = sql.Identifier(PARCELS.table)
    sheet = next(k for k in PARCELS.key if PARCELS.field(k).type is FieldType.INTEGER)
    cols = [f.name for f in PARCELS.imported_fields]
    select = [sql.SQL("{} + %(shift)s").format(sql.Identifier(c)) if c == sheet
              else sql.Identifier(c) for c in cols]
    with psycopg.connect(url) as conn:
        have, shift, height = conn.execute(sql.SQL(
            "SELECT count(*), max({}), ST_YMax(ST_Extent(geom)) - ST_YMin(ST_Extent(geom))"
            " FROM {}").format(sql.Identifier(sheet), table)).fetchone()
        if have >= target:
            return
        conn.execute(sql.SQL(
            "INSERT INTO {t} ({cols}, geom) SELECT {select}, ST_Translate(geom, 0, -%(dy)s)"
            " FROM {t} ORDER BY id LIMIT %(n)s").format(
                t=table, cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
                select=sql.SQL(", ").join(select)),
            {"shift": shift, "dy": height * 1.01, "n": target - have})
        conn.execute(sql.SQL("ANALYZE {}").format(table))


def ensure_city(url: str, parcels: int, data_dir: Path) -> None:
    """Create, migrate and load the city unless it already holds parcels."""
    env = {**os.environ, "DATABASE_URL": url, "GISAPP_DATA_DIR": str(data_dir)}
    gisapp = str(ROOT / ".venv/bin/gisapp")
    subprocess.run([gisapp, "db", "provision"], env=env, check=True, capture_output=True)
    subprocess.run([gisapp, "db", "upgrade"], env=env, check=True, capture_output=True)
    with psycopg.connect(url) as conn:
        have = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(PARCELS.table))).fetchone()[0]
    if have < parcels * 0.5:
        print(f"loading a {parcels}-parcel city into {url.rpartition('/')[2]} (once)...",
              flush=True)
        subprocess.run([gisapp, "demo", "load", "--parcels", str(parcels),
                        "--dir", str(data_dir / f"demo-{parcels}")], env=env, check=True)
    if parcels > DEMO_PARCELS:
        top_up_parcels(url, parcels)


def pick_tiles(url: str, count: int, seed: int = 7) -> list[Tile]:
    """Distinct z14-z16 tiles holding parcels, a third per zoom, in random order."""
    with psycopg.connect(url) as conn:
        points = conn.execute(sql.SQL(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM {}"
            " ORDER BY id) AS x").format(sql.Identifier(PARCELS.table))).fetchall()
    rng, tiles = random.Random(seed), []
    for z in ZOOMS:
        every = sorted({Tile(z, *tile_of(lon, lat, z)) for lon, lat in points})
        tiles += rng.sample(every, min(len(every), count // len(ZOOMS)))
    rng.shuffle(tiles)
    return tiles


def run_clients(tiles: list[Tile], clients: int, fetch_factory) -> dict:
    """Each client takes the next tile from a shared list; returns throughput and latencies."""
    lock, queue, latencies, errors = threading.Lock(), list(reversed(tiles)), [], [0]

    def worker():
        fetch = fetch_factory()
        while True:
            with lock:
                if not queue:
                    break
                tile = queue.pop()
            started = time.perf_counter()
            try:
                ok = fetch(tile)
            except Exception:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors[0] += not ok

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"tps": len(latencies) / wall, "p50": q[49] * 1e3, "p95": q[94] * 1e3,
            "p99": q[98] * 1e3, "errors": errors[0]}


def sql_fetcher(url: str):
    def factory():
        conn = psycopg.connect(url, options="-c jit=off", autocommit=True)

        def fetch(tile: Tile) -> bool:
            ids = active_layers(ALL, tile.z)
            conn.execute(composite_tile_sql(ids, PUBLIC, tile.z),
                         tile_params(ids, tile, 20_000)).fetchone()
            return True
        return fetch
    return factory


def http_fetcher(port: int, layers: str):
    def factory():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def fetch(tile: Tile) -> bool:
            conn.request("GET", f"/tiles/{layers}/{tile.z}/{tile.x}/{tile.y}.mvt",
                         headers={"Accept-Encoding": "gzip"})
            response = conn.getresponse()
            response.read()
            return response.status in (200, 204)
        return fetch
    return factory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, cache: str, data_dir: Path, workers: int | None,
                 threads: int | None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "GISAPP_TILE_CACHE": cache,
           "GISAPP_DATA_DIR": str(data_dir)}
    env.pop("GISAPP_ACCESS_LOG", None)
    if workers:
        env["GISAPP_WORKERS"] = str(workers)
    if threads:
        env["GISAPP_THREADS"] = str(threads)
    proc = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "gunicorn", "-c",
                             str(ROOT / "gisapp/gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
                             "gisapp:create_app()"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}")


def row(name: str, r: dict) -> str:
    return (f"  {name:<22} {r['tps']:8.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f}"
            f" {r['errors']:6d}")


def bench_city(city: str, url: str, per_level: int, workers, threads) -> list[str]:
    tiles = pick_tiles(url, per_level * len(CLIENTS))
    print(f"\n== {city}: {len(tiles)} distinct z14-16 tiles of all {len(ALL)} layers; "
          "warming PostgreSQL buffers", flush=True)
    run_clients(tiles, 2, sql_fetcher(url))
    names, summary = ",".join(LAYERS), []
    with tempfile.TemporaryDirectory(prefix="bench-tiles-") as tmp:
        servers = {"off": start_server(url, "off", Path(tmp) / "off", workers, threads),
                   "on": start_server(url, "memory+disk", Path(tmp) / "on", workers, threads)}
        try:
            for i, clients in enumerate(CLIENTS):
                chunk = tiles[i::len(CLIENTS)]
                print(f"-- {clients} client(s), {len(chunk)} tiles per pass\n"
                      f"  {'':<22} {'tiles/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
                      f" {'errors':>6}", flush=True)
                results = {}
                for pass_name in ("cold", "warm"):
                    for label, factory in (("a raw SQL", sql_fetcher(url)),
                                           ("b server uncached", http_fetcher(servers["off"][1], names)),
                                           ("c server cached", http_fetcher(servers["on"][1], names))):
                        r = results[(label, pass_name)] = run_clients(chunk, clients, factory)
                        print(row(f"{label} {pass_name}", r), flush=True)
                a, b = results[("a raw SQL", "cold")], results[("b server uncached", "cold")]
                c = results[("c server cached", "warm")]
                line = (f"{city} {clients}c: uncached/raw {b['tps'] / a['tps']:.2f}x (target 0.9),"
                        f" cached warm/uncached {c['tps'] / b['tps']:.1f}x (target 10),"
                        f" uncached p99/p95 {b['p99'] / b['p95']:.2f} (target <=4),"
                        f" uncached p95 {b['p95']:.1f} ms")
                print("  " + line, flush=True)
                summary.append(line)
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=30)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=45, help="distinct tiles per level")
    parser.add_argument("--cities", default="demo,250k", help="demo, 250k or both")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: conf)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: conf)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-tiles")
    args = parser.parse_args()
    started, summary = time.perf_counter(), []
    for city in args.cities.split(","):
        url, parcels = CITIES[city]
        ensure_city(url, parcels, args.data_dir)
        summary += bench_city(city, url, args.tiles, args.workers, args.threads)
    print("\n== summary (demo 1c p95 target: < 50 ms)")
    for line in summary:
        print("  " + line)
    print(f"(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
