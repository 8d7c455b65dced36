"""An uploaded GeoTIFF, checked by name and magic bytes, written into its own spool."""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import BinaryIO

from gisapp.errors import BadRequest
from gisapp.etl_ops import spool
from gisapp.settings import Settings

RASTER_SUFFIXES = (".tif", ".tiff")
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # TIFF and BigTIFF


def save_raster(settings: Settings, upload: BinaryIO, filename: str) -> Path:
    """spool/<uuid>/upload.tif from an upload; the caller removes the spool afterwards."""
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix not in RASTER_SUFFIXES:
        raise BadRequest(f"raster file type {suffix or '(none)'!r} is not accepted; "
                         f"accepted: {', '.join(RASTER_SUFFIXES)} (GeoTIFF)")
    where = spool.new_spool(settings.data_dir)
    try:
        target = where / "upload.tif"
        spool.copy_limited(upload, target, spool.Limits.from_settings(settings).upload_bytes)
        with open(target, "rb") as fh:
            if fh.read(4) not in TIFF_MAGIC:
                raise BadRequest(f"{filename} is not a GeoTIFF (no TIFF header)")
        return target
    except BaseException:
        spool.remove_spool(where)
        raise
