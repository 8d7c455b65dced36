"""A permit check's inputs in the city's VN-2000 / TM-3 metres: the parcel and the footprint."""
from __future__ import annotations

import json

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, func, select

from gisapp.errors import BadRequest, NotFound
from gisapp.spatial import METRIC_SRID, Feature
from layers.city import CITY
from layers.land import PARCELS
from store.tables import LAYER_TABLES

ACCEPTED_SRIDS = (4326, METRIC_SRID)


def find_parcel(conn: Connection, parcel_uid: str) -> Feature:
    """The parcel with this uid, or NotFound."""
    t = LAYER_TABLES[PARCELS.id]
    cols = [t.c[f.name] for f in PARCELS.fields]
    wkb = func.ST_AsBinary(func.ST_Transform(t.c.geom, METRIC_SRID))
    row = conn.execute(select(*cols, wkb.label("wkb"))
                       .where(t.c.parcel_uid == parcel_uid)).first()
    if row is None:
        raise NotFound(f"no parcel {parcel_uid!r}; a parcel id is "
                       "ward-former ward-sheet-parcel, e.g. 20242-20245-14-125")
    attrs = {f.name: row._mapping[f.name] for f in PARCELS.fields}
    return Feature(attrs, shapely.from_wkb(row.wkb))


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
                             f"or {CITY.metric_crs} ({CITY.metric_crs_name})")
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


