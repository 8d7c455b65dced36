"""Bench: a whole-city land register (1,000,000 parcels) against a 250,000-parcel city, same run.

One command: `.venv/bin/python bench/city_scale.py [--small] [--keep]`.
For each size it creates its own database on the local cluster (`gisapp_bench_city_<n>`,
dropped at the end unless --keep), loads the demo city through the ETL (every layer: its
import time), then imports a generated parcel file of that size (EPSG:5899 GeoPackage, the
same generator as bench/etl_load.py: non-overlapping parcels with ward, sheet, parcel
number, land use, area, address and street) in replace mode through the full pipeline, and
reports the database size and, measured in passes alternating between the two cities (so
the machine's drift falls on both), composite tile p95 at z14/16/18 (all layers, public, the SQL the
server sends), parcel lookup p95 (by key, by point: gisapp.land functions) and permit
pre-check p95 (run_check + save_check, rolled back), with the large/small ratio of each.
`--small` runs 20,000 against 80,000 parcels (a quick check of the script).
Absolute times are noisy on a shared machine; the load average is printed with each result.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from gisapp.db import migrate, provision  # noqa: E402
from gisapp.secret_masking import mask_passwords  # noqa: E402
from layers import LAYERS, ROLES  # noqa: E402
from layers.land import PARCELS  # noqa: E402
from tiles.grid import Tile, tile_of  # noqa: E402

OUT = HERE / "out"
SIZES = (250_000, 1_000_000)
SMALL_SIZES = (20_000, 80_000)
ZOOMS = (14, 16, 18)
PUBLIC = ROLES["public"]


def load_average() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


PREFIX = ["gisapp_bench_city"]  # --prefix: another run's databases may still be dropping


def city_url(parcels: int) -> str:
    """This size's database beside DATABASE_URL (or the local cluster's default)."""
    base = os.environ.get("DATABASE_URL", "postgresql://gisapp:gisapp@127.0.0.1:5433/gisapp")
    return provision.libpq_url(base).rpartition("/")[0] + f"/{PREFIX[0]}_{parcels}"


def create_database(url: str) -> None:
    drop_database(url)
    provision.ensure_database(url, log=lambda m: None)
    migrate.upgrade(url)


def drop_database(url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    admin = url.rpartition("/")[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def parcel_file(parcels: int) -> Path:
    """The generated parcel GeoPackage of this size (made once, kept in bench/out)."""
    from parcel_file import parcel_frame, write_gpkg
    path = OUT / f"city_parcels_{parcels}.gpkg"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        write_gpkg(parcel_frame(parcels), path)
    return path


def load_city(url: str, parcels: int, data_dir: Path) -> dict[str, float]:
    """Import time (s) per layer: the demo city's layers, then `parcels` parcels (replace)."""
    from etl.demo.generate import DEFAULT_SEED
    from etl.demo.load import ensure_generated
    from etl.demo.load import load_city as load_demo
    from etl.pipeline import ImportRequest, run_import

    directory = OUT / "city_scale_demo"
    manifest, _ = ensure_generated(directory, DEFAULT_SEED, 20_000)
    times = {("demo parcels" if line.name == PARCELS.id else line.name): line.seconds
             for line in load_demo(url, directory, data_dir, manifest)}
    path = parcel_file(parcels)
    started = time.perf_counter()
    result = run_import(url, ImportRequest(PARCELS.id, path, started_by="bench"))
    times[f"parcels ({result.rows_loaded:,})"] = round(time.perf_counter() - started, 2)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return times


def database_size(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        tables = dict(conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " WHERE c.relname = ANY(%s)",
            ([PARCELS.table, PARCELS.versions_table, PARCELS.overview_table],)).fetchall())
    return {"database": total, **tables}


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def timed(fn, items) -> list[float]:
    for item in items[:10]:  # warm: plans prepared, pool filled, pages cached
        fn(item)
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def sample_parcels(url: str, n: int) -> list[tuple]:
    """n parcels spread over the layer: key and a point inside."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT ward_code, former_ward_code, sheet_no, parcel_no,"
            " ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM parcels"
            " ORDER BY md5(id::text) LIMIT %s", (n,)).fetchall()


def tile_times(url: str, points: list[tuple], per_zoom: int) -> dict[int, list[float]]:
    """ms of the composite tile (every layer, public) holding sampled parcels, per zoom."""
    from tiles.sql import render_tile
    layers = tuple(LAYERS.values())
    out = {}
    with psycopg.connect(url, options="-c jit=off", autocommit=True) as conn:
        for z in ZOOMS:
            tiles = sorted({Tile(z, *tile_of(p[4], p[5], z)) for p in points})
            tiles = random.Random(z).sample(tiles, min(per_zoom, len(tiles)))
            out[z] = timed(lambda t: render_tile(conn, layers, t, PUBLIC), tiles)
    return out


def lookup_times(url: str, sample: list[tuple]) -> dict[str, list[float]]:
    """ms of the parcel lookups (by key, by point) as the parcels API runs them."""
    from gisapp import create_app
    from gisapp.land import lookup
    from layers import levels_for
    app = create_app({"DATABASE_URL": url})
    engine, public = app.extensions["engine"], levels_for("public")
    with engine.connect() as conn:
        key = timed(lambda r: lookup.find_by_key(
            conn, lookup.ParcelKey(r[0], r[2], r[3], r[1]), public), sample)
        point = timed(lambda r: lookup.find_at_point(conn, r[4], r[5], public), sample)
    engine.dispose()
    return {"by key": key, "by point": point}


def precheck_times(url: str, data_dir: Path, n: int) -> list[float]:
    """ms of the permit pre-check (a 4-floor house on residential parcels), rolled back."""
    from gisapp import create_app
    from gisapp.permits.checks import run_check
    from gisapp.permits.sitemodel import Proposal
    from gisapp.permits.store import save_check
    with psycopg.connect(url) as conn:
        sample = conn.execute(
            "SELECT parcel_uid, ST_AsGeoJSON(ST_Buffer(ST_Transform(geom, 5899), -2.0))"
            " FROM parcels WHERE land_use = 'ODT' ORDER BY md5(parcel_uid) LIMIT %s",
            (n,)).fetchall()
    app = create_app({"DATABASE_URL": url})
    engine = app.extensions["engine"]

    def check(row):
        body = {"parcel_uid": row[0], "use": "residential", "floors": 4, "height_m": 15.0,
                "footprint": json.loads(row[1]), "footprint_crs": "EPSG:5899"}
        with engine.connect() as conn:
            save_check(conn, run_check(conn, Proposal.parse(body), data_dir), "bench")
            conn.rollback()

    result = timed(check, sample)
    engine.dispose()
    return result


def build(parcels: int) -> dict:
    """Create and load this size's database (dropped later by main): import times, sizes."""
    url = city_url(parcels)
    print(f"== {parcels:,}-parcel city in {mask_passwords(url)}; {load_average()}", flush=True)
    create_database(url)
    started = time.perf_counter()
    times = load_city(url, parcels, OUT / f"city_scale_data_{parcels}")
    print(f"   loaded in {time.perf_counter() - started:.1f} s; {load_average()}", flush=True)
    return {"import_s": times, "size": database_size(url), "tiles": {z: [] for z in ZOOMS},
            "lookups": {"by key": [], "by point": []}, "precheck": [], "loads": []}


def measure(parcels: int, city: dict, samples: int) -> None:
    """One pass of every latency on this city, added to its samples."""
    url = city_url(parcels)
    sample = sample_parcels(url, samples)
    for z, ms in tile_times(url, sample, samples).items():
        city["tiles"][z] += ms
    for name, ms in lookup_times(url, sample).items():
        city["lookups"][name] += ms
    city["precheck"] += precheck_times(url, OUT / f"city_scale_data_{parcels}", samples)
    city["loads"].append(os.getloadavg()[0])
    print(f"   measured the {parcels:,}-parcel city; {load_average()}", flush=True)


def summarise(city: dict) -> dict:
    return {"import_s": city["import_s"], "size": city["size"],
            "tile_p95": {z: p95(ms) for z, ms in city["tiles"].items()},
            "lookup_p95": {name: p95(ms) for name, ms in city["lookups"].items()},
            "precheck_p95": p95(city["precheck"]),
            "load": "load " + "/".join(f"{x:.1f}" for x in city["loads"])}


def report(small: int, large: int, a: dict, b: dict) -> None:
    def row(label: str, x: float, y: float, unit: str) -> None:
        ratio = f"{y / x:5.2f}x" if x else "  -"
        print(f"{label:<34} {x:>10.1f} {unit:<3} {y:>10.1f} {unit:<3} {ratio}")

    print(f"\n{'':<34} {small:>10,} par.  {large:>10,} par.  large/small")
    names = list(dict.fromkeys([*a["import_s"], *b["import_s"]]))
    for name in names:
        if name.startswith("parcels ("):
            continue
        row(f"import {name}", a["import_s"].get(name, 0.0), b["import_s"].get(name, 0.0), "s")
    pa = next(v for k, v in a["import_s"].items() if k.startswith("parcels ("))
    pb = next(v for k, v in b["import_s"].items() if k.startswith("parcels ("))
    row("import parcels (replace)", pa, pb, "s")
    row("import parcels rows/s", small / pa, large / pb, "r/s")
    mib = 1024 * 1024
    row("database size", a["size"]["database"] / mib, b["size"]["database"] / mib, "MiB")
    for table in (PARCELS.table, PARCELS.versions_table, PARCELS.overview_table):
        row(f"  {table} (with indexes)", a["size"].get(table, 0) / mib,
            b["size"].get(table, 0) / mib, "MiB")
    for z in ZOOMS:
        row(f"tile z{z} p95", a["tile_p95"][z], b["tile_p95"][z], "ms")
    for name in a["lookup_p95"]:
        row(f"parcel lookup {name} p95", a["lookup_p95"][name], b["lookup_p95"][name], "ms")
    row("permit pre-check p95", a["precheck_p95"], b["precheck_p95"], "ms")
    print(f"load average after each pass: {a['load']} ({small:,}), {b['load']} ({large:,});"
          f" {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="20,000 against 80,000 parcels")
    parser.add_argument("--samples", type=int, default=200, help="requests per p95")
    parser.add_argument("--passes", type=int, default=2,
                        help="measurement passes, alternating between the cities")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--prefix", default=PREFIX[0], help="database names: PREFIX_<parcels>")
    args = parser.parse_args()
    PREFIX[0] = args.prefix
    small, large = SMALL_SIZES if args.small else SIZES
    try:
        cities = {parcels: build(parcels) for parcels in (small, large)}
        for _ in range(args.passes):  # alternating, so the machine's drift falls on both
            for parcels, city in cities.items():
                measure(parcels, city, args.samples)
        report(small, large, summarise(cities[small]), summarise(cities[large]))
    finally:
        if not args.keep:  # DROP DATABASE waits for a checkpoint: after the report
            for parcels in (small, large):
                drop_database(city_url(parcels))


if __name__ == "__main__":
    main()
