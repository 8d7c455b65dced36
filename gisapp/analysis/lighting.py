"""Public lighting analysis: unlit street stretches, lights out of service, cabinet loads.

A street is lit where a working light stands within `distance_m` of it; the rest of its
centreline, in pieces at least `min_length_m` long, is reported unlit. Metres in EPSG:5899.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import BigInteger, Connection, bindparam, func, select

from gisapp.analysis.area import ward_area
from gisapp.db.schema import LAYER_TABLES
from gisapp.errors import BadRequest, NotFound
from gisapp.permits.site import METRIC_SRID, nearby
from gisapp.permits.overlaps import to_feature_collection
from layers import Access
from layers.base import ROADS
from layers.lighting import LIGHTING_CABINETS, STREET_LIGHTS

WORKING = "working"
OUT_OF_SERVICE = "out_of_service"


@dataclass(frozen=True)
class UnlitRequest:
    """Which ward, how far a light reaches along a street, the shortest stretch worth listing."""

    ward: str
    distance_m: float = 25.0
    min_length_m: float = 10.0

    @classmethod
    def parse(cls, args) -> "UnlitRequest":
        """From query-string arguments; BadRequest naming the bad one."""
        if not args.get("ward"):
            raise BadRequest("ward is required (a ward code, e.g. 20242)")
        try:
            distance = float(args.get("distance_m", 25.0))
            min_length = float(args.get("min_length_m", 10.0))
        except ValueError:
            raise BadRequest("distance_m and min_length_m must be numbers of metres") from None
        if not 1 <= distance <= 200 or not 0 <= min_length <= 1000:
            raise BadRequest("distance_m must be 1-200 m and min_length_m 0-1000 m")
        return cls(args["ward"], distance, min_length)


def _pieces(geom: BaseGeometry, min_length: float) -> list[BaseGeometry]:
    parts = getattr(shapely.line_merge(geom), "geoms", [shapely.line_merge(geom)])
    return [p for p in parts if not p.is_empty and p.length >= min_length]


def unlit_streets(conn: Connection, req: UnlitRequest) -> dict:
    """Stretches of the ward's streets with no working light within the distance, as GeoJSON."""
    _, ward = ward_area(conn, req.ward)
    lights = [f.geom for f in nearby(conn, STREET_LIGHTS, ward, req.distance_m)
              if f.attrs["status"] == WORKING]
    lit = shapely.unary_union([g.buffer(req.distance_m) for g in lights]) if lights else None
    features, total = [], 0.0
    for road in nearby(conn, ROADS, ward, 0.0):
        inside = road.geom.intersection(ward)
        dark = inside.difference(lit) if lit is not None else inside
        for piece in _pieces(dark, req.min_length_m):
            total += piece.length
            features.append(({"road_id": road.attrs["road_id"], "name": road.attrs["name"],
                              "length_m": round(piece.length, 2)}, piece))
    fc = to_feature_collection(conn, features)
    fc["properties"] = {"ward": req.ward, "distance_m": req.distance_m,
                        "unlit_length_m": round(total, 2), "stretches": len(features)}
    return fc


def _light_features(conn: Connection, levels: frozenset[Access], *conds) -> dict:
    t = LAYER_TABLES[STREET_LIGHTS.id]
    cols = [t.c[f.name] for f in STREET_LIGHTS.visible_fields(levels)]
    rows = conn.execute(select(*cols, func.ST_AsGeoJSON(t.c.geom, 8).label("gj"))
                        .where(*conds).order_by(t.c.light_id))
    feats = [{"type": "Feature", "geometry": json.loads(r.gj),
              "properties": {k: v for k, v in r._mapping.items() if k != "gj"}} for r in rows]
    return {"type": "FeatureCollection", "features": feats,
            "properties": {"count": len(feats)}}


def lights_out_of_service(conn: Connection, levels: frozenset[Access],
                          ward: str | None = None) -> dict:
    """Every light out of service (in a ward, if given) as GeoJSON points."""
    t = LAYER_TABLES[STREET_LIGHTS.id]
    conds = [t.c.status == OUT_OF_SERVICE]
    if ward:
        _, area = ward_area(conn, ward)
        conds.append(func.ST_Intersects(t.c.geom, func.ST_Transform(
            func.ST_GeomFromWKB(
            bindparam("ward", shapely.to_wkb(area)), METRIC_SRID), 4326)))
    return _light_features(conn, levels, *conds)


def cabinet_loads(conn: Connection) -> dict:
    """Each cabinet with its lights counted, wattage summed (all and working) and load share."""
    c, lt = LAYER_TABLES[LIGHTING_CABINETS.id], LAYER_TABLES[STREET_LIGHTS.id]
    watts = func.coalesce(func.sum(lt.c.wattage), 0).cast(BigInteger)
    working = func.coalesce(func.sum(lt.c.wattage).filter(lt.c.status == WORKING), 0)\
        .cast(BigInteger)
    q = (select(c.c.cabinet_id, c.c.name, c.c.capacity_kw, c.c.status,
                func.count(lt.c.id).label("lights"), watts.label("watts"),
                working.label("working_watts"), func.ST_AsGeoJSON(c.c.geom, 8).label("gj"))
         .select_from(c.outerjoin(lt, lt.c.cabinet_id == c.c.cabinet_id))
         .group_by(c.c.id).order_by(c.c.cabinet_id))
    feats = []
    for r in conn.execute(q):
        props = {k: v for k, v in r._mapping.items() if k != "gj"}
        props["load_pct"] = (round(100 * r.watts / (1000 * r.capacity_kw), 1)
                             if r.capacity_kw else None)
        feats.append({"type": "Feature", "geometry": json.loads(r.gj), "properties": props})
    return {"type": "FeatureCollection", "features": feats}


def cabinet_lights(conn: Connection, cabinet_id: str, levels: frozenset[Access]) -> dict:
    """The lights a cabinet feeds, as GeoJSON points; NotFound for an unknown cabinet."""
    c, lt = LAYER_TABLES[LIGHTING_CABINETS.id], LAYER_TABLES[STREET_LIGHTS.id]
    if conn.execute(select(c.c.id).where(c.c.cabinet_id == cabinet_id)).first() is None:
        raise NotFound(f"no lighting cabinet {cabinet_id!r}")
    return _light_features(conn, levels, lt.c.cabinet_id == cabinet_id)
