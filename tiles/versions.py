"""Each layer's data version, kept current in every process by LISTEN gisapp_layer_changed.

Every ETL load bumps `layer_state.data_version` in its transaction and sends
NOTIFY gisapp_layer_changed '{"layer", "data_version", "run_id", "bbox"}'. One listener
thread per database per process keeps a version map, so a cache hit costs no query; the
versions are part of every cache key and ETag. While the listener is not connected,
versions are read from the database on every call instead, never guessed.

With each version the map keeps an LSN the version's commit is at or before (its
`commit_lsn`, or the primary's WAL insert position read once the commit was visible): a
replica may serve that version once it has replayed past it (gisapp.db.replica_health).
"""
from __future__ import annotations

import json
import logging
import os
import threading
import weakref
from typing import Callable, Iterable

import psycopg

from store.layer_changes import LAYER_CHANGED_CHANNEL, TRUSTED_LSN_SQL

Bbox = tuple[float, float, float, float]
ChangeCallback = Callable[[str, int, "Bbox | None"], None]

log = logging.getLogger(__name__)


class DatabaseUnreachable(Exception):
    """The database cannot be reached for tiles, even on a new connection."""


# A version whose commit LSN is not recorded yet (store.layer_changes), or recorded in
# another WAL history (a restored dump), is committed, since it is visible: the primary's
# insert position now is past its commit record.
VERSIONS_SQL = (f"SELECT layer, data_version, coalesce({TRUSTED_LSN_SQL},"
                " pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint FROM layer_state")
LSN_NOW_SQL = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"


def read_versions(conninfo: str) -> dict[str, int]:
    """Every layer's data version from layer_state."""
    return {layer: version for layer, (version, _) in read_version_lsns(conninfo).items()}


def read_version_lsns(conninfo: str) -> dict[str, tuple[int, int]]:
    """Every layer's data version and its commit LSN (or a later one) from the primary."""
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        return {layer: (version, lsn)
                for layer, version, lsn in conn.execute(VERSIONS_SQL).fetchall()}


class LayerVersions:
    """The version map for one database, shared by every tile service of the process."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self._versions: dict[str, int] = {}
        self._lsns: dict[str, int] = {}
        self._lock = threading.Lock()
        self._live = threading.Event()
        self._subscribers: "weakref.WeakSet" = weakref.WeakSet()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def subscribe(self, subscriber) -> None:
        """Call subscriber.layer_changed(layer, version, bbox) on each change; weakly held."""
        self._subscribers.add(subscriber)

    def get(self, layer_ids: Iterable[str]) -> tuple[int, ...]:
        """Current versions of these layers (0 for a layer never loaded)."""
        return self.state(tuple(layer_ids))[0]

    def state(self, layer_ids: tuple[str, ...]) -> tuple[tuple[int, ...], int]:
        """These layers' versions and an LSN past their commits, read together.

        One listener check, one refresh when not live and one lock for both, so a tile
        lookup pays for them once and the pair always belongs to one moment.
        """
        self._ensure_listening()
        if not self._live.is_set():
            self.refresh()
        with self._lock:
            return (tuple(self._versions.get(lid, 0) for lid in layer_ids),
                    max((self._lsns.get(lid, 0) for lid in layer_ids), default=0))

    def commit_lsn(self, layer_ids: Iterable[str] | None = None) -> int:
        """An LSN past the commits of these layers' current versions (None: of every layer).

        A replica that has replayed it holds exactly these versions, or later ones.
        """
        self._ensure_listening()
        if not self._live.is_set():
            self.refresh()
        with self._lock:
            if layer_ids is None:
                return max(self._lsns.values(), default=0)
            return max((self._lsns.get(lid, 0) for lid in layer_ids), default=0)

    def snapshot(self) -> dict[str, int]:
        """The version map as known now."""
        with self._lock:
            return dict(self._versions)

    def refresh(self) -> None:
        """Re-read every version now; layers whose version moved count as wholly changed."""
        try:
            fresh = read_version_lsns(self.conninfo)
        except psycopg.OperationalError as exc:
            raise DatabaseUnreachable(str(exc).strip()) from exc
        self._apply_all(fresh)

    def _apply_all(self, fresh: dict[str, tuple[int, int]]) -> None:
        with self._lock:
            known = set(self._versions) | set(fresh)
            moved = {k: fresh.get(k, (0, 0))[0] for k in known
                     if fresh.get(k, (0, 0))[0] != self._versions.get(k, 0)}
            for layer, (version, lsn) in fresh.items():
                if version != self._versions.get(layer) or layer not in self._lsns:
                    self._lsns[layer] = lsn
            self._versions = {layer: version for layer, (version, _) in fresh.items()}
        for layer, version in moved.items():
            self._notify(layer, version, None)

    def apply_change(self, layer: str, version: int, bbox: Bbox | None,
                     lsn: int | None = None) -> None:
        """Record a load's new version; the bbox is trusted only for the very next version.

        Anything else (a skipped version, or a lower one after a database reset) means
        changes we did not see, so subscribers drop the whole layer. `lsn` is at or past
        the version's commit (read from the primary once the commit was visible).
        """
        with self._lock:
            known = self._versions.get(layer, 0)
            if version == known:
                return
            if version != known + 1:
                bbox = None
            self._versions[layer] = version
            if lsn is not None:
                self._lsns[layer] = lsn
        self._notify(layer, version, bbox)

    def _notify(self, layer: str, version: int, bbox: Bbox | None) -> None:
        for sub in list(self._subscribers):
            try:
                sub.layer_changed(layer, version, bbox)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("tile cache invalidation failed for %s", layer)

    def _ensure_listening(self) -> None:
        if self._pid == os.getpid() and self._thread is not None:
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None:
                return
            self._pid = os.getpid()  # after a fork the parent's thread is gone
            self._live.clear()
            self._thread = threading.Thread(target=self._listen, name="tile-versions",
                                            daemon=True)
            self._thread.start()

    def _listen(self) -> None:
        failures = 0  # of this outage: its first is a warning, the retries each second are not
        while True:
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute("LISTEN " + LAYER_CHANGED_CHANNEL)
                    self._apply_all({layer: (version, lsn) for layer, version, lsn
                                     in conn.execute(VERSIONS_SQL).fetchall()})
                    self._live.set()
                    if failures:
                        log.info("tile version listener connected again after %d failed "
                                 "attempt%s", failures, "s" if failures > 1 else "")
                    failures = 0
                    while True:
                        notes = list(conn.notifies(stop_after=1))
                        # Delivered after their commits: the insert position now is past
                        # them. Asked outside notifies(), which holds the connection.
                        lsn = conn.execute(LSN_NOW_SQL).fetchone()[0]
                        for note in notes:
                            self._on_notify(note.payload, lsn)
            except Exception as exc:  # reconnect; until then get() reads the table
                self._live.clear()
                failures += 1
                (log.warning if failures == 1 else log.debug)(
                    "tile version listener lost its connection: %s", exc)
                threading.Event().wait(1.0)

    def _on_notify(self, payload: str, lsn: int | None = None) -> None:
        try:
            msg = json.loads(payload)
            bbox = msg.get("bbox")
            self.apply_change(str(msg["layer"]), int(msg["data_version"]),
                              tuple(float(v) for v in bbox) if bbox else None, lsn)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored malformed %s payload %r", LAYER_CHANGED_CHANNEL, payload[:200])


_WATCHERS: dict[str, LayerVersions] = {}
_WATCHERS_LOCK = threading.Lock()


def versions_for(conninfo: str) -> LayerVersions:
    """The process's one LayerVersions for this database."""
    with _WATCHERS_LOCK:
        if conninfo not in _WATCHERS:
            _WATCHERS[conninfo] = LayerVersions(conninfo)
        return _WATCHERS[conninfo]
