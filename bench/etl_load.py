"""Bench: our import pipeline against ogr2ogr (-f PostgreSQL, COPY) on the same parcel files.

One command: `.venv/bin/python bench/etl_load.py [--rows 200000] [--database NAME]`.
Generates a parcel file in each accepted format (GeoPackage, zipped Shapefile, GeoJSON, CSV
with WKT; EPSG:5899) into bench/out/, loads each into the bench database (default
`gisapp_bench`, created and migrated on the local cluster) with `run_import`, then with
ogr2ogr into a separate table, and prints rows/s and the ratio. Also the demo parcels when
the demo generator (etl/demo) is present.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg import sql

from etl.pipeline import ImportRequest, run_import
from gisapp.db import migrate, provision
from layers.land import PARCELS
from parcel_file import parcel_frame, write_csv, write_geojson, write_gpkg, write_shapefile_zip

OUT = Path(__file__).resolve().parent / "out"
BENCH_DB = "gisapp_bench"
OGR_TABLE = "bench_ogr_parcels"
# Per format: the writer, our import options, ogr2ogr's extra options (a CSV names no CRS).
FORMATS = {
    "gpkg": (write_gpkg, {}, []),
    "shp.zip": (write_shapefile_zip, {}, []),
    "geojson": (write_geojson, {}, []),
    "csv": (write_csv, {"crs": "EPSG:5899"},
            ["-s_srs", "EPSG:5899", "-oo", "GEOM_POSSIBLE_NAMES=wkt", "-oo",
             "KEEP_GEOM_COLUMNS=NO", "-oo", "AUTODETECT_TYPE=YES"]),
}


def bench_url(database: str = BENCH_DB) -> str:
    """The bench database beside DATABASE_URL (or the local cluster's default)."""
    base = os.environ.get("DATABASE_URL", "postgresql://gisapp:gisapp@127.0.0.1:5433/gisapp")
    return provision.libpq_url(base).rpartition("/")[0] + "/" + database


def prepare_database(url: str) -> None:
    if provision.is_local_url(url):
        provision.ensure_database(url, log=lambda m: print(f"db: {m}"))
    migrate.upgrade(url)


def empty_parcels(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("TRUNCATE {}, {} RESTART IDENTITY").format(
            sql.Identifier(PARCELS.table), sql.Identifier(PARCELS.versions_table)))
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(OGR_TABLE)))


def time_ours(url: str, path: Path, **options) -> tuple[float, dict]:
    started = time.perf_counter()
    result = run_import(url, ImportRequest(PARCELS.id, path, started_by="bench", **options))
    return time.perf_counter() - started, {"loaded": result.rows_loaded,
                                           "rejected": result.rows_rejected,
                                           "summary": result.summary, "timings": result.timings}


def ogr_pg(url: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    return "PG:" + " ".join(f"{k}={info[k]}" for k in ("dbname", "host", "port", "user",
                                                        "password") if k in info)


def time_ogr2ogr(url: str, path: Path, extra: list[str] | None = None) -> float:
    source = f"/vsizip/{path}" if path.suffix == ".zip" else str(path)
    cmd = ["ogr2ogr", "-f", "PostgreSQL", ogr_pg(url), source, "-nln", OGR_TABLE, "-overwrite",
           "-t_srs", "EPSG:4326", "-nlt", "PROMOTE_TO_MULTI", "-lco", "GEOMETRY_NAME=geom",
           "--config", "PG_USE_COPY", "YES", *(extra or [])]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def report(label: str, rows: int, ours: float, ogr: float | None, detail: dict) -> None:
    line = f"{label:<34} {rows:>8,} rows  ours {ours:7.2f} s {rows / ours:>9,.0f} rows/s"
    if ogr is not None:
        line += (f"  ogr2ogr {ogr:6.2f} s {rows / ogr:>9,.0f} rows/s"
                 f"  ratio {(rows / ours) / (rows / ogr):.2f}x")
    print(line)
    print(f"{'':<34} {detail['summary']}  phases (s): "
          + ", ".join(f"{k} {v:.2f}" for k, v in detail["timings"].items()))


def bench_generated(url: str, rows: int) -> None:
    OUT.mkdir(exist_ok=True)
    paths = {ext: OUT / f"parcels_{rows}.{ext}" for ext in FORMATS}
    missing = [ext for ext, path in paths.items() if not path.exists()]
    if missing:
        started = time.perf_counter()
        frame = parcel_frame(rows)
        for ext in missing:
            FORMATS[ext][0](frame, paths[ext])
        print(f"generated {rows:,} parcels in {time.perf_counter() - started:.1f} s: "
              + ", ".join(paths[ext].name for ext in missing))
    for ext, path in paths.items():
        _, options, ogr_options = FORMATS[ext]
        empty_parcels(url)
        ours, detail = time_ours(url, path, **options)
        ogr = time_ogr2ogr(url, path, ogr_options)
        report(f"{path.name} into empty layer", rows, ours, ogr, detail)
        if ext == "gpkg":
            again, detail = time_ours(url, path, **options)
            report(f"{path.name} again (no changes)", rows, again, None, detail)


def bench_demo(url: str) -> None:
    try:
        from etl.demo.generate import generate_city
    except ImportError:
        print("demo parcels: skipped, the demo generator (etl/demo) is not there yet")
        return
    manifest = generate_city(OUT / "demo")
    entry = next(e for e in manifest["entries"] if e.get("layer") == PARCELS.id)
    path = OUT / "demo" / entry["file"]
    empty_parcels(url)
    ours, detail = time_ours(url, path, crs=entry.get("crs"), encoding=entry.get("encoding"),
                             source_layer=entry.get("source_layer"))
    ogr = time_ogr2ogr(url, path)
    report(f"demo {entry['file']}", detail["loaded"] + detail["rejected"], ours, ogr, detail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--database", default=BENCH_DB,
                        help="bench database on the same cluster (emptied and reloaded)")
    args = parser.parse_args()
    url = bench_url(args.database)
    prepare_database(url)
    load = os.getloadavg()[0]
    print(f"bench database {url}; load average {load:.1f} on {os.cpu_count()} cores")
    if not args.skip_demo:
        bench_demo(url)
    bench_generated(url, args.rows)


if __name__ == "__main__":
    main()
