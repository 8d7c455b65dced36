"""Load the demo city through the ETL: generate when needed, import every manifest entry once.

A load is tagged on its runs (`etl_runs.started_by = "demo <version>/<seed>"`), so a second
load finds the city already loaded and does nothing unless forced.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psycopg

from etl.demo import GENERATOR_VERSION
from etl.demo.generate import DEFAULT_PARCELS, MANIFEST, generate_city
from store import run_lifecycle

Progress = Callable[[str], None]


@dataclass
class LoadLine:
    """One manifest entry's outcome."""

    name: str
    status: str
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    seconds: float = 0.0
    run_id: int | None = None
    error: str | None = None


class DemoLoadFailed(RuntimeError):
    """At least one import run failed; `.lines` holds every entry's outcome."""

    def __init__(self, lines: list[LoadLine]):
        failed = [f"{line.name}: {line.error}" for line in lines if line.status != "succeeded"]
        super().__init__("demo load failed for " + "; ".join(failed))
        self.lines = lines


def run_tag(seed: int, parcel_count: int = DEFAULT_PARCELS) -> str:
    """The started_by tag of a demo load's runs."""
    tag = f"demo {GENERATOR_VERSION}/{seed}"
    return tag if parcel_count == DEFAULT_PARCELS else f"{tag}/{parcel_count}"


def read_manifest(directory: Path) -> dict | None:
    """The manifest in `directory`, or None when there is none or it is unreadable."""
    try:
        return json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def ensure_generated(directory: Path, seed: int, parcel_count: int) -> tuple[dict, bool]:
    """The directory's manifest, generating the city first unless it matches; (manifest, made)."""
    manifest = read_manifest(directory)
    if manifest and (manifest.get("version"), manifest.get("seed"), manifest.get("parcels")) == (
            GENERATOR_VERSION, seed, parcel_count):
        return manifest, False
    return generate_city(directory, seed=seed, parcel_count=parcel_count), True


def is_loaded(conninfo: str, manifest: dict) -> bool:
    """Whether the latest successful run of every entry is this city's (and rasters are registered)."""
    tag = run_tag(manifest["seed"], manifest["parcels"])
    with psycopg.connect(conninfo) as conn:
        for entry in manifest["entries"]:
            if entry["kind"] == "raster":
                row = conn.execute(
                    "SELECT r.started_by FROM rasters x JOIN etl_runs r ON r.id = x.source_run_id"
                    " WHERE x.name = %s", (entry["name"],)).fetchone()
                if row is None or row[0] != tag:
                    return False
                continue
            row = conn.execute(
                "SELECT started_by FROM etl_runs WHERE layer = %s AND status = 'succeeded'"
                " AND NOT dry_run ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT 1",
                (entry["layer"],)).fetchone()
            if row is None or row[0] != tag:
                return False
    return True


def load_city(conninfo: str, directory: Path, data_dir: Path, manifest: dict,
              progress: Progress | None = None) -> list[LoadLine]:
    """Import every manifest entry in order; raise DemoLoadFailed if any run failed.

    Rejected rows do not fail a load (the demo has deliberate bad rows); a failed run does.
    Every entry is attempted, so one failure does not hide others.
    """
    from etl.pipeline import ImportFailed, ImportRequest, run_import
    from etl.rasters import import_raster

    tag = run_tag(manifest["seed"], manifest["parcels"])
    lines = []
    for entry in manifest["entries"]:
        name = entry["layer"] if entry["kind"] == "vector" else entry["name"]
        if progress:
            progress(name)
        started = time.perf_counter()
        path = directory / entry["file"]
        if entry["kind"] == "vector":
            request = ImportRequest(layer=entry["layer"], path=path, mode=entry["mode"],
                                    crs=entry["crs"], encoding=entry["encoding"],
                                    source_layer=entry["source_layer"], started_by=tag)
            try:
                result = run_import(conninfo, request)
                line = LoadLine(name, result.status, result.rows_read, result.rows_loaded,
                                result.rows_rejected, run_id=result.run_id)
            except ImportFailed as exc:
                line = LoadLine(name, "failed", exc.result.rows_read, 0, exc.result.rows_rejected,
                                run_id=exc.result.run_id, error=exc.message)
        else:
            line = _load_raster(conninfo, name, path, data_dir, entry.get("unit"), tag,
                                import_raster)
        line.seconds = round(time.perf_counter() - started, 2)
        lines.append(line)
    if any(line.status != "succeeded" for line in lines):
        raise DemoLoadFailed(lines)
    lines.append(_register_things(conninfo, progress))
    return lines


def _register_things(conninfo: str, progress: Progress | None) -> LoadLine:
    """The monitored assets' things and datastreams (layers.sensors), made once per feature."""
    from store.sensor_things import register_things

    if progress:
        progress("sensor things")
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        counts = register_things(conn)
    things = sum(counts.values())
    return LoadLine("sensor things", "succeeded", things, things,
                    seconds=round(time.perf_counter() - started, 2))


def _load_raster(conninfo: str, name: str, path: Path, data_dir: Path, unit: str | None,
                 tag: str, import_raster) -> LoadLine:
    try:
        row = import_raster(conninfo, name, path, data_dir, unit=unit)
    except Exception as exc:  # the raster import records its own failed run
        return LoadLine(name, "failed", 1, 0, 0, error=str(exc) or type(exc).__name__)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        run_lifecycle.set_started_by(conn, row["run_id"], tag)
    return LoadLine(name, "succeeded", 1, 1, 0, run_id=row["run_id"])
