"""Tile throughput: raw SQL (the PostGIS limit) vs our server uncached vs cached.

One command:  .venv/bin/python bench/tile_serving.py
For each city (the demo city, and a 250,000-parcel city) and each concurrency (1, 2, 8
clients) it runs the same list of distinct z14-z16 composite tiles of every layer through
  (a) the tile statement itself on PostGIS, sent exactly as the server sends it
      (tiles.sql.render_tile: prepared, binary) on one direct connection per client,
  (b) gunicorn serving the app with the tile cache off,
  (c) gunicorn serving the app with the tile cache on (memory + disk),
and a peer, (p) a thin Flask endpoint over the same statement (bench/thin_tile_app.py)
under the same gunicorn configuration: the issue's yardstick for what HTTP costs,
cold (each tile once per pass: no cache can hide the work) and warm (the same list again),
and prints tiles/s, p50/p95/p99 latency and errors, with the ratios the README targets.
(a), (p) and (b) run several passes each, alternating, so the machine's drift falls on all;
(c) gets a new server with an empty cache at each concurrency, so its cold pass is cold.
Before the clock starts every client has its connection open, and every connection has
run the statements once on tiles away from the city (PostgreSQL has prepared them, the
server's pool is filled) - as in a server that has been up for a while. PostgreSQL's
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
from typing import Callable

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from layers import LAYERS, ROLES, FieldType  # noqa: E402
from etl.overviews import refresh_overview  # noqa: E402
from layers.land import PARCELS  # noqa: E402
from tiles.grid import Tile, tile_of  # noqa: E402
from tiles.sql import render_tile  # noqa: E402

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
        refresh_overview(conn, PARCELS)  # as an import would, in the same transaction
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


def run_clients(tiles: list[Tile], fetchers: list[Callable[[Tile], bool]]) -> dict:
    """One client per fetcher takes the next tile from a shared list; throughput and latencies.

    The fetchers hold their connections already, so the clock times requests, not set-up.
    """
    lock, queue, latencies, errors = threading.Lock(), list(reversed(tiles)), [], [0]

    def worker(fetch):
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

    threads = [threading.Thread(target=worker, args=(f,)) for f in fetchers]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"count": len(latencies), "wall": time.perf_counter() - started,
            "latencies": latencies, "errors": errors[0]}


def merged(runs: list[dict]) -> dict:
    """Several passes as one measurement: tiles/s over their summed wall time."""
    latencies = [x for r in runs for x in r["latencies"]]
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"tps": len(latencies) / sum(r["wall"] for r in runs), "p50": q[49] * 1e3,
            "p95": q[94] * 1e3, "p99": q[98] * 1e3, "errors": sum(r["errors"] for r in runs)}


def sql_fetcher(url: str) -> Callable[[Tile], bool]:
    """The tile statement on a direct connection, sent as the server sends it."""
    conn = psycopg.connect(url, options="-c jit=off", autocommit=True)

    def fetch(tile: Tile) -> bool:
        render_tile(conn, ALL, tile, PUBLIC, 20_000)
        return True
    return fetch


class HttpClient:
    """A lean HTTP/1.1 keep-alive client, so the client is not what limits cached tiles.

    http.client costs about 0.3 ms a request in Python, which capped the cached server
    at the client's ~1,000 requests/s. This sends one prebuilt request line, reads the
    Content-Length body, and reconnects (once) when the server closed an idle connection,
    as a browser does for a GET.
    """

    def __init__(self, port: int):
        self.port, self.sock, self.buf = port, None, b""

    def _connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def get(self, path: str) -> int:
        # the Host of the server's public URL, port included: the app answers no other
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                   "Accept-Encoding: gzip\r\n\r\n").encode()
        for attempt in (1, 2):
            if self.sock is None:
                self._connect()
            try:
                self.sock.sendall(request)
                return self._response()
            except (ConnectionError, EOFError):
                self.sock.close()
                self.sock = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _recv(self) -> None:
        chunk = self.sock.recv(1 << 18)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buf += chunk

    def _response(self) -> int:
        while b"\r\n\r\n" not in self.buf:
            self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status, length, close = int(head[9:12]), 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        while len(self.buf) < length:
            self._recv()
        self.buf = self.buf[length:]
        if close:
            self.sock.close()
            self.sock = None
        return status


def http_fetcher(port: int, layers: str) -> Callable[[Tile], bool]:
    client = HttpClient(port)

    def fetch(tile: Tile) -> bool:
        return client.get(f"/tiles/{layers}/{tile.z}/{tile.x}/{tile.y}.mvt") in (200, 204)
    return fetch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


APP = "gisapp:create_app()"
THIN = "bench.thin_tile_app:app"


def start_server(url: str, cache: str, data_dir: Path, workers: int | None,
                 threads: int | None, target: str = APP) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "GISAPP_TILE_CACHE": cache,
           "GISAPP_DATA_DIR": str(data_dir), "GISAPP_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    env.pop("GISAPP_ACCESS_LOG", None)
    if workers:
        env["GISAPP_WORKERS"] = str(workers)
    if threads:
        env["GISAPP_THREADS"] = str(threads)
    proc = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "gunicorn", "-c",
                             str(ROOT / "gisapp/gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
                             target], env=env, cwd=ROOT,
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


def stop_server(server: tuple[subprocess.Popen, int]) -> None:
    server[0].terminate()
    server[0].wait(timeout=30)


def row(name: str, r: dict) -> str:
    return (f"  {name:<26} {r['tps']:8.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f}"
            f" {r['errors']:6d}")


def outside(tiles: list[Tile], shift: int = 64) -> list[Tile]:
    """Tiles at the same zooms away from the city: they run the same statements but are
    not among the measured tiles, so warming a server with them leaves its cache cold."""
    return [Tile(t.z, (t.x + shift) % (1 << t.z), t.y) for t in tiles]


UNCACHED = ("a raw SQL", "p thin Flask (peer)", "b server uncached")


def bench_level(clients: int, tiles: list[Tile], url: str, ports: dict[str, int],
                rounds: int) -> dict:
    """One concurrency level: (a), (p), (b) and (c), cold then warm, passes interleaved.

    (a), (p) and (b) have no cache, so each runs `rounds` passes of every tile, in turn,
    so that drift in the machine's load falls on all alike. (c) starts with an empty
    cache: one cold pass, then `rounds` warm passes.
    """
    names = ",".join(LAYERS)
    fetchers = {"a raw SQL": [sql_fetcher(url) for _ in range(clients)]}
    for label in UNCACHED[1:] + ("c server cached",):
        fetchers[label] = [http_fetcher(ports[label], names) for _ in range(clients)]
    warm_up = outside(tiles)
    for clients_fetch in fetchers.values():  # connections open, statements prepared
        run_clients(warm_up, clients_fetch)
    runs: dict[tuple[str, str], list[dict]] = {}
    plan = [("cold", label) for _ in range(rounds) for label in UNCACHED]
    plan += [("cold", "c server cached")]
    plan += [("warm", label) for _ in range(rounds) for label in fetchers]
    for pass_name, label in plan:
        runs.setdefault((label, pass_name), []).append(run_clients(tiles, fetchers[label]))
    return {key: merged(value) for key, value in runs.items()}


def p95_by_zoom(city: str, tiles: list[Tile], port: int) -> str:
    """p95 of the uncached server per zoom at one client (z14: parcels as their overview)."""
    fetch = [http_fetcher(port, ",".join(LAYERS))]
    parts = []
    for z in ZOOMS:
        at_z = [t for t in tiles if t.z == z]
        run_clients(at_z[:3], fetch)  # connection open, statement prepared for this zoom
        parts.append(f"z{z} p95 {merged([run_clients(at_z, fetch)])['p95']:.1f} ms")
    line = f"{city} uncached 1c by zoom: {', '.join(parts)} (z14 target < 50 ms)"
    print("  " + line, flush=True)
    return line


def bench_city(city: str, url: str, per_zoom: int, rounds: int, workers, threads) -> list[str]:
    tiles = pick_tiles(url, per_zoom * len(ZOOMS))
    print(f"\n== {city}: {len(tiles)} distinct z14-16 tiles of all {len(ALL)} layers, "
          f"{rounds} passes per row; warming PostgreSQL buffers", flush=True)
    run_clients(tiles, [sql_fetcher(url) for _ in range(2)])
    summary = []
    with tempfile.TemporaryDirectory(prefix="bench-tiles-") as tmp:
        servers = {UNCACHED[1]: start_server(url, "off", Path(tmp) / "thin", workers, threads,
                                             THIN),
                   UNCACHED[2]: start_server(url, "off", Path(tmp) / "off", workers, threads)}
        try:
            for clients in CLIENTS:
                cached = start_server(url, "memory+disk", Path(tmp) / f"on-{clients}",
                                      workers, threads)
                ports = {label: port for label, (_, port) in servers.items()}
                try:
                    results = bench_level(clients, tiles, url,
                                          {**ports, "c server cached": cached[1]}, rounds)
                finally:
                    stop_server(cached)
                print(f"-- {clients} client(s)\n  {'':<26} {'tiles/s':>8} {'p50 ms':>8}"
                      f" {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}")
                for label in UNCACHED + ("c server cached",):
                    for pass_name in ("cold", "warm"):
                        print(row(f"{label} {pass_name}", results[(label, pass_name)]))
                a, b = results[("a raw SQL", "cold")], results[("b server uncached", "cold")]
                c, p = results[("c server cached", "warm")], results[(UNCACHED[1], "cold")]
                line = (f"{city} {clients}c: uncached/raw {b['tps'] / a['tps']:.2f}x (target 0.9;"
                        f" thin Flask/raw {p['tps'] / a['tps']:.2f}x,"
                        f" uncached/thin Flask {b['tps'] / p['tps']:.2f}x),"
                        f" cached warm/uncached {c['tps'] / b['tps']:.1f}x (target 10),"
                        f" uncached p99/p95 {b['p99'] / b['p95']:.2f} (target <=4),"
                        f" uncached p95 {b['p95']:.1f} ms (raw {a['p95']:.1f} ms)")
                print("  " + line, flush=True)
                summary.append(line)
            summary.append(p95_by_zoom(city, tiles, servers[UNCACHED[2]][1]))
        finally:
            for server in servers.values():
                stop_server(server)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=60,
                        help="distinct tiles per zoom, at most (the demo city has 56 in all)")
    parser.add_argument("--rounds", type=int, default=4, help="passes per row")
    parser.add_argument("--cities", default="demo,250k", help="demo, 250k or both")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: conf)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: conf)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-tiles")
    args = parser.parse_args()
    started, summary = time.perf_counter(), []
    for city in args.cities.split(","):
        url, parcels = CITIES[city]
        ensure_city(url, parcels, args.data_dir)
        summary += bench_city(city, url, args.tiles, args.rounds, args.workers, args.threads)
    print("\n== summary (demo 1c p95 target: < 50 ms)")
    for line in summary:
        print("  " + line)
    print(f"(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
