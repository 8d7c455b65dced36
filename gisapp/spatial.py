"""Spatial basics shared by permits, analysis and reports, measured in metres.

The metric CRS is the city's VN-2000 / TM-3 zone (layers.city): PostGIS finds features
(index-backed, in 4326) and transforms them to it; shapely measures overlaps and distances on those planar
coordinates. Results go back to clients as WGS 84 GeoJSON.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA

from layers import Layer
from layers.city import CITY
from store.tables import LAYER_TABLES

METRIC_SRID = CITY.metric_srid


@dataclass(frozen=True)
class Feature:
    """A feature's attributes and its geometry in EPSG:5899."""

    attrs: dict[str, Any]
    geom: BaseGeometry


def nearby(conn: Connection, layer: Layer, around: BaseGeometry, within_m: float) -> list[Feature]:
    """Features of `layer` within `within_m` metres of `around` (a 5899 geometry).

    Geometries come back clipped to `around` grown by within_m + 1 m (clipped in 4326,
    before the transform), so a city-wide flood zone costs what its local part costs;
    every overlap and every distance up to within_m is unchanged by the clip.
    """
    t = LAYER_TABLES[layer.id]
    area = func.ST_GeomFromWKB(bindparam("around", shapely.to_wkb(around), unique=True),
                               METRIC_SRID)
    search = func.ST_Transform(func.ST_Buffer(area, literal(within_m + 1.0)), 4326)
    cols = [t.c[f.name] for f in layer.fields]
    clipped = func.ST_Transform(func.ST_Intersection(t.c.geom, search), METRIC_SRID)
    rows = conn.execute(
        select(t.c.id, *cols, func.ST_AsBinary(clipped).label("wkb"))
        .where(func.ST_Intersects(t.c.geom, search))
        .order_by(t.c.id))
    out = []
    for r in rows:
        geom = shapely.from_wkb(r.wkb)
        if geom.is_empty or geom.distance(around) > within_m:
            continue
        attrs = {"id": r.id, **{f.name: r._mapping[f.name] for f in layer.fields}}
        out.append(Feature(attrs, geom))
    return out


def to_wgs84(conn: Connection, geom: BaseGeometry) -> dict:
    """A 5899 geometry as a GeoJSON geometry in WGS 84."""
    g = func.ST_GeomFromWKB(bindparam("g", shapely.to_wkb(geom), unique=True), METRIC_SRID)
    text = conn.execute(select(func.ST_AsGeoJSON(func.ST_Transform(g, 4326), 8))).scalar()
    return json.loads(text)


def to_feature_collection(conn: Connection, shapes: list[tuple[dict, BaseGeometry]]) -> dict:
    """The shapes as a WGS 84 FeatureCollection, transformed by PostGIS in one statement."""
    if not shapes:
        return {"type": "FeatureCollection", "features": []}
    wkbs = [shapely.to_wkb(g) for _, g in shapes]
    arr = bindparam("wkbs", wkbs, type_=ARRAY(BYTEA))
    geom = func.ST_Transform(func.ST_GeomFromWKB(func.unnest(arr), METRIC_SRID), 4326)
    texts = conn.execute(select(func.ST_AsGeoJSON(geom, 8))).scalars().all()
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": props, "geometry": json.loads(t)}
                         for (props, _), t in zip(shapes, texts)]}
