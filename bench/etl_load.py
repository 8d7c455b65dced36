"""Bench: our import pipeline against ogr2ogr (-f PostgreSQL, COPY) on the same parcel files.

One command: `.venv/bin/python bench/etl_load.py [--rows 200000,1000000] [--database NAME]`.
Generates a parcel file of each size in each accepted format (GeoPackage, zipped Shapefile,
GeoJSON, CSV with WKT; EPSG:5899) into bench/out/, then per file: our full pipeline
(`run_import`: decode, reproject, validate, rejects, history, overview, tile invalidation)
replacing the parcels of an empty layer, ogr2ogr (PG_USE_COPY, same reprojection) into a
new table, our upsert of the same file over the loaded layer (the diff in SQL finds
every row unchanged), and our upsert of a changed copy (10% of the parcels with another land
use or moved by 0.5 m, all over the city) against ogr2ogr loading that copy. Each of our
imports runs in its own process, so its peak RSS is its own. Prints rows/s, the ratio to
ogr2ogr and the load average with every result, and CPU-seconds (ours by phase; the
database's backends counted on a local cluster) so that a quiet machine's times can be
estimated on a busy one. Also the demo parcels when the demo generator (etl/demo) is present.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

from cpu_seconds import ServerCpu, own_cpu
from etl import pipeline
from etl.pipeline import ImportRequest, run_import
from gisapp.db import migrate, provision
from gisapp.secret_masking import mask_passwords
from layers.land import PARCELS
from parcel_file import changed_frame, parcel_frame, write_csv, write_geojson, write_gpkg, write_shapefile_zip

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
    """One import in a child process (its own peak RSS): its seconds (run_import, from the
    call to its return: not Python's start-up) and what it reported."""
    request = json.dumps({"path": str(path), **options})
    done = subprocess.run([sys.executable, __file__, "--one", request, "--url", url],
                          check=True, capture_output=True, text=True)
    detail = json.loads(done.stdout.strip().splitlines()[-1])
    return detail["seconds"], detail


def import_one(url: str, request: str) -> None:
    """The child of time_ours: run one import, print its outcome and peak RSS as JSON."""
    options = json.loads(request)
    path = Path(options.pop("path"))
    server, cpu = _cpu_by_phase(url)
    started, cpu_started = time.perf_counter(), own_cpu()
    result = run_import(url, ImportRequest(PARCELS.id, path, started_by="bench", **options))
    print(json.dumps({"seconds": time.perf_counter() - started, "loaded": result.rows_loaded,
                      "rejected": result.rows_rejected, "summary": result.summary,
                      "timings": result.timings, "cpu": cpu,
                      "cpu_ours": own_cpu() - cpu_started,
                      "cpu_server": server.stop() if server else None,
                      "rss_mib": peak_rss_mib()}))


def _cpu_by_phase(url: str) -> tuple[ServerCpu | None, dict[str, float]]:
    """Count CPU-seconds (this process and, on a local cluster, the database's backends)
    per phase of the pipeline's timer, into the returned dict."""
    server = ServerCpu(_database(url)).start() if provision.is_local_url(url) else None
    cpu: dict[str, float] = {}
    last = [own_cpu()]
    lap = pipeline._Timer.lap

    def counted(timer, phase: str) -> None:
        now = own_cpu() + (server.seconds() if server else 0.0)
        cpu[phase] = round(cpu.get(phase, 0.0) + now - last[0], 2)
        last[0] = now
        lap(timer, phase)
    pipeline._Timer.lap = counted
    return server, cpu


def _database(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["dbname"]


def peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM of its own memory map. getrusage's ru_maxrss is kept
    across exec, so in a child it also counts the parent's peak (the generated frames)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ogr_pg(url: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    return "PG:" + " ".join(f"{k}={info[k]}" for k in ("dbname", "host", "port", "user",
                                                        "password") if k in info)


def time_ogr2ogr(url: str, path: Path, extra: list[str] | None = None) -> tuple[float, dict]:
    """ogr2ogr's seconds, and its CPU-seconds (its own and its backend's on a local cluster)."""
    source = f"/vsizip/{path}" if path.suffix == ".zip" else str(path)
    cmd = ["ogr2ogr", "-f", "PostgreSQL", ogr_pg(url), source, "-nln", OGR_TABLE, "-overwrite",
           "-t_srs", "EPSG:4326", "-nlt", "PROMOTE_TO_MULTI", "-lco", "GEOMETRY_NAME=geom",
           "--config", "PG_USE_COPY", "YES", *(extra or [])]
    server = ServerCpu(_database(url)).start() if provision.is_local_url(url) else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, {"cpu_ogr2ogr": after.ru_utime + after.ru_stime - before.ru_utime
                     - before.ru_stime, "cpu_server": server.stop() if server else None}


def load_average() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def _cpu_text(cpu: float | None) -> str:
    return "?" if cpu is None else f"{cpu:.1f}"


def report(label: str, rows: int, ours: float, ogr: tuple[float, dict] | None,
           detail: dict) -> None:
    line = (f"{label:<40} {rows:>9,} rows  ours {ours:7.2f} s {rows / ours:>8,.0f} rows/s"
            f"  peak RSS {detail['rss_mib']:6,.0f} MiB")
    if ogr is not None:
        line += (f"  ogr2ogr {ogr[0]:6.2f} s {rows / ogr[0]:>8,.0f} rows/s"
                 f"  ratio {ogr[0] / ours:.2f}x")
    print(f"{line}  {load_average()}", flush=True)
    cpu = (f"{'':<40} CPU-s: ours {detail['cpu_ours']:.1f} + server "
           f"{_cpu_text(detail['cpu_server'])}")
    if ogr is not None:
        cpu += (f"; ogr2ogr {ogr[1]['cpu_ogr2ogr']:.1f} + server "
                f"{_cpu_text(ogr[1]['cpu_server'])}")
        if detail["cpu_server"] is not None and ogr[1]["cpu_server"] is not None:
            theirs = ogr[1]["cpu_ogr2ogr"] + ogr[1]["cpu_server"]
            cpu += f"; CPU ratio {theirs / (detail['cpu_ours'] + detail['cpu_server']):.2f}x"
    print(cpu, flush=True)
    print(f"{'':<40} {detail['summary']}  phases (s): "
          + ", ".join(f"{k} {v:.2f}" for k, v in detail["timings"].items()), flush=True)
    print(f"{'':<40} CPU-s by phase (ours + server): "
          + ", ".join(f"{k} {v:.2f}" for k, v in detail["cpu"].items()), flush=True)


def bench_generated(url: str, rows: int, formats: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    paths = {ext: OUT / f"parcels_{rows}.{ext}" for ext in formats}
    changed = {ext: OUT / f"parcels_{rows}_changed.{ext}" for ext in formats}
    for files, make in ((paths, lambda f: f), (changed, changed_frame)):
        missing = [ext for ext, path in files.items() if not path.exists()]
        if missing:
            started = time.perf_counter()
            frame = make(parcel_frame(rows))
            for ext in missing:
                FORMATS[ext][0](frame, files[ext])
            del frame
            print(f"generated {rows:,} parcels in {time.perf_counter() - started:.1f} s: "
                  + ", ".join(files[ext].name for ext in missing), flush=True)
    for ext, path in paths.items():
        _, options, ogr_options = FORMATS[ext]
        empty_parcels(url)
        ours, detail = time_ours(url, path, **options)
        ogr = time_ogr2ogr(url, path, ogr_options)
        report(f"{path.name} replace, empty layer", rows, ours, ogr, detail)
        again, detail = time_ours(url, path, mode="upsert", **options)
        report(f"{path.name} upsert, loaded layer", rows, again, ogr, detail)
        # a re-survey: 10% of the parcels changed (land use or a 0.5 m move), all over the city
        ogr_changed = time_ogr2ogr(url, changed[ext], ogr_options)
        later, detail = time_ours(url, changed[ext], mode="upsert", **options)
        report(f"{changed[ext].name} upsert, 10% changed", rows, later, ogr_changed, detail)


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
    options = {k: entry[k] for k in ("crs", "encoding", "source_layer") if entry.get(k)}
    ours, detail = time_ours(url, path, **options)
    ogr = time_ogr2ogr(url, path)
    report(f"demo {entry['file']}", detail["loaded"] + detail["rejected"], ours, ogr, detail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="200000,1000000",
                        help="comma-separated file sizes (parcels)")
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help=f"comma-separated file formats, of {', '.join(FORMATS)}")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--database", default=BENCH_DB,
                        help="bench database on the same cluster (emptied and reloaded)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one import, as JSON
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import_one(args.url, args.one)
        return
    formats = args.formats.split(",")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        parser.error(f"unknown format {', '.join(unknown)}: choose from {', '.join(FORMATS)}")
    url = bench_url(args.database)
    prepare_database(url)
    print(f"bench database {mask_passwords(url)}; {load_average()} on {os.cpu_count()} cores",
          flush=True)
    if not args.skip_demo:
        bench_demo(url)
    for rows in (int(n) for n in args.rows.split(",")):
        bench_generated(url, rows, formats)


if __name__ == "__main__":
    main()
