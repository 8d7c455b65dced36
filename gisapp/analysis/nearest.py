"""The nearest features of a layer to a geometry, by true distance in EPSG:5899."""
from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, bindparam, func, select

from gisapp.errors import BadRequest
from gisapp.spatial import METRIC_SRID, Feature
from layers import Layer
from store.tables import LAYER_TABLES

CANDIDATES = 8  # KNN in degrees preselects; exact metres decide among these


def nearest(conn: Connection, layer: Layer, to: BaseGeometry, equals: dict | None = None,
            k: int = 1) -> list[tuple[Feature, float]]:
    """Up to k features (optionally with field = value filters) and their distance in metres."""
    t = LAYER_TABLES[layer.id]
    names = {f.name for f in layer.fields}
    conds = []
    for name, value in (equals or {}).items():
        if name not in names:
            raise BadRequest(f"{layer.id} has no field {name!r}")
        conds.append(t.c[name] == value)
    target = func.ST_GeomFromWKB(bindparam("to", shapely.to_wkb(to), unique=True), METRIC_SRID)
    target_4326 = func.ST_Transform(target, 4326)
    cols = [t.c[f.name] for f in layer.fields]
    rows = conn.execute(
        select(t.c.id, *cols, func.ST_AsBinary(func.ST_Transform(t.c.geom, METRIC_SRID)).label("wkb"))
        .where(*conds).order_by(t.c.geom.op("<->")(target_4326)).limit(max(k, CANDIDATES)))
    found = []
    for r in rows:
        geom = shapely.from_wkb(r.wkb)
        attrs = {"id": r.id, **{f.name: r._mapping[f.name] for f in layer.fields}}
        found.append((Feature(attrs, geom), round(geom.distance(to), 2)))
    found.sort(key=lambda item: item[1])
    return found[:k]
