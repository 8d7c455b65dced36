"""The drainage network as a directed graph: traces up or down from a node, quality findings.

Pipes run from_node → to_node (the flow direction). A trace is a recursive CTE whose UNION
drops already-reached nodes, so cycles in the data cannot make it loop. Lengths and the
catchment buffer are in EPSG:5899 metres.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, literal, select

from gisapp.errors import BadRequest, NotFound
from gisapp.query_args import finite_number
from gisapp.spatial import METRIC_SRID
from layers import Access
from layers.drainage import DRAINAGE_NODES, DRAINAGE_PIPES
from layers.land import PARCELS
from store.tables import LAYER_TABLES

DIRECTIONS = ("downstream", "upstream")
MAX_CATCHMENT_M = 500.0
# A degree spans at least 100 km anywhere in Vietnam (longitude at 23.4° N: 102 km), so
# expanding a 4326 box by metres / 100 000 degrees never misses a parcel (index prefilter).
METRES_PER_DEGREE_MIN = 100_000.0


@dataclass(frozen=True)
class TraceRequest:
    """A trace: start node, direction, catchment distance (m) around the traced pipes."""

    node: str
    direction: str = "downstream"
    catchment_m: float = 30.0

    @classmethod
    def parse(cls, args) -> "TraceRequest":
        """From query-string arguments; BadRequest naming the bad one."""
        node = args.get("node")
        if not node:
            raise BadRequest("node is required: the node_id to trace from")
        direction = args.get("direction", "downstream")
        if direction not in DIRECTIONS:
            raise BadRequest(f"direction={direction!r}; use downstream or upstream")
        catchment = finite_number(args.get("catchment_m"), "catchment_m", 30.0, 0,
                                  MAX_CATCHMENT_M)
        return cls(node, direction, catchment)


def _feature(props: dict, geojson: str) -> dict:
    return {"type": "Feature", "properties": props, "geometry": json.loads(geojson)}


def trace(conn: Connection, req: TraceRequest, levels: frozenset[Access]) -> dict:
    """Pipes, nodes, outfalls, total length and catchment parcels reached from a node."""
    pipes, nodes, parcels = (LAYER_TABLES[DRAINAGE_PIPES.id], LAYER_TABLES[DRAINAGE_NODES.id],
                             LAYER_TABLES[PARCELS.id])
    if conn.execute(select(nodes.c.id).where(nodes.c.node_id == req.node)).first() is None:
        raise NotFound(f"no drainage node {req.node!r}")
    near, far = ((pipes.c.from_node, pipes.c.to_node) if req.direction == "downstream"
                 else (pipes.c.to_node, pipes.c.from_node))
    reach = select(literal(req.node).label("node")).cte("reach", recursive=True)
    reach = reach.union(select(far).join(reach, near == reach.c.node))
    reached = select(reach.c.node)

    pipe_fields = [pipes.c[f.name] for f in DRAINAGE_PIPES.visible_fields(levels)]
    metric = func.ST_Transform(pipes.c.geom, METRIC_SRID)
    pipe_rows = conn.execute(select(*pipe_fields, func.ST_Length(metric).label("length_m"),
                                    func.ST_AsGeoJSON(pipes.c.geom, 8).label("gj"))
                             .where(near.in_(reached)).order_by(pipes.c.pipe_id)).all()
    node_fields = [nodes.c[f.name] for f in DRAINAGE_NODES.visible_fields(levels)]
    node_rows = conn.execute(select(*node_fields, func.ST_AsGeoJSON(nodes.c.geom, 8).label("gj"))
                             .where(nodes.c.node_id.in_(reached))
                             .order_by(nodes.c.node_id)).all()
    features = [_feature({"feature": "pipe", **{k: v for k, v in r._mapping.items() if k != "gj"}},
                         r.gj) for r in pipe_rows]
    features += [_feature({"feature": "node", **{k: v for k, v in r._mapping.items() if k != "gj"}},
                          r.gj) for r in node_rows]
    onward = {r._mapping[near.name] for r in pipe_rows}
    ends = sorted(r.node_id for r in node_rows if r.node_id not in onward)
    outfalls = sorted(r.node_id for r in node_rows if r.kind == "outfall")
    catchment = []
    if pipe_rows and req.catchment_m > 0:
        traced = select(pipes.c.geom.label("g")).where(near.in_(reached)).cte("traced")
        margin = req.catchment_m / METRES_PER_DEGREE_MIN
        close = func.ST_DWithin(func.ST_Transform(parcels.c.geom, METRIC_SRID),
                                func.ST_Transform(traced.c.g, METRIC_SRID), req.catchment_m)
        catchment = list(conn.execute(
            select(parcels.c.parcel_uid).distinct()
            .select_from(parcels.join(traced, and_(
                parcels.c.geom.op("&&")(func.ST_Expand(traced.c.g, margin)), close)))
            .order_by(parcels.c.parcel_uid)).scalars())
    return {"type": "FeatureCollection", "features": features,
            "properties": {"start": req.node, "direction": req.direction,
                           "pipes": len(pipe_rows), "nodes": len(node_rows),
                           "total_length_m": round(sum(r.length_m for r in pipe_rows), 2),
                           "outfalls": outfalls, "ends": ends,
                           "catchment_m": req.catchment_m, "catchment_parcels": catchment}}
