"""Serving a composite tile: versions, ETag, memory and disk caches, single-flight render."""
from __future__ import annotations

import gzip
import hashlib
import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import psycopg

from layers import LAYERS, Access, Layer
from tiles.cache import DiskStore, MemoryLRU, SingleFlight, TileKey
from tiles.grid import Tile
from tiles.sql import active_layers, render_tile
from tiles.tilejson import data_bounds
from tiles.versions import Bbox, versions_for

GZIP_LEVEL = 6

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TileBody:
    """A tile ready to send: gzip-compressed when `gzipped`, empty for a 204."""

    data: bytes
    gzipped: bool

    @property
    def is_empty(self) -> bool:
        return not self.data


def access_key(levels: frozenset[Access]) -> str:
    """A stable name for a set of access levels, part of every cache key."""
    return "+".join(sorted(level.value for level in levels)) or "none"


class TileLookup(NamedTuple):
    """What a tile request resolves to before any rendering."""

    key: TileKey
    ids: tuple[str, ...]
    versions: tuple[int, ...]


class TileService:
    """Tiles for one database: renders, caches, and invalidates on layer changes.

    `connect` yields a DB-API (psycopg) connection, normally from the app's pool.
    `cache` is "off", "memory" or "memory+disk" (disk under `disk_root`).
    """

    def __init__(self, conninfo: str, connect: Callable[[], AbstractContextManager[Any]],
                 cache: str = "memory+disk", memory_bytes: int = 128 << 20,
                 disk_root: Path | None = None, max_features: int = 20_000):
        self.connect = connect
        self.max_features = max_features
        self.versions = versions_for(conninfo)
        try:
            self.versions.refresh()
        except psycopg.Error as exc:  # the listener retries; get() reads the table meanwhile
            log.warning("could not read layer versions at start-up: %s", exc)
        self.memory = MemoryLRU(memory_bytes) if cache != "off" else None
        self.disk = DiskStore(disk_root) if cache == "memory+disk" and disk_root else None
        if self.disk is not None:
            self.disk.adopt({lid: self.versions.snapshot().get(lid, 0) for lid in LAYERS})
            self.versions.subscribe(self.disk)
        self.flights = SingleFlight()
        self._bounds: dict[tuple, tuple[float, ...] | None] = {}

    def lookup(self, layers: tuple[Layer, ...], levels: frozenset[Access],
               tile: Tile) -> TileLookup:
        """The tile's cache key, the layers drawn at its zoom and their current versions."""
        ids = active_layers(layers, tile.z)
        key = TileKey(tuple(layer.id for layer in layers), access_key(levels), tile)
        return TileLookup(key, ids, self.versions.get(ids))

    @staticmethod
    def etag(found: TileLookup, gzipped: bool) -> str:
        """A strong ETag from everything the tile depends on, without rendering it."""
        key = found.key
        text = f"{','.join(key.layers)}|{key.access}|{key.tile}|{found.versions}|{gzipped}"
        return '"' + hashlib.blake2s(text.encode(), digest_size=12).hexdigest() + '"'

    def get_tile(self, layers: tuple[Layer, ...], levels: frozenset[Access], tile: Tile,
                 found: TileLookup | None = None) -> TileBody:
        """The tile, from the caches when they hold the current data versions.

        `found` is this tile's lookup when the caller already made it (for the ETag), so the
        versions are read once and the body matches the ETag.
        """
        if self.memory is None:
            return TileBody(self._render(layers, levels, tile).data, False)
        key, ids, versions = found or self.lookup(layers, levels, tile)
        data = self.memory.get((key, versions))
        if data is None:
            data = self.flights.do((key, versions),
                                   lambda: self._fill(key, ids, versions, layers, levels))
        return TileBody(data, True)

    def data_bounds(self, layers: tuple[Layer, ...]) -> tuple[float, ...] | None:
        """The lon/lat extent of the layers' data, computed once per set of data versions."""
        ids = tuple(layer.id for layer in layers)
        key = (ids, self.versions.get(ids))
        if key in self._bounds:
            return self._bounds[key]
        with self.connect() as conn:
            value = data_bounds(conn, layers)
        if len(self._bounds) >= 1024:  # entries of old versions are never asked for again
            self._bounds.clear()
        self._bounds[key] = value
        return value

    def layer_loaded(self, layer: str, bbox: Bbox | None) -> None:
        """An import of `layer` committed in this process: visible from the next request.

        Called by the ETL after commit, before its NOTIFY may have reached the listener.
        """
        with self.connect() as conn:
            cur = conn.cursor()
            cur.execute("SELECT data_version FROM layer_state WHERE layer = %s", (layer,))
            row = cur.fetchone()
            cur.close()
            conn.rollback()
        if row is not None:
            self.versions.apply_change(layer, int(row[0]), bbox)

    def _fill(self, key: TileKey, ids: tuple[str, ...], versions: tuple[int, ...],
              layers: tuple[Layer, ...], levels: frozenset[Access]) -> bytes:
        if self.disk is not None and self.disk.is_synced(ids, versions):
            data = self.disk.get(key)
            if data is not None:
                self.memory.put((key, versions), data)
                return data
        rendered = self._render(layers, levels, key.tile)
        data = gzip.compress(rendered.data, GZIP_LEVEL, mtime=0) if rendered.data else b""
        self.memory.put((key, rendered.versions), data)
        if self.disk is not None:
            self.disk.put(key, data, ids, rendered.versions)
        return data

    def _render(self, layers: tuple[Layer, ...], levels: frozenset[Access], tile: Tile):
        with self.connect() as conn:
            return render_tile(conn, layers, tile, levels, self.max_features)
