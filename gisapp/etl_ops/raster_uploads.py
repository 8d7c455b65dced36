"""An uploaded GeoTIFF: checked by name, magic bytes and header in the web request, converted
to a Cloud-Optimized GeoTIFF by the worker.

Nothing here reads a pixel in the web thread: the header gives the size, bands, CRS and
bounds, the worker does the statistics and the conversion.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, ContextManager

import psycopg

from etl.errors import ImportRefused
from etl.rasters import RasterLimits, check_header, import_raster, raster_run_layer
from gisapp.errors import BadRequest, PayloadTooLarge
from gisapp.etl_ops import spool
from gisapp.settings import Settings
from store.run_lifecycle import fail_unfinished, queue_run

RASTER_TASK = "etl:import_raster"
RASTER_SUFFIXES = (".tif", ".tiff")
Defer = Callable[[psycopg.Connection, int, str, dict, str], int]
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # TIFF and BigTIFF


def limits(settings: Settings) -> RasterLimits:
    return RasterLimits(pixels=settings.max_raster_pixels, bands=settings.max_raster_bands)


def save_raster(settings: Settings, upload: BinaryIO, filename: str) -> Path:
    """spool/<uuid>/upload.tif from an upload; the caller removes the spool afterwards."""
    suffix = PurePosixPath(spool.check_filename(filename).lower()).suffix
    if suffix not in RASTER_SUFFIXES:
        raise BadRequest(f"raster file type {suffix or '(none)'!r} is not accepted; "
                         f"accepted: {', '.join(RASTER_SUFFIXES)} (GeoTIFF)")
    where = spool.new_spool(settings.data_dir)
    try:
        target = where / "upload.tif"
        try:
            spool.copy_limited(upload, target, settings.max_raster_mb << 20)
        except PayloadTooLarge:
            raise PayloadTooLarge(f"{filename} is larger than the {settings.max_raster_mb}"
                                  " MB a raster may be (GISAPP_MAX_RASTER_MB)") from None
        with open(target, "rb") as fh:
            if fh.read(4) not in TIFF_MAGIC:
                raise BadRequest(f"{filename} is not a GeoTIFF (no TIFF header)")
        return target
    except BaseException:
        spool.remove_spool(where)
        raise


def queue_raster(db: Callable[[], ContextManager[psycopg.Connection]], settings: Settings,
                 name: str, path: Path, filename: str, unit: str | None,
                 started_by: str | None, defer: Defer) -> int:
    """Check the header, then queue the conversion; the run's id.

    A refused header is recorded as a failed run and raised as a 400. `db()` opens a
    transaction; `defer(conn, run_id, layer, options, task)` inserts the worker's job in it.
    """
    layer = raster_run_layer(name)
    record = dict(layer=layer, source=f"upload:{filename}", source_format="GTiff",
                  mode="replace", encoding=None, dry_run=False, started_by=started_by)
    try:
        check_header(path, limits(settings), filename)
    except ImportRefused as exc:
        with db() as conn:
            fail_unfinished(conn, queue_run(conn, **record), str(exc))
        raise BadRequest(str(exc)) from None
    with db() as conn:
        run_id = queue_run(conn, **record)
        defer(conn, run_id, layer, {"name": name, "path": str(path),
                                    "spool": str(path.parent), "unit": unit,
                                    "source_name": filename}, RASTER_TASK)
    return run_id


def execute_raster_run(conninfo: str, settings: Settings, run_id: int, options: dict) -> str:
    """The worker's task: convert and register the uploaded raster; the run's final status."""
    try:
        row = import_raster(conninfo, options["name"], Path(options["path"]), settings.data_dir,
                            unit=options.get("unit"), run_id=run_id,
                            source_name=options.get("source_name"))
    except ImportRefused as exc:
        with psycopg.connect(conninfo, autocommit=True) as conn:  # refused before it started
            fail_unfinished(conn, run_id, str(exc))
        return "failed"
    except Exception:  # recorded on the run by import_raster
        return "failed"
    finally:
        spool.remove_spool(Path(options["spool"]))
    return "skipped" if row is None else "succeeded"
