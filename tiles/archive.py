"""Tile archives for offline use or a CDN: PMTiles v3 and MBTiles 1.3, gzip-compressed MVT.

Archives leave the access control behind, so they always hold the public attributes only.
Tiles are rendered in PMTiles tile-id order (zoom, then Hilbert curve), so the PMTiles
archive is clustered; empty tiles are not stored.
"""
from __future__ import annotations

import gzip
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from layers import Access, Layer
from tiles.grid import Tile, tiles_in_bbox
from tiles.sql import DEFAULT_MAX_FEATURES, render_tile
from tiles.tilejson import build_tilejson

PUBLIC = frozenset({Access.PUBLIC})
FORMATS = (".pmtiles", ".mbtiles")


class ArchiveError(ValueError):
    """An archive that cannot be written as asked."""


@dataclass
class ExportSummary:
    """What an export wrote."""

    path: Path
    tiles: int = 0
    stored: int = 0
    size_bytes: int = 0
    seconds: float = 0.0


def _metadata(layers: tuple[Layer, ...], zooms: range, bbox) -> dict[str, Any]:
    doc = build_tilejson(layers, PUBLIC, "", tuple(bbox))
    return {"name": doc["name"], "description": doc["description"], "format": "pbf",
            "minzoom": zooms.start, "maxzoom": zooms.stop - 1, "bounds": list(bbox),
            "vector_layers": doc["vector_layers"]}


def _rendered(conn: Any, layers, zooms: range, bbox, max_features: int,
              progress: Callable[[int], None] | None):
    tiles = sorted(tiles_in_bbox(bbox, zooms), key=lambda t: zxy_to_tileid(t.z, t.x, t.y))
    for tile in tiles:
        data = render_tile(conn, layers, tile, PUBLIC, max_features).data
        if progress:
            progress(1)
        yield tile, (gzip.compress(data, 6, mtime=0) if data else b"")


def export_archive(conn: Any, layers: tuple[Layer, ...], zooms: range,
                   bbox: tuple[float, float, float, float], out: Path,
                   max_features: int = DEFAULT_MAX_FEATURES,
                   progress: Callable[[int], None] | None = None) -> ExportSummary:
    """Render every tile of bbox × zooms and write them to out (.pmtiles or .mbtiles)."""
    out = Path(out)
    if out.suffix not in FORMATS:
        raise ArchiveError(f"archive {out.name} must end in {' or '.join(FORMATS)}")
    started = time.perf_counter()
    summary = ExportSummary(out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    tiles = _rendered(conn, layers, zooms, bbox, max_features, progress)
    meta = _metadata(layers, zooms, bbox)
    try:
        if out.suffix == ".pmtiles":
            _write_pmtiles(tmp, tiles, meta, bbox, summary)
        else:
            _write_mbtiles(tmp, tiles, meta, summary)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed export leaves no half-written archive behind
        raise
    os.replace(tmp, out)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _write_pmtiles(path: Path, tiles, meta: dict, bbox, summary: ExportSummary) -> None:
    with open(path, "wb") as fh:
        writer = Writer(fh)
        for tile, data in tiles:
            summary.tiles += 1
            if data:
                writer.write_tile(zxy_to_tileid(tile.z, tile.x, tile.y), data)
                summary.stored += 1
                summary.size_bytes += len(data)
        if not summary.stored:
            raise ArchiveError("no tile in that area and zoom range holds any feature")
        west, south, east, north = bbox
        e7 = 10_000_000
        writer.finalize({
            "tile_type": TileType.MVT, "tile_compression": Compression.GZIP,
            "min_lon_e7": int(west * e7), "min_lat_e7": int(south * e7),
            "max_lon_e7": int(east * e7), "max_lat_e7": int(north * e7),
            "center_zoom": meta["minzoom"], "center_lon_e7": int((west + east) / 2 * e7),
            "center_lat_e7": int((south + north) / 2 * e7),
        }, meta)


def _write_mbtiles(path: Path, tiles, meta: dict, summary: ExportSummary) -> None:
    db = sqlite3.connect(path)
    try:
        db.executescript(
            "CREATE TABLE metadata (name TEXT, value TEXT);"
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB);"
            "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);")
        for tile, data in tiles:
            summary.tiles += 1
            if data:  # MBTiles rows count from the south (TMS)
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                           (tile.z, tile.x, (1 << tile.z) - 1 - tile.y, data))
                summary.stored += 1
                summary.size_bytes += len(data)
        west, south, east, north = meta["bounds"]
        rows = {"name": meta["name"], "description": meta["description"], "format": "pbf",
                "minzoom": str(meta["minzoom"]), "maxzoom": str(meta["maxzoom"]),
                "bounds": f"{west},{south},{east},{north}",
                "center": f"{(west + east) / 2},{(south + north) / 2},{meta['minzoom']}",
                "type": "overlay", "version": "1.3",
                "json": json.dumps({"vector_layers": meta["vector_layers"]})}
        db.executemany("INSERT INTO metadata VALUES (?, ?)", rows.items())
        db.commit()
    finally:
        db.close()


def tile_of_entry(z: int, column: int, row: int) -> Tile:
    """The XYZ tile of an MBTiles (TMS) row."""
    return Tile(z, column, (1 << z) - 1 - row)
