"""Tile cache: a memory LRU per process, a shared disk store, and single-flight builds.

Memory keys carry every layer's data version, so after a load stale entries are simply
unreachable in every process. The disk store (shared by the processes of one machine)
is keyed without versions: a load deletes exactly the tiles, at every zoom, whose area
plus the MVT buffer touches the changed extent; the rest stay valid. Tiles are stored
gzip-compressed (level 6, once), as served to browsers.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable, Iterator, TypeVar

from tiles.grid import MAX_ZOOM, Tile, tiles_touching
from tiles.sql import BUFFER, EXTENT

Bbox = tuple[float, float, float, float]
T = TypeVar("T")
# Build locks are striped over this many files: a collision only makes two different
# tiles' builds wait for each other, and the store never holds a lock file per tile.
LOCK_STRIPES = 4096


@dataclass(frozen=True)
class TileKey:
    """What a tile's content depends on besides data versions."""

    layers: tuple[str, ...]
    access: str
    tile: Tile


class MemoryLRU:
    """A thread-safe LRU of bytes bounded by total size."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._size -= len(old) if old is not None else 0
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)


class DiskStore:
    """Tiles on disk under root/<access>/<layers>/<z>/<x>/<y>.mvt.gz, shared by processes.

    The processes may run on several web nodes, with root on shared storage (NFS v4 or
    any file system with working flock). Each process hears of every change (LISTEN) and
    remembers (`synced`) the versions it has processed: a tile is served from disk only
    once this process has processed the versions asked for. What the store itself has been
    invalidated for is recorded in root/versions.json, read and written under a store-wide
    flock: an invalidation (exclusive) drops each change's tiles once, whichever process
    hears of it first, and a tile rendered from data older than an invalidation any process
    already made is never written (the write holds the lock shared and re-reads the record).
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._synced = self._read_synced()

    def path(self, key: TileKey) -> Path:
        t = key.tile
        return (self.root / key.access / ",".join(key.layers) / str(t.z) / str(t.x)
                / f"{t.y}.mvt.gz")

    def is_synced(self, layers: tuple[str, ...], versions: tuple[int, ...]) -> bool:
        """Whether this store has dropped everything that these versions made stale."""
        return all(self._synced.get(lid, 0) >= v for lid, v in zip(layers, versions))

    def get(self, key: TileKey) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    @contextmanager
    def build_lock(self, key: TileKey) -> Iterator[None]:
        """Hold this tile's build lock, shared by every process using this store.

        An flock on one of LOCK_STRIPES files under root/.locks: released when the holder
        closes it or dies, and per open file, so threads of one process exclude each other.
        """
        digest = hashlib.blake2s(str(self.path(key)).encode(), digest_size=8).digest()
        name = self.root / ".locks" / str(int.from_bytes(digest, "big") % LOCK_STRIPES)
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            name.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def put(self, key: TileKey, data: bytes, layers: tuple[str, ...],
            versions: tuple[int, ...]) -> bool:
        """Write atomically unless the data predates an invalidation already done."""
        path = self.path(key)
        with self._lock, self._store_lock(fcntl.LOCK_SH):
            recorded = self._read_synced()
            if any(max(self._synced.get(lid, 0), recorded.get(lid, 0)) > v
                   for lid, v in zip(layers, versions)):
                return False
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return True

    @contextmanager
    def _store_lock(self, mode: int) -> Iterator[None]:
        """The store-wide flock: exclusive to invalidate, shared to write a tile."""
        name = self.root / ".locks" / "store"
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            name.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)

    def adopt(self, versions: dict[str, int]) -> None:
        """Start tracking layers this store has no record of, at their current versions.

        Tiles of such a layer have unknown provenance, so they are dropped first.
        """
        with self._lock, self._store_lock(fcntl.LOCK_EX):
            recorded = self._read_synced()
            new = {k: v for k, v in versions.items() if k not in recorded}
            for layer in new:
                self.drop(layer, None)
            recorded.update(new)
            self._synced = recorded
            if new:
                self._save_synced(recorded)

    def layer_changed(self, layer: str, version: int, bbox: Bbox | None) -> None:
        """Drop what a load of `layer` made stale: the bbox's tiles, or all if unknown.

        A version that is not exactly the next one the store recorded means loads were
        missed (say while no server ran), so the whole layer goes. A version the store
        recorded already was dropped by another process (or node) that heard of it first.
        """
        with self._lock, self._store_lock(fcntl.LOCK_EX):
            recorded = self._read_synced()
            last = recorded.get(layer)
            if last is None or version != last:
                precise = bbox is not None and last is not None and version == last + 1
                self.drop(layer, bbox if precise else None)
                recorded[layer] = version
                self._save_synced(recorded)
            self._synced = recorded

    def drop(self, layer: str, bbox: Bbox | None) -> int:
        """Delete stored tiles holding `layer` that a change inside bbox (lon/lat) can alter."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for layers_dir in self.root.glob("*/*"):
            if not layers_dir.is_dir() or layer not in layers_dir.name.split(","):
                continue
            if bbox is None:
                shutil.rmtree(layers_dir, ignore_errors=True)
                continue
            for z_dir in layers_dir.iterdir():
                if z_dir.name.isdigit() and int(z_dir.name) <= MAX_ZOOM:
                    removed += _drop_range(z_dir, tiles_touching(bbox, int(z_dir.name),
                                                                 BUFFER / EXTENT))
        return removed

    def _read_synced(self) -> dict[str, int]:
        try:
            return {k: int(v) for k, v in
                    json.loads((self.root / "versions.json").read_text()).items()}
        except (FileNotFoundError, ValueError, AttributeError):
            return {}

    def _save_synced(self, recorded: dict[str, int]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        with os.fdopen(fd, "w") as fh:
            json.dump(recorded, fh)
        os.replace(tmp, self.root / "versions.json")


def _drop_range(z_dir: Path, rng: tuple[int, int, int, int]) -> int:
    xmin, ymin, xmax, ymax = rng
    removed = 0
    for x_dir in z_dir.iterdir():
        if not (x_dir.name.isdigit() and xmin <= int(x_dir.name) <= xmax):
            continue
        for f in x_dir.iterdir():
            y = f.name.split(".", 1)[0]
            if y.isdigit() and ymin <= int(y) <= ymax:
                f.unlink(missing_ok=True)
                removed += 1
    return removed


class SingleFlight:
    """Concurrent callers asking for the same key share one build (no cache stampede)."""

    def __init__(self):
        self._flights: dict[Hashable, Future] = {}
        self._lock = threading.Lock()
        self.builds = 0

    def do(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = Future()
                self.builds += 1
        if not leader:
            return flight.result()
        try:
            result = build()
            flight.set_result(result)
            return result
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
