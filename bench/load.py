"""Load through the served stack: a mix of clients plus slow ones, then one tile missed 100 times.

    DATABASE_URL=… .venv/bin/python bench/load.py [--url http://127.0.0.1:8000] [--seconds 60]

Phase 1, for --seconds: --clients clients (8), each on a keep-alive connection, loop over
a mix of composite tiles (z16 at parcels of the city), feature pages, parcel lookups (by
key and by point) and permit pre-checks (as a permit officer `bench-load`, created with a
token on first use; each check is saved, like a clerk's). Meanwhile --slow clients (50)
send their request headers a line a second and read the answer 1 KB at a time, and a probe
opens a new connection for /healthz every 100 ms. Prints requests, errors and p50/p95/p99
per kind and the probe's p95 (targets: 0 errors, /healthz p95 < 100 ms).
Phase 2: --misses (100) concurrent requests for one composite tile (z16, every public
layer, a random layer order) nobody asked for before; prints
how many times the tile statement ran (target 1), counted as the index scans of the
parcels table in pg_stat_user_tables against those of one single miss (PostgreSQL
publishes a backend's counters within 10 s, so this phase waits for them).
Loopback only: the URL must name 127.0.0.1 or localhost. Stops by itself.
"""
from __future__ import annotations

import argparse
import http.client
import random
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit


import psycopg  # noqa: E402

from gisapp import accounts  # noqa: E402
from gisapp.db.engine import make_engine  # noqa: E402
from gisapp.db.provision import libpq_url  # noqa: E402
from gisapp.settings import Settings  # noqa: E402
from layers import LAYERS, Access  # noqa: E402
from tiles.grid import tile_of  # noqa: E402
from tiles.sql import is_in_zoom  # noqa: E402

SAMPLE_SQL = ("SELECT parcel_uid, ward_code, former_ward_code, sheet_no, parcel_no,"
              " ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)),"
              " ST_Area(ST_Transform(geom, 5899)) FROM parcels"
              " WHERE ST_Area(ST_Transform(geom, 5899)) BETWEEN 60 AND 600"
              " ORDER BY random() LIMIT 500")
SCANS_SQL = "SELECT coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'parcels'"
KINDS = {"tile": 4, "feature page": 2, "parcel lookup": 2, "permit pre-check": 1}
STATS_DELAY_S = 11  # PostgreSQL 15 flushes an idle backend's counters within 10 s
TIMEOUT_S = 30
USER = "bench-load"


class Target:
    """Where requests go, and the sample of the city they ask about."""

    def __init__(self, url: str, rows: list[tuple], token: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.rows, self.token = rows, token
        public = [layer for layer in LAYERS.values() if layer.access == Access.PUBLIC]
        self.tile_layers = ",".join(layer.id for layer in public if is_in_zoom(layer, 16))
        self.page_layers = [layer.id for layer in public]

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)

    def request(self, kind: str, rng: random.Random) -> tuple[str, str, bytes | None, dict]:
        uid, ward, former, sheet, parcel, lon, lat, area = rng.choice(self.rows)
        if kind == "tile":
            x, y = tile_of(lon, lat, 16)
            return "GET", f"/tiles/{self.tile_layers}/16/{x}/{y}.mvt", None, {
                "Accept-Encoding": "gzip"}
        if kind == "feature page":
            return "GET", (f"/collections/{rng.choice(self.page_layers)}/items?limit=100"
                           f"&offset={rng.randrange(0, 2000, 100)}"), None, {}
        if kind == "parcel lookup":
            if rng.random() < 0.5:
                return "GET", f"/api/parcels/at?lon={lon}&lat={lat}", None, {}
            return "GET", (f"/api/parcels?ward={ward}&former={former}&sheet={sheet}"
                           f"&parcel={parcel}"), None, {}
        body = (f'{{"parcel_uid": "{uid}", "use": "residential", "floors": 4, '
                f'"height_m": 15, "footprint_area_m2": {area * 0.6:.1f}}}').encode()
        return "POST", "/api/permits/checks", body, {
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}


def _timed(conn: http.client.HTTPConnection, method: str, path: str, body, headers) -> tuple:
    t = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status, (time.perf_counter() - t) * 1000


def client(target: Target, deadline: float, seed: int, out: dict) -> None:
    rng = random.Random(seed)
    kinds = [k for k, weight in KINDS.items() for _ in range(weight)]
    conn = target.connect()
    while time.monotonic() < deadline:
        kind = rng.choice(kinds)
        try:
            status, ms = _timed(conn, *target.request(kind, rng))
            ok = status < 400
        except (OSError, http.client.HTTPException):
            conn.close()
            conn, ok, ms = target.connect(), False, None
        out[kind].append((ok, ms))


def slow_client(target: Target, deadline: float, seed: int, out: list) -> None:
    """Headers a line a second, then the answer read 1 KB per 0.1 s; again until the deadline."""
    rng = random.Random(seed)
    lines = [f"GET /collections/parcels/items?limit=50&offset={rng.randrange(0, 1000)}"
             " HTTP/1.1", f"Host: {target.host}:{target.port}", "User-Agent: slow",
             "Accept: application/geo+json", "Connection: close", ""]
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((target.host, target.port), timeout=TIMEOUT_S) as s:
                for line in lines:
                    s.sendall(line.encode() + b"\r\n")
                    time.sleep(1.0)
                    if time.monotonic() > deadline:
                        return
                first = s.recv(1024)
                while time.monotonic() < deadline and s.recv(1024):
                    time.sleep(0.1)
                out.append(first.startswith(b"HTTP/1.1 200"))
        except OSError:
            out.append(False)


def probe(target: Target, deadline: float, out: list) -> None:
    while time.monotonic() < deadline:
        conn = target.connect()
        try:
            status, ms = _timed(conn, "GET", "/healthz", None, {})
            out.append((status == 200, ms))
        except (OSError, http.client.HTTPException):
            out.append((False, None))
        finally:
            conn.close()
        time.sleep(0.1)


def _percentiles(ms: list[float]) -> str:
    if len(ms) < 2:
        return " ".join(f"{'-':>8}" for _ in range(3))
    q = statistics.quantiles(ms, n=100)
    return f"{q[49]:8.1f} {q[94]:8.1f} {q[98]:8.1f}"


def run_mix(target: Target, seconds: float, clients: int, slow: int) -> None:
    deadline = time.monotonic() + seconds
    results: dict[str, list] = {kind: [] for kind in KINDS}
    slow_done: list[bool] = []
    probes: list = []
    threads = [threading.Thread(target=client, args=(target, deadline, i, results))
               for i in range(clients)]
    threads += [threading.Thread(target=slow_client, args=(target, deadline, 1000 + i,
                                                             slow_done)) for i in range(slow)]
    threads.append(threading.Thread(target=probe, args=(target, deadline, probes)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * TIMEOUT_S)
    print(f"{'kind':<18}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for kind, done in [*results.items(), ("/healthz probe", probes)]:
        ms = [m for ok, m in done if ok]
        print(f"{kind:<18}{len(done):>9}{sum(not ok for ok, _ in done):>8} {_percentiles(ms)}")
    ok_ms = [m for ok, m in probes if ok]
    p95 = statistics.quantiles(ok_ms, n=100)[94] if len(ok_ms) > 1 else float("inf")
    errors = sum(not ok for done in results.values() for ok, _ in done)
    print(f"slow clients: {len(slow_done)} requests answered 200, "
          f"{sum(not ok for ok in slow_done)} failed or cut off")
    print(f"targets: errors {errors} (target 0): {'ok' if errors == 0 else 'MISSED'}; "
          f"/healthz p95 {p95:.1f} ms (target < 100): {'ok' if p95 < 100 else 'MISSED'}")


def _scans(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(SCANS_SQL).fetchone()[0]


def _miss(target: Target, path: str, n: int) -> list[int]:
    """n concurrent GETs of `path`, each on its own connection; their statuses."""
    start, statuses = threading.Barrier(n), []

    def one() -> None:
        conn = target.connect()
        try:
            start.wait()
            statuses.append(_timed(conn, "GET", path, None, {"Accept-Encoding": "gzip"})[0])
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError):
            statuses.append(0)
        finally:
            conn.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(2 * TIMEOUT_S)
    return statuses


def run_misses(target: Target, url: str, n: int) -> None:
    """Tiles nobody asked for: z16 composites at random parcels, their layers in an order
    drawn at random (a new cache key, even in a tile store kept from earlier runs)."""
    rng = random.Random()
    paths = []
    for row in rng.sample(target.rows, 2):
        layers = target.tile_layers.split(",")
        rng.shuffle(layers)
        x, y = tile_of(row[5], row[6], 16)
        paths.append(f"/tiles/{','.join(layers)}/16/{x}/{y}.mvt")
    time.sleep(STATS_DELAY_S)  # the mix's own counters arrive first
    before = _scans(url)
    single = _miss(target, paths[0], 1)
    time.sleep(STATS_DELAY_S)
    middle = _scans(url)
    many = _miss(target, paths[1], n)
    time.sleep(STATS_DELAY_S)
    per_statement, total = middle - before, _scans(url) - middle
    runs = total / per_statement if per_statement else float("nan")
    print(f"{n} concurrent misses of one new tile: statuses {sorted(set(many))} "
          f"(one miss alone: {single}); the tile statement ran {runs:.0f} times "
          f"(index scans {total}, {per_statement} per statement; target 1): "
          f"{'ok' if runs == 1 else 'MISSED'}")


def _token(url: str) -> str:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    with engine.begin() as conn:
        if accounts.identity_for_user(conn, USER) is None:
            accounts.add_user(conn, USER, "permit_officer")
        _, token = accounts.create_token(conn, USER, "bench/load.py")
    engine.dispose()
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the served stack")
    parser.add_argument("--seconds", type=float, default=60, help="0: only the misses")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--slow", type=int, default=50, help="slow clients")
    parser.add_argument("--misses", type=int, default=100, help="concurrent misses of a tile")
    args = parser.parse_args()
    if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("bench/load.py runs against a loopback address only")
    url = libpq_url(Settings.load().database_url)
    with psycopg.connect(url) as conn:
        rows = conn.execute(SAMPLE_SQL).fetchall()
    if not rows:
        raise SystemExit("no parcels loaded: run `gisapp demo load` first")
    target = Target(args.url, rows, _token(url))
    try:
        _timed(target.connect(), "GET", "/healthz", None, {})
    except OSError as exc:
        raise SystemExit(f"nothing answers at {args.url} ({exc}): start the stack "
                         "(`make run`) or pass --url") from None
    if args.seconds > 0:
        print(f"load: {args.clients} clients + {args.slow} slow clients for "
              f"{args.seconds:.0f} s against {args.url}")
        run_mix(target, args.seconds, args.clients, args.slow)
    run_misses(target, url, args.misses)


if __name__ == "__main__":
    main()
