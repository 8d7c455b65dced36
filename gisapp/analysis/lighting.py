"""Public lighting analysis: unlit street stretches, lights out of service, cabinet loads.

A working light standing within `offset_m` of a street's centreline lights the street for
`distance_m` either side of its foot on the centreline, measured along the street; the rest
of the centreline, in pieces at least `min_length_m` long, is reported unlit. A light beside
a neighbouring street or across a block therefore lights nothing here. Metres in EPSG:5899.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring
from sqlalchemy import BigInteger, Connection, bindparam, func, select

from gisapp.analysis.area import ward_area
from gisapp.errors import BadRequest, NotFound
from gisapp.query_args import finite_number
from gisapp.spatial import METRIC_SRID, nearby, to_feature_collection
from layers import Access
from layers.base import ROADS
from layers.lighting import LIGHTING_CABINETS, STREET_LIGHTS
from store.tables import LAYER_TABLES

WORKING = "working"
OUT_OF_SERVICE = "out_of_service"


@dataclass(frozen=True)
class UnlitRequest:
    """Which ward, how far a light reaches along a street and how far off it may stand, and
    the shortest stretch worth listing (metres)."""

    ward: str
    distance_m: float = 25.0
    min_length_m: float = 10.0
    offset_m: float = 15.0

    @classmethod
    def parse(cls, args) -> "UnlitRequest":
        """From query-string arguments; BadRequest naming the bad one."""
        if not args.get("ward"):
            raise BadRequest("ward is required (a ward code, e.g. 20242)")
        distance = finite_number(args.get("distance_m"), "distance_m", 25.0, 1, 200)
        min_length = finite_number(args.get("min_length_m"), "min_length_m", 10.0, 0, 1000)
        offset = finite_number(args.get("offset_m"), "offset_m", 15.0, 0, 50)
        return cls(args["ward"], distance, min_length, offset)


def _lines(geom: BaseGeometry) -> list[LineString]:
    """The non-empty line parts of a geometry, joined where they meet end to end."""
    parts = [p for g in shapely.get_parts(geom) if g.geom_type in ("LineString", "MultiLineString")
             for p in shapely.get_parts(g) if not p.is_empty and p.length > 0]
    if not parts:
        return []
    return list(shapely.get_parts(shapely.line_merge(shapely.MultiLineString(parts))))


def dark_stretches(line: LineString, lights: list[BaseGeometry], reach: float,
                   offset: float) -> list[LineString]:
    """The parts of `line` farther than `reach` along it from every light within `offset` of it."""
    lit = sorted((max(0.0, m - reach), min(line.length, m + reach))
                 for m in (line.project(p) for p in lights if line.distance(p) <= offset))
    dark, start = [], 0.0
    for a, b in lit:
        if a > start:
            dark.append(substring(line, start, a))
        start = max(start, b)
    if start < line.length:
        dark.append(substring(line, start, line.length))
    return [d for d in dark if d.length > 0]


def _pieces(geom: BaseGeometry, min_length: float) -> list[BaseGeometry]:
    return [p for p in _lines(geom) if p.length >= min_length]


def unlit_streets(conn: Connection, req: UnlitRequest) -> dict:
    """Stretches of the ward's streets no working light reaches along the street, as GeoJSON.

    Streets are read beyond the ward by the lights' reach, so a light just outside it lights
    its part of a street inside it; the stretches are then cut to the ward.
    """
    _, ward = ward_area(conn, req.ward)
    margin = req.distance_m + req.offset_m
    lights = [f.geom for f in nearby(conn, STREET_LIGHTS, ward, margin)
              if f.attrs["status"] == WORKING]
    tree = shapely.STRtree(lights)
    features, total = [], 0.0
    for road in nearby(conn, ROADS, ward, margin):
        near = [lights[i] for i in tree.query(road.geom, predicate="dwithin",
                                              distance=req.offset_m)]
        dark = [d for line in _lines(road.geom)
                for d in dark_stretches(line, near, req.distance_m, req.offset_m)]
        if not dark:
            continue
        for piece in _pieces(shapely.union_all(dark).intersection(ward), req.min_length_m):
            total += piece.length
            features.append(({"road_id": road.attrs["road_id"], "name": road.attrs["name"],
                              "length_m": round(piece.length, 2)}, piece))
    fc = to_feature_collection(conn, features)
    fc["properties"] = {"ward": req.ward, "distance_m": req.distance_m, "offset_m": req.offset_m,
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
