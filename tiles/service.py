"""Serving a composite tile: versions, ETag, memory and disk caches, single-flight render."""
from __future__ import annotations

import hashlib
import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple, TypeVar

import psycopg
from isal import igzip

from layers import LAYERS, Access, Layer
from tiles.cache import DiskStore, MemoryLRU, SingleFlight, TileKey
from tiles.grid import Tile
from tiles.sql import active_layers, render_tile
from tiles.tilejson import data_bounds, osm_layers
from tiles.versions import Bbox, DatabaseUnreachable, versions_for

# Tiles are gzipped with ISA-L (Intel's deflate), the same gzip format every client
# inflates. On the demo city's z14-16 composite tiles (mean 98 KB), level for level it
# compresses as well as zlib at a fifth of the time: its level 1 takes 0.23 ms a tile
# against zlib's 1.09 ms (both to 37 %), its level 3 0.43 ms to 36.8 % against zlib 6's
# 2.7 ms to 34.5 %. Level 1 serves uncached tiles on the fly; level 3 fills the caches,
# whose tiles are compressed once and sent many times.
GZIP_ON_THE_FLY = 1
GZIP_CACHED = 3

log = logging.getLogger(__name__)
T = TypeVar("T")


class ConnectionLost(Exception):
    """A tile connection was found dead (say the database restarted) and has been dropped.

    Raised by a `connect` that does not ping its connections before use; TileService then
    makes the read once more on a new connection.
    """


def gzip_tile(data: bytes, level: int) -> bytes:
    """The tile gzip-compressed at an ISA-L level (0-3), with no timestamp."""
    return igzip.compress(data, level, mtime=0)


def gunzip_tile(data: bytes) -> bytes:
    return igzip.decompress(data)


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
    """What a tile request resolves to before any rendering.

    `lsn`: a replica may render the tile once it has replayed this far (the commits of
    `versions`, or the caller's own last write if later).
    """

    key: TileKey
    ids: tuple[str, ...]
    versions: tuple[int, ...]
    lsn: int = 0


class TileService:
    """Tiles for one database: renders, caches, and invalidates on layer changes.

    `connect` yields a DB-API (psycopg) connection to the primary, normally from a pool;
    it may raise ConnectionLost for one it finds dead, and DatabaseUnreachable when it
    cannot connect. `read_connect(lsn)`, when given, yields one to a replica that has
    replayed `lsn`, or to the primary when none has (gisapp.db.replica_health).
    `cache` is "off", "memory" or "memory+disk" (disk under `disk_root`). `conninfo` is
    the database itself, never a transaction pooler: its version listener LISTENs.
    """

    def __init__(self, conninfo: str, connect: Callable[[], AbstractContextManager[Any]],
                 cache: str = "memory+disk", memory_bytes: int = 128 << 20,
                 disk_root: Path | None = None, max_features: int = 20_000,
                 read_connect: Callable[[int], AbstractContextManager[Any]] | None = None,
                 prepare: bool = True):
        self.connect = connect
        self.read_connect = read_connect
        self.max_features = max_features
        self.prepare = prepare  # False behind a transaction-mode pooler (tiles/sql.py)
        self.versions = versions_for(conninfo)
        try:
            self.versions.refresh()
        except (DatabaseUnreachable, psycopg.Error) as exc:  # the listener retries; get() reads
            log.warning("could not read layer versions at start-up: %s", exc)
        self.memory = MemoryLRU(memory_bytes) if cache != "off" else None
        self.disk = DiskStore(disk_root) if cache == "memory+disk" and disk_root else None
        if self.disk is not None:
            self.disk.adopt({lid: self.versions.snapshot().get(lid, 0) for lid in LAYERS})
            self.versions.subscribe(self.disk)
        self.flights = SingleFlight()
        self._bounds: dict[tuple, tuple[float, ...] | None] = {}
        self._osm: dict[tuple, frozenset[str]] = {}

    def lookup(self, layers: tuple[Layer, ...], levels: frozenset[Access],
               tile: Tile) -> TileLookup:
        """The tile's cache key, the layers drawn at its zoom and their current versions."""
        ids = active_layers(layers, tile.z)
        key = TileKey(tuple(layer.id for layer in layers), access_key(levels), tile)
        return TileLookup(key, ids, *self.versions.state(ids))

    @staticmethod
    def etag(found: TileLookup, gzipped: bool, matrix_set: str = "") -> str:
        """A strong ETag from everything the tile depends on, without rendering it.

        `matrix_set` names a grid other than Web Mercator the tile address is in.
        """
        key = found.key
        text = f"{','.join(key.layers)}|{key.access}|{key.tile}|{found.versions}|{gzipped}"
        if matrix_set:
            text += f"|{matrix_set}"
        return '"' + hashlib.blake2s(text.encode(), digest_size=12).hexdigest() + '"'

    def get_tile(self, layers: tuple[Layer, ...], levels: frozenset[Access], tile: Tile,
                 found: TileLookup | None = None) -> TileBody:
        """The tile, from the caches when they hold the current data versions.

        `found` is this tile's lookup when the caller already made it (for the ETag), so the
        versions are read once and the body matches the ETag.
        """
        found = found or self.lookup(layers, levels, tile)
        if self.memory is None:
            return TileBody(self._render(layers, levels, tile, found.lsn).data, False)
        key, ids, versions, lsn = found
        data = self.memory.get((key, versions))
        if data is None:
            data = self.flights.do((key, versions),
                                   lambda: self._fill(key, ids, versions, layers, levels, lsn))
        return TileBody(data, True)

    def data_bounds(self, layers: tuple[Layer, ...]) -> tuple[float, ...] | None:
        """The lon/lat extent of the layers' data, computed once per set of data versions."""
        ids = tuple(layer.id for layer in layers)
        versions, lsn = self.versions.state(ids)
        key = (ids, versions)
        if key in self._bounds:
            return self._bounds[key]
        value = self.read(lambda conn: data_bounds(conn, layers), lsn)
        if len(self._bounds) >= 1024:  # entries of old versions are never asked for again
            self._bounds.clear()
        self._bounds[key] = value
        return value

    def osm_layers(self, layers: tuple[Layer, ...]) -> frozenset[str]:
        """Which of the layers show OpenStreetMap data, once per set of data versions."""
        ids = tuple(layer.id for layer in layers)
        versions, lsn = self.versions.state(ids)
        key = (ids, versions)
        if key not in self._osm:
            if len(self._osm) >= 1024:
                self._osm.clear()
            self._osm[key] = self.read(lambda conn: osm_layers(conn, layers), lsn)
        return self._osm[key]

    def layer_loaded(self, layer: str, bbox: Bbox | None) -> None:
        """An import of `layer` committed in this process: visible from the next request.

        Called by the ETL after commit, before its NOTIFY may have reached the listener.
        """
        def version(conn) -> tuple | None:
            cur = conn.cursor()
            cur.execute("SELECT data_version, (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"
                        " FROM layer_state WHERE layer = %s", (layer,))
            row = cur.fetchone()
            cur.close()
            conn.rollback()
            return row

        row = self.read(version)
        if row is not None:
            self.versions.apply_change(layer, int(row[0]), bbox, int(row[1]))

    def _fill(self, key: TileKey, ids: tuple[str, ...], versions: tuple[int, ...],
              layers: tuple[Layer, ...], levels: frozenset[Access], lsn: int = 0) -> bytes:
        """A memory miss: from the disk store, else built once across all processes.

        Threads of this process already share one call (SingleFlight); the disk store's
        build lock makes the other processes that miss the same tile wait for its build and
        then read it from the store, instead of running the tile statement again.
        """
        if self.disk is None:
            return self._build(key, ids, layers, levels, lsn)
        data = self._from_disk(key, ids, versions)
        if data is not None:
            return data
        with self.disk.build_lock(key):
            data = self._from_disk(key, ids, versions)
            return data if data is not None else self._build(key, ids, layers, levels, lsn)

    def _from_disk(self, key: TileKey, ids: tuple[str, ...],
                   versions: tuple[int, ...]) -> bytes | None:
        if not self.disk.is_synced(ids, versions):
            return None
        data = self.disk.get(key)
        if data is not None:
            self.memory.put((key, versions), data)
        return data

    def _build(self, key: TileKey, ids: tuple[str, ...], layers: tuple[Layer, ...],
               levels: frozenset[Access], lsn: int = 0) -> bytes:
        rendered = self._render(layers, levels, key.tile, lsn)
        data = gzip_tile(rendered.data, GZIP_CACHED) if rendered.data else b""
        self.memory.put((key, rendered.versions), data)
        if self.disk is not None:
            self.disk.put(key, data, ids, rendered.versions)
        return data

    def read(self, work: Callable[[Any], T], lsn: int | None = None) -> T:
        """`work(conn)` on a tile connection, made once more if that connection was dead.

        Tile connections are not pinged before use (a round trip on every tile); a read
        is safe to repeat, so one found dead costs a retry instead. With `lsn`, the read
        may go to a replica that has replayed it; without, it goes to the primary.
        """
        def connect() -> AbstractContextManager[Any]:
            if lsn is None or self.read_connect is None:
                return self.connect()
            return self.read_connect(lsn)

        try:
            with connect() as conn:
                return work(conn)
        except ConnectionLost as exc:
            log.warning("tile connection lost (%s); retrying on a new connection", exc)
        try:
            with connect() as conn:
                return work(conn)
        except ConnectionLost as exc:
            raise DatabaseUnreachable(str(exc)) from exc

    def render_crs84(self, layers: tuple[Layer, ...], levels: frozenset[Access],
                     tile: Tile, lsn: int | None = None) -> TileBody:
        """A WorldCRS84Quad tile (grid.parse_crs84_tile), rendered on every request.

        The caches hold Web Mercator tiles only: their invalidation works in that grid.
        Lon/lat tiles are for readers such as GDAL's OGCAPI driver, not for maps.
        """
        rendered = self.read(lambda conn: render_tile(conn, layers, tile, levels,
                                                      self.max_features, crs84=True,
                                                      prepare=self.prepare), lsn)
        return TileBody(rendered.data, False)

    def _render(self, layers: tuple[Layer, ...], levels: frozenset[Access], tile: Tile,
                lsn: int | None = None):
        return self.read(lambda conn: render_tile(conn, layers, tile, levels, self.max_features,
                                                  prepare=self.prepare), lsn)
