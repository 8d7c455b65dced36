"""Collection extents: the data's bbox and its time span, computed once per data version.

Clients (GDAL, QGIS) read `extent` from /collections to open a layer; without it GDAL
reads every feature. ST_Extent over a large table costs tens of milliseconds, so each
layer's extent is kept until `layer_state.data_version` (bumped by every import and edit
in the same transaction) moves on; reading the versions is one small indexed query.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Connection, case, func, select

from layers import Layer
from store.tables import LAYER_TABLES, VERSION_TABLES, layer_state


@dataclass(frozen=True)
class Extent:
    """A layer's bbox (CRS84) and time interval (RFC 3339, None at an open end)."""

    bbox: tuple[float, float, float, float] | None
    interval: tuple[str | None, str | None] | None = None


class ExtentCache:
    """Extents per layer, kept while the layer's data version stays the same."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, Extent]] = {}
        self._lock = threading.Lock()

    def extents(self, conn: Connection, layers: list[Layer]) -> dict[str, Extent]:
        """The extents of `layers`, computing only those whose data changed."""
        versions = dict(conn.execute(select(layer_state.c.layer, layer_state.c.data_version)
                                     .where(layer_state.c.layer.in_([x.id for x in layers])))
                        .all())
        out: dict[str, Extent] = {}
        for layer in layers:
            version = versions.get(layer.id, 0)
            known = self._known.get(layer.id)
            if known is None or known[0] != version:
                known = (version, compute_extent(conn, layer))
                with self._lock:
                    self._known[layer.id] = known
            out[layer.id] = known[1]
        return out


def compute_extent(conn: Connection, layer: Layer) -> Extent:
    """The layer's extent, straight from its table (and versions table for the time span)."""
    table = LAYER_TABLES[layer.id]
    box = func.ST_Extent(table.c.geom)
    row = conn.execute(select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box),
                              func.ST_YMax(box))).one()
    bbox = None if row[0] is None else tuple(float(v) for v in row)
    return Extent(bbox, _interval(conn, layer))  # type: ignore[arg-type]


def _interval(conn: Connection, layer: Layer) -> tuple[str | None, str | None] | None:
    temporal = layer.temporal
    if temporal is None:
        return None
    source = VERSION_TABLES[layer.id] if temporal.in_versions else LAYER_TABLES[layer.id]
    start = source.c[temporal.start]
    if temporal.end is None:
        first, last = conn.execute(select(func.min(start), func.max(start))).one()
    else:
        end = source.c[temporal.end]
        still_valid = func.bool_or(end.is_(None))
        first, last = conn.execute(select(func.min(start),
                                          case((still_valid, None), else_=func.max(end)))).one()
    if first is None:
        return None
    return _instant(first), _instant(last)


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
