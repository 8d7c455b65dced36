"""Scale-out: the same read mix against (a) the primary alone, (b) primary + replica with
reads routed, (c) through PgBouncer; and what each hop adds.

    DATABASE_URL=… .venv/bin/python bench/scale.py [--seconds 20] [--clients 4]

Copies the database of DATABASE_URL (the demo city) into a PostgreSQL 15 cluster of its
own in a temp directory (wal_level=replica, so the shared cluster is never reconfigured),
makes a streaming replica of it when gisapp.db.replication and DATABASE_READ_URLS exist
(the replica work), and starts Debian's PgBouncer in transaction mode (gisapp.pgbouncer).
For each setup one gunicorn node (the repository's config, --workers x 2 threads), all
up at once, with the tile cache off so every tile is rendered: --clients keep-alive
clients loop over uncached composite tiles (z16 at random parcels), feature pages (100
parcels in a bbox) and parcel lookups by point, weighted 2:1:1, for --seconds per setup,
in --rounds rounds that alternate the setups. Prints per setup requests/s, its ratio to
(a), and p50 per kind with the latency it adds to (a).
Then per hop, without HTTP: the median `SELECT 1` round trip direct, through PgBouncer
and on the replica, and one connection's tiles/s of the composite statement with and
without server-side prepare, direct and through PgBouncer (there it cannot be prepared).
The machine is shared: the load average is printed with every phase.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from gisapp.db.provision import PG_BIN, libpq_url  # noqa: E402
from gisapp.pgbouncer import PoolerConfig, pooled_url, session_query, start, stop  # noqa: E402
from gisapp.settings import Settings  # noqa: E402
from layers import LAYERS, Access  # noqa: E402
from tests.pg_cluster import PgCluster, free_port  # noqa: E402
from tests.served import gunicorn  # noqa: E402
from tiles.grid import Tile, tile_of  # noqa: E402
from tiles.sql import is_in_zoom, render_tile  # noqa: E402

DBNAME = "gisapp_scale"
SAMPLE_SQL = ("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM parcels"
              " ORDER BY random() LIMIT 400")
KINDS = {"tile": 2, "feature page": 1, "parcel lookup": 1}
PRIMARY_CONF = "\nwal_level = replica\nmax_wal_senders = 8\nmax_replication_slots = 8\n" \
               "shared_buffers = 256MB\nmax_connections = 200\n"
TIMEOUT_S = 60
LABELS = {"a": "(a) primary alone", "b": "(b) primary + replica, reads routed",
          "c": "(c) through PgBouncer"}


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def copy_database(source: str, cluster: PgCluster) -> str:
    """The source database restored into `cluster` (as role gisapp); its URL."""
    with cluster.superuser() as conn:
        conn.execute("CREATE ROLE gisapp LOGIN SUPERUSER PASSWORD 'gisapp'")
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER gisapp").format(sql.Identifier(DBNAME)))
    target = cluster.url(DBNAME)
    dump = subprocess.Popen([str(PG_BIN / "pg_dump"), "-Fc", "--no-owner", "-d", source],
                            stdout=subprocess.PIPE)
    restore = subprocess.run([str(PG_BIN / "pg_restore"), "--no-owner", "-d", target],
                             stdin=dump.stdout, capture_output=True, text=True)
    dump.wait()
    if dump.returncode != 0:
        sys.exit("pg_dump of DATABASE_URL failed")
    if restore.returncode != 0 and "ERROR" in restore.stderr:
        print(f"pg_restore said: {restore.stderr[-500:]}", file=sys.stderr)
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        # The copied versions' commit LSNs count in the source cluster's WAL, which this
        # cluster's never reaches: without this no replica would ever qualify for a read.
        conn.execute("UPDATE layer_state SET commit_lsn ="
                     " (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
    return target


def make_replica(cluster: PgCluster, root: Path) -> str | None:
    """A streaming replica of `cluster` (the replica work's module); its URL, or None."""
    if "database_read_urls" not in {f.name for f in fields(Settings)}:
        return None
    try:
        from gisapp.db import replication
    except ImportError:
        return None
    port, data = free_port(), root / "replica"
    with cluster.superuser() as conn:
        replication.prepare_primary(conn, "replica-pass")
    replication.base_backup(PG_BIN, "127.0.0.1", cluster.port, data, "replica-pass")
    replication.configure_standby(data, port, root)
    log = root / "replica.log"
    log.touch()
    if os.geteuid() == 0:
        shutil.chown(log, "postgres", "postgres")
    cmd = [str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "120", "-D", str(data), "-l", str(log)]
    subprocess.run((["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + cmd,
                   check=True, capture_output=True)
    return f"postgresql://gisapp:gisapp@127.0.0.1:{port}/{DBNAME}"


class Mix:
    """The read mix: requests chosen from a sample of parcel points."""

    def __init__(self, points: list[tuple[float, float]], host: str):
        public = [layer for layer in LAYERS.values() if layer.access == Access.PUBLIC]
        self.tile_layers = ",".join(layer.id for layer in public if is_in_zoom(layer, 16))
        self.points, self.host = points, host

    def path(self, kind: str, rng: random.Random) -> str:
        lon, lat = rng.choice(self.points)
        if kind == "tile":
            x, y = tile_of(lon, lat, 16)
            return f"/tiles/{self.tile_layers}/16/{x}/{y}.mvt"
        if kind == "feature page":
            d = 0.002
            return (f"/collections/parcels/items?limit=100"
                    f"&bbox={lon - d:.6f},{lat - d:.6f},{lon + d:.6f},{lat + d:.6f}")
        return f"/api/parcels/at?lon={lon:.7f}&lat={lat:.7f}"


def run_clients(port: int, mix: Mix, clients: int, seconds: float) -> dict[str, list[float]]:
    """--clients loops for `seconds`; latencies (ms) of answered requests per kind."""
    out: dict[str, list[float]] = {kind: [] for kind in KINDS}
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    kinds = [k for k, weight in KINDS.items() for _ in range(weight)]

    def loop(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
        while time.monotonic() < deadline:
            kind = rng.choice(kinds)
            path = mix.path(kind, rng)
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": mix.host, "Accept-Encoding": "gzip"})
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{path}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
                continue
            if resp.status >= 500:
                errors.append(f"{path}: {resp.status}")
                continue
            out[kind].append((time.perf_counter() - t) * 1000)
        conn.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        print(f"    {len(errors)} errors, e.g. {errors[0]}")
    return out


def measure_setups(setups: dict[str, tuple[str, dict[str, str]]], data_dir: Path, mix: Mix,
                   args) -> dict[str, dict[str, list[float]]]:
    """A gunicorn node per setup, all up at once; --rounds alternating rounds of
    --seconds / --rounds each, so the shared machine's drift falls on every setup."""
    results: dict[str, dict[str, list[float]]] = {key: {k: [] for k in KINDS} for key in setups}
    with ExitStack() as stack:
        ports = {}
        for key, (url, env) in setups.items():
            env = {"GISAPP_TILE_CACHE": "off", "GISAPP_PUBLIC_URL": f"http://{mix.host}", **env}
            ports[key] = stack.enter_context(gunicorn(url, data_dir / key, workers=args.workers,
                                                      threads=2, env=env))
        for key, port in ports.items():
            run_clients(port, mix, args.clients, 5)  # warm pools, plans and caches
        for round_no in range(args.rounds):
            for key, port in ports.items():
                print(f"  round {round_no + 1} {LABELS[key]}: load average {load_average()}",
                      flush=True)
                out = run_clients(port, mix, args.clients, args.seconds / args.rounds)
                for kind, times in out.items():
                    results[key][kind] += times
    return results


def round_trip_ms(url: str, n: int = 500) -> float:
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        for _ in range(20):
            conn.execute("SELECT 1")
        times = []
        for _ in range(n):
            t = time.perf_counter()
            conn.execute("SELECT 1")
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def tiles_per_second(ways: dict[str, tuple[str, bool]], tiles: list[Tile],
                     rounds: int = 3) -> dict[str, float]:
    """One connection per way (url, prepare) renders `tiles`; rounds alternate the ways so
    the shared machine's drift falls on all of them."""
    layers = tuple(layer for layer in LAYERS.values() if layer.access == Access.PUBLIC)
    levels = frozenset({Access.PUBLIC})
    conns, spent = {}, {name: 0.0 for name in ways}
    try:
        for name, (url, prepare) in ways.items():
            pooled = not prepare and name.startswith("PgBouncer")
            options = {} if pooled else {"options": "-c jit=off"}  # PgBouncer's connect_query
            conns[name] = psycopg.connect(url, autocommit=True, **options)
            for tile in tiles[:10]:  # plans, caches (and the prepared statement) warm
                render_tile(conns[name], layers, tile, levels, prepare=prepare)
        for _ in range(rounds):
            for name, (_url, prepare) in ways.items():
                t = time.perf_counter()
                for tile in tiles:
                    render_tile(conns[name], layers, tile, levels, prepare=prepare)
                spent[name] += time.perf_counter() - t
    finally:
        for conn in conns.values():
            conn.close()
    return {name: rounds * len(tiles) / seconds for name, seconds in spent.items()}


def report(results: dict[str, dict[str, list[float]]], seconds: float) -> None:
    base = results["a"]
    base_rate = sum(len(v) for v in base.values()) / seconds
    print(f"\n{'setup':<34} {'req/s':>7} {'x (a)':>6}   " +
          "   ".join(f"{k} p50 (+ms vs a)" for k in KINDS))
    for key, out in results.items():
        rate = sum(len(v) for v in out.values()) / seconds
        cells = []
        for kind in KINDS:
            p50 = statistics.median(out[kind]) if out[kind] else float("nan")
            b50 = statistics.median(base[kind]) if base[kind] else float("nan")
            cells.append(f"{p50:7.1f} ({p50 - b50:+6.1f})")
        print(f"{LABELS[key]:<34} {rate:7.1f} {rate / base_rate:6.2f}   " + "   ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per setup")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes per node")
    args = parser.parse_args()
    source = libpq_url(Settings.load().database_url)
    root = Path(tempfile.mkdtemp(prefix="gisapp-scale-"))
    root.chmod(0o755)
    cluster = PgCluster(root)
    pooler = None
    try:
        print(f"load average {load_average()} at start; {os.cpu_count()} cores", flush=True)
        cluster.init()
        with open(cluster.data / "postgresql.conf", "a") as conf:
            conf.write(PRIMARY_CONF)
        cluster.start()
        t = time.perf_counter()
        primary = copy_database(source, cluster)
        print(f"copied {source.rpartition('@')[2]} into a cluster of our own in "
              f"{time.perf_counter() - t:.0f} s", flush=True)
        replica = make_replica(cluster, root)
        pooler = PoolerConfig(prefix=root / "pgbouncer", listen=f"127.0.0.1:{free_port()}",
                              target=primary, pool_size=20,
                              connect_query=session_query(15_000, 60_000))
        start(pooler)
        with psycopg.connect(primary) as conn:
            points = conn.execute(SAMPLE_SQL).fetchall()
        mix = Mix(points, "127.0.0.1:8000")
        data_dir = root / "appdata"  # root / "data" is the cluster's
        setups = {"a": (primary, {})}
        if replica:
            setups["b"] = (primary, {"DATABASE_READ_URLS": replica})
        else:
            print("  (b) skipped: no replica routing (DATABASE_READ_URLS) in this tree")
        setups["c"] = (pooled_url(pooler), {"DATABASE_POOLER": "transaction",
                                            "DATABASE_DIRECT_URL": primary})
        results = measure_setups(setups, data_dir, mix, args)
        print(f"load average {load_average()} after the HTTP phases")
        report(results, args.seconds)

        print("\nper hop, without HTTP (one connection, sequential):")
        hops = {"direct to the primary": primary, "through PgBouncer": pooled_url(pooler)}
        if replica:
            hops["on the replica"] = replica
        base = None
        for name, url in hops.items():
            ms = round_trip_ms(url)
            base = ms if base is None else base
            print(f"  SELECT 1 round trip {name:<22} {ms:6.3f} ms  ({ms - base:+.3f} ms)")
        rng = random.Random(1)
        tiles = [Tile(16, *tile_of(*rng.choice(points), 16)) for _ in range(60)]
        print(f"  composite z16 tiles (every public layer), load average {load_average()}:")
        rates = tiles_per_second({"direct, prepared": (primary, True),
                                  "direct, not prepared": (primary, False),
                                  "PgBouncer, not prepared": (pooled_url(pooler), False)}, tiles)
        for name, rate in rates.items():
            print(f"    {name:<26} {rate:6.1f} tiles/s "
                  f"({rate / rates['direct, prepared']:.2f}x prepared)", flush=True)
        print(f"load average {load_average()} at the end")
    finally:
        if pooler is not None:
            stop(pooler)
        replica_data = root / "replica"
        if replica_data.exists():
            subprocess.run((["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
                           + [str(PG_BIN / "pg_ctl"), "stop", "-m", "immediate", "-D",
                              str(replica_data)], capture_output=True)
        cluster.destroy()


if __name__ == "__main__":
    main()
