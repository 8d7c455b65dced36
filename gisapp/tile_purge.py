"""After each committed import, purge the tiles it can have changed from the cache in front.

With GISAPP_TILE_PURGE_URL set (`http://127.0.0.1:8000/_purge` for the nginx of `gisapp
nginx start`, which loads Debian's libnginx-mod-http-cache-purge; or any cache taking HTTP
PURGE per URL, say a Varnish at `http://varnish:6081`), every import that `gisapp etl
import` or `gisapp worker` commits sends `PURGE <its path>/tiles/<list>/<z>/<x>/<y>.mvt`
for each tile of the run's extent plus the MVT buffer (`gisapp tiles changed`) at
GISAPP_TILE_PURGE_ZOOM from the layer's minzoom, for every public URL holding the layer
(the layer alone and each style's layer list), once per encoding the cache keys apart
(gzip or not), with the public host. A request is tried three times, and after three
failing in a row the rest are not sent; the counts and the first failures are recorded in
etl_runs.tile_purge. It never fails the import: whatever it
could not purge expires with the tiles' max-age.
"""
from __future__ import annotations

import http.client
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator
from urllib.parse import urlsplit

import psycopg

from etl.events import on_layer_loaded, remove_layer_loaded
from gisapp.secret_masking import mask_passwords
from gisapp.settings import Settings
from layers import Layer, get_table, levels_for
from store.run_lifecycle import record_tile_purge
from tiles.grid import changed_tiles, parse_zoom_range
from tiles.sql import BUFFER, EXTENT
from tiles.style import STYLE_NAMES, style_layers

ATTEMPTS = 3
GIVE_UP_AFTER = 3  # requests failing in a row: the cache is down, the rest are not sent
TIMEOUT_SECONDS = 5.0
ENCODINGS = ("gzip", "identity")  # the cache key tells gzip from the rest (docker/nginx)
ERRORS_KEPT = 5
_INSTALLED: dict[str, Callable] = {}
log = logging.getLogger(__name__)


@dataclass
class PurgeReport:
    """What one run's purge did: recorded as etl_runs.tile_purge."""

    url: str
    tiles: int = 0
    requests: int = 0
    purged: int = 0
    not_cached: int = 0
    failed: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0

    def fail(self, message: str) -> None:
        self.failed += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(message)


def layer_lists(layer: Layer) -> list[str]:
    """Every public tile URL's layer list that holds `layer`: itself and each style's list."""
    public = levels_for("public")
    if layer.access not in public:
        return []
    lists = [layer.id]
    for name in STYLE_NAMES:
        ids = [lyr.id for lyr in style_layers(name, public)]
        text = ",".join(ids)
        if layer.id in ids and text not in lists:
            lists.append(text)
    return lists


def tile_paths(layer: Layer, extent: tuple[float, float, float, float],
               zooms: range) -> tuple[int, list[str]]:
    """(tiles, paths): the z/x/y an extent can have changed and their URLs' paths."""
    tiles = list(changed_tiles(extent, (z for z in zooms if z >= layer.minzoom),
                               BUFFER / EXTENT))
    lists = layer_lists(layer)
    return len(tiles), [f"/tiles/{names}/{z}/{x}/{y}.mvt" for names in lists
                        for z, x, y in tiles]


class PurgeClient:
    """One keep-alive connection to the cache; PURGE requests retried on failure."""

    def __init__(self, target: str, public_host: str):
        parts = urlsplit(target)
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.prefix = parts.path.rstrip("/")
        self.public_host = public_host
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self.conn = kind(self.host, self.port, timeout=TIMEOUT_SECONDS)
        return self.conn

    def purge(self, path: str, encoding: str, report: PurgeReport) -> bool:
        """PURGE one URL: purged (200), not cached (404), else retried and then failed."""
        problem = ""
        for attempt in range(ATTEMPTS):
            if attempt:
                report.retried += 1
                time.sleep(0.1 * 2 ** attempt)
            try:
                conn = self._connection()
                conn.request("PURGE", self.prefix + path,
                             headers={"Host": self.public_host, "Accept-Encoding": encoding})
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                problem = f"{path}: {type(exc).__name__}: {exc}"
                continue
            if response.status == 200:
                report.purged += 1
                return True
            if response.status == 404:
                report.not_cached += 1
                return True
            problem = f"{path}: HTTP {response.status} {response.reason}"
            if response.status < 500 and response.status != 429:
                break  # refused (say 403, 405): trying again changes nothing
        report.fail(problem)
        return False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def purge_run(settings: Settings, layer_id: str,
              extent: tuple[float, float, float, float] | None) -> PurgeReport:
    """Purge what one committed import of `layer_id` over `extent` can have changed."""
    started = time.perf_counter()
    report = PurgeReport(url=mask_passwords(settings.tile_purge_url))
    decl = get_table(layer_id)
    zooms = parse_zoom_range(settings.tile_purge_zoom)
    paths: list[str] = []
    if not isinstance(decl, Layer):
        report.skipped = f"{layer_id} is a table, not a tile layer"
    elif extent is None:
        report.skipped = "the run recorded no extent (nothing loaded)"
    else:
        report.tiles, paths = tile_paths(decl, extent, zooms)
        if not paths:
            report.skipped = (f"{layer_id} is on no public tile URL at zoom "
                              f"{settings.tile_purge_zoom}")
        elif len(paths) * len(ENCODINGS) > settings.tile_purge_max:
            report.skipped = (f"{len(paths) * len(ENCODINGS)} purge requests, more than "
                              f"GISAPP_TILE_PURGE_MAX {settings.tile_purge_max}: cached tiles "
                              "expire with their max-age")
            paths = []
    client = PurgeClient(settings.tile_purge_url, urlsplit(settings.public_url).netloc)
    requests = [(path, encoding) for path in paths for encoding in ENCODINGS]
    in_a_row = 0
    try:
        for n, (path, encoding) in enumerate(requests):
            report.requests += 1
            in_a_row = 0 if client.purge(path, encoding, report) else in_a_row + 1
            if in_a_row == GIVE_UP_AFTER and n + 1 < len(requests):
                left = len(requests) - n - 1
                report.requests += left
                report.failed += left
                report.errors.append(f"{GIVE_UP_AFTER} requests failed in a row: the other "
                                     f"{left} were not sent")
                break
    finally:
        client.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def record(conninfo: str, run_id: int, report: PurgeReport) -> None:
    """Store the report in etl_runs.tile_purge."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        record_tile_purge(conn, run_id, vars(report))


def purge_after_loads(conninfo: str, settings: Settings) -> Callable | None:
    """Register (once per database) the hook purging each committed import's tiles."""
    if not settings.tile_purge_url:
        return None
    if conninfo in _INSTALLED:
        return _INSTALLED[conninfo]

    def tile_purge(result) -> None:
        if result.status != "succeeded" or not result.run_id:
            return
        try:
            report = purge_run(settings, result.layer, result.extent)
        except Exception as exc:  # the import is committed: say so, never fail it
            log.exception("tile purge after run %s failed", result.run_id)
            report = PurgeReport(url=mask_passwords(settings.tile_purge_url))
            report.fail(f"{type(exc).__name__}: {exc}")
        record(conninfo, result.run_id, report)
        if report.failed:
            result.warnings.append(f"tile purge: {report.failed} of {report.requests} "
                                   f"requests to {report.url} failed: {report.errors[0]}")

    _INSTALLED[conninfo] = on_layer_loaded(tile_purge)
    return tile_purge


def stop_purging(conninfo: str) -> None:
    """Unregister the hook for this database (tests); no hook is no error."""
    hook = _INSTALLED.pop(conninfo, None)
    if hook is not None:
        remove_layer_loaded(hook)


@contextmanager
def purging_tiles(conninfo: str, settings: Settings) -> Iterator[None]:
    """Purge the tiles of the imports committed inside the block (CLI commands)."""
    hook = purge_after_loads(conninfo, settings)
    try:
        yield
    finally:
        if hook is not None:
            stop_purging(conninfo)
