"""What lies on and around a parcel, measured in VN-2000 / TM-3 (EPSG:5899) metres.

PostGIS finds the features (index-backed, in 4326) and transforms them to 5899; shapely
measures overlaps and distances on those planar coordinates.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, bindparam, func, literal, select

from store.tables import LAYER_TABLES
from gisapp.errors import BadRequest, NotFound
from layers import Layer
from layers.land import PARCELS

METRIC_SRID = 5899
ACCEPTED_SRIDS = (4326, METRIC_SRID)


@dataclass(frozen=True)
class Feature:
    """A feature's attributes and its geometry in EPSG:5899."""

    attrs: dict[str, Any]
    geom: BaseGeometry


def _metric(column):
    return func.ST_AsBinary(func.ST_Transform(column, METRIC_SRID))


def find_parcel(conn: Connection, parcel_uid: str) -> Feature:
    """The parcel with this uid, or NotFound."""
    t = LAYER_TABLES[PARCELS.id]
    cols = [t.c[f.name] for f in PARCELS.fields]
    row = conn.execute(select(*cols, _metric(t.c.geom).label("wkb"))
                       .where(t.c.parcel_uid == parcel_uid)).first()
    if row is None:
        raise NotFound(f"no parcel {parcel_uid!r}; a parcel id is "
                       "ward-former ward-sheet-parcel, e.g. 20242-20245-14-125")
    attrs = {f.name: row._mapping[f.name] for f in PARCELS.fields}
    return Feature(attrs, shapely.from_wkb(row.wkb))


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


def footprint_srid(geometry: dict, crs: str | None) -> int:
    """The EPSG code of a GeoJSON footprint: the one named, else told apart by magnitude.

    VN-2000 / TM-3 eastings are hundreds of thousands of metres; WGS 84 longitudes are
    within ±180, so the two cannot be confused.
    """
    if crs:
        code = crs.upper().removeprefix("EPSG:") if isinstance(crs, str) else ""
        if not (code.isascii() and code.isdigit() and len(code) <= 6) \
                or int(code) not in ACCEPTED_SRIDS:
            raise BadRequest(f"footprint crs {crs!r} is not accepted; use EPSG:4326 (WGS 84) "
                             "or EPSG:5899 (VN-2000 / TM-3 107°45′)")
        return int(code)
    try:
        x = shapely.from_geojson(json.dumps(geometry)).bounds[0]
    except Exception as exc:  # shapely raises GEOSException with the parser's reason
        raise BadRequest(f"footprint is not a GeoJSON geometry: {exc}") from None
    return 4326 if abs(x) <= 180 else METRIC_SRID


def footprint_to_metric(conn: Connection, geometry: dict, crs: str | None) -> BaseGeometry:
    """A GeoJSON polygon footprint in EPSG:5899; BadRequest unless a valid (multi)polygon."""
    srid = footprint_srid(geometry, crs)
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise BadRequest("footprint must be a GeoJSON Polygon or MultiPolygon")
    geom = func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(geometry)), srid)
    try:
        wkb = conn.execute(select(func.ST_AsBinary(func.ST_Transform(geom, METRIC_SRID)))).scalar()
    except Exception as exc:  # PostGIS's parse error, reported to the caller
        raise BadRequest(f"footprint is not a GeoJSON geometry: {exc.__class__.__name__}") from None
    shape = shapely.from_wkb(wkb)
    if shape.is_empty or shape.area <= 0:
        raise BadRequest("footprint is empty or has no area")
    if not shape.is_valid:
        raise BadRequest(f"footprint is not a valid polygon: {shapely.is_valid_reason(shape)}")
    return shape


def to_wgs84(conn: Connection, geom: BaseGeometry) -> dict:
    """A 5899 geometry as a GeoJSON geometry in WGS 84."""
    g = func.ST_GeomFromWKB(bindparam("g", shapely.to_wkb(geom), unique=True), METRIC_SRID)
    text = conn.execute(select(func.ST_AsGeoJSON(func.ST_Transform(g, 4326), 8))).scalar()
    return json.loads(text)
