"""Area queries: features of a layer within a drawn polygon or within N metres of a feature.

A feature counts when it intersects the area. Counts and sums group by one attribute;
names come from the registry and the caller's visible fields, never from the client raw.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from sqlalchemy import Connection, func, literal, select

from gisapp.errors import BadRequest, NotFound
from gisapp.json_input import text_member
from gisapp.spatial import METRIC_SRID
from layers import Access, FieldType, Layer, get_layer
from store.tables import LAYER_TABLES

MAX_FEATURES = 5000
MAX_DISTANCE_M = 5000.0
NUMERIC = (FieldType.INTEGER, FieldType.FLOAT)


@dataclass(frozen=True)
class WithinRequest:
    """A layer, an area (polygon, or a feature and a distance), grouping and summing fields."""

    layer: Layer
    polygon: dict | None
    near_layer: Layer | None
    near_id: int | None
    distance_m: float
    group_by: str | None
    sum_field: str | None
    limit: int

    @classmethod
    def parse(cls, body, levels: frozenset[Access]) -> "WithinRequest":
        """From a JSON body; BadRequest naming the bad member."""
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        layer = get_layer(str(body.get("layer")))
        visible = {f.name: f for f in layer.visible_fields(levels)}
        group_by, sum_field = text_member(body, "group_by"), text_member(body, "sum")
        if group_by is not None and group_by not in visible:
            raise BadRequest(f"group_by {group_by!r} is not a field of {layer.id}; "
                             f"fields: {', '.join(visible)}")
        if sum_field is not None and (sum_field not in visible
                                      or visible[sum_field].type not in NUMERIC):
            numeric = [n for n, f in visible.items() if f.type in NUMERIC]
            raise BadRequest(f"sum {sum_field!r} is not a numeric field of {layer.id}; "
                             f"numeric fields: {', '.join(numeric) or 'none'}")
        polygon, near = body.get("polygon"), body.get("near")
        if (polygon is None) == (near is None):
            raise BadRequest("give exactly one of polygon (GeoJSON, WGS 84) or "
                             "near {layer, id, distance_m}")
        near_layer = near_id = None
        distance = 0.0
        if polygon is not None:
            if not isinstance(polygon, dict) or polygon.get("type") not in ("Polygon", "MultiPolygon"):
                raise BadRequest("polygon must be a GeoJSON Polygon or MultiPolygon in WGS 84")
        else:
            if not isinstance(near, dict):
                raise BadRequest("near must be an object {layer, id, distance_m}")
            near_layer = get_layer(str(near.get("layer")))
            near_id, distance = near.get("id"), near.get("distance_m", 0)
            if not isinstance(near_id, int):
                raise BadRequest("near.id must be the feature's integer id")
            if not isinstance(distance, (int, float)) or not 0 <= distance <= MAX_DISTANCE_M:
                raise BadRequest(f"near.distance_m must be 0-{MAX_DISTANCE_M:g} m")
        limit = body.get("limit", 1000)
        if not isinstance(limit, int) or not 0 <= limit <= MAX_FEATURES:
            raise BadRequest(f"limit must be an integer 0-{MAX_FEATURES}")
        return cls(layer, polygon, near_layer, near_id, float(distance), group_by, sum_field,
                   limit)


def _area(conn: Connection, req: WithinRequest):
    if req.polygon is not None:
        area = func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(req.polygon)), 4326)
        if not conn.execute(select(func.ST_IsValid(area))).scalar():
            raise BadRequest("polygon is not a valid polygon (self-intersecting?)")
        return area
    src = LAYER_TABLES[req.near_layer.id]
    geom = conn.execute(select(func.ST_AsBinary(func.ST_Transform(src.c.geom, METRIC_SRID)))
                        .where(src.c.id == req.near_id)).scalar()
    if geom is None:
        raise NotFound(f"no {req.near_layer.id} feature with id {req.near_id}")
    return func.ST_Transform(func.ST_Buffer(func.ST_GeomFromWKB(geom, METRIC_SRID),
                                            req.distance_m), 4326)


def within(conn: Connection, req: WithinRequest, levels: frozenset[Access]) -> dict:
    """Counts (and sums) by the grouping field, and the matching features up to the limit."""
    t = LAYER_TABLES[req.layer.id]
    area = _area(conn, req)
    cond = func.ST_Intersects(t.c.geom, area)
    key = t.c[req.group_by] if req.group_by else literal(None)
    total = func.sum(t.c[req.sum_field]) if req.sum_field else literal(None)
    groups = [{"value": r.value, "count": r.n, "sum": None if r.total is None else float(r.total)}
              for r in conn.execute(select(key.label("value"), func.count().label("n"),
                                           total.label("total"))
                                    .where(cond).group_by(key).order_by(key))]
    cols = [t.c[f.name] for f in req.layer.visible_fields(levels)]
    rows = conn.execute(select(t.c.id, *cols, func.ST_AsGeoJSON(t.c.geom, 8).label("gj"))
                        .where(cond).order_by(t.c.id).limit(req.limit))
    feats = [{"type": "Feature", "id": r.id, "geometry": json.loads(r.gj),
              "properties": {k: v for k, v in r._mapping.items() if k not in ("gj", "id")}}
             for r in rows]
    count = sum(g["count"] for g in groups)
    return {"type": "FeatureCollection", "features": feats,
            "properties": {"layer": req.layer.id, "count": count, "returned": len(feats),
                           "group_by": req.group_by, "sum": req.sum_field, "groups": groups}}


def as_csv(fc: dict) -> str:
    """The features' attributes as CSV (id first, then the visible fields)."""
    out = io.StringIO()
    names = list(fc["features"][0]["properties"]) if fc["features"] else []
    writer = csv.writer(out)
    writer.writerow(["id", *names])
    for f in fc["features"]:
        writer.writerow([f["id"], *(f["properties"][n] for n in names)])
    return out.getvalue()
