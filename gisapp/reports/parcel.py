"""The parcel report: land record, zoning and its rules, constraints, terrain, services nearby.

Every area and distance is measured in EPSG:5899. Constraint overlaps use the rule
parameters in force (corridor widths per pipe class), so the report and a pre-check agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shapely import unary_union
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, select

from gisapp.analysis.nearest import nearest
from gisapp.analysis.raster_stats import raster_stats
from gisapp.permits.coverage import corridor_reach, max_net_coverage, pipe_corridor
from gisapp.permits.rules import active_rules
from gisapp.permits.site import find_parcel
from gisapp.permits.sitemodel import net_lot_area
from gisapp.spatial import Feature, nearby
from layers import Access
from layers.drainage import DRAINAGE_NODES, DRAINAGE_PIPES
from layers.land import LAND_USES, PARCELS
from layers.lighting import STREET_LIGHTS
from layers.planning import FLOOD_ZONES, HERITAGE_AREAS, ROAD_RESERVES, ZONING
from layers.wifi import WIFI_APS
from store.tables import PLAIN_TABLES

# Range discs as 256-gons: their area is within 0.01 % of the true circle's.
COVERAGE_QUAD_SEGS = 64


@dataclass(frozen=True)
class ReportOptions:
    """How far the report looks: lights around the parcel, Wi-Fi access points' reach."""

    light_radius_m: float = 30.0
    wifi_search_m: float = 300.0


def _overlap(lot: BaseGeometry, shape: BaseGeometry) -> dict:
    area = lot.intersection(shape).area
    return {"overlap_m2": round(area, 2), "overlap_pct": round(100 * area / lot.area, 2)}


def _constraints(conn: Connection, lot: BaseGeometry, rules: dict,
                 reserves: list[Feature]) -> dict:
    out: dict[str, list] = {}
    for layer, features in ((ROAD_RESERVES, reserves),
                            (FLOOD_ZONES, nearby(conn, FLOOD_ZONES, lot, 0.0)),
                            (HERITAGE_AREAS, nearby(conn, HERITAGE_AREAS, lot, 0.0))):
        rows = [{**{k: v for k, v in f.attrs.items() if k != "id"}, **_overlap(lot, f.geom)}
                for f in features]
        out[layer.id] = [r for r in rows if r["overlap_m2"] > 0]
    corridors = []
    if "drainage_corridor" in rules:
        params = rules["drainage_corridor"].params
        for p in nearby(conn, DRAINAGE_PIPES, lot, corridor_reach(params)):
            width, corridor = pipe_corridor(p, params)
            o = _overlap(lot, corridor)
            if o["overlap_m2"] > 0:
                corridors.append({"pipe_id": p.attrs["pipe_id"],
                                  "diameter_mm": p.attrs.get("diameter_mm"), "corridor_m": width, **o})
    out["drainage_corridors"] = corridors
    return out


def _lighting(conn: Connection, lot: BaseGeometry, opts: ReportOptions) -> dict:
    near = nearest(conn, STREET_LIGHTS, lot, {"status": "working"})
    around = nearby(conn, STREET_LIGHTS, lot, opts.light_radius_m)
    by_status: dict[str, int] = {}
    for f in around:
        by_status[f.attrs["status"] or "unknown"] = by_status.get(f.attrs["status"] or "unknown", 0) + 1
    watts = sum(f.attrs["wattage"] or 0 for f in around if f.attrs["status"] == "working")
    return {"nearest_working_light": {"light_id": near[0][0].attrs["light_id"],
                                      "distance_m": near[0][1]} if near else None,
            "radius_m": opts.light_radius_m, "lights_by_status": by_status,
            "working_watts": watts,
            "lit": by_status.get("working", 0) > 0}


def _wifi(conn: Connection, lot: BaseGeometry, opts: ReportOptions) -> dict:
    aps = [f for f in nearby(conn, WIFI_APS, lot, opts.wifi_search_m)
           if f.attrs["status"] == "online" and f.attrs["range_m"]]
    cover = unary_union([f.geom.buffer(f.attrs["range_m"], quad_segs=COVERAGE_QUAD_SEGS)
                         for f in aps]) if aps else None
    covered = lot.intersection(cover).area if cover is not None else 0.0
    reaching = [f.attrs["ap_id"] for f in aps if f.geom.distance(lot) <= f.attrs["range_m"]]
    return {"covered_m2": round(covered, 2), "covered_pct": round(100 * covered / lot.area, 2),
            "access_points": reaching}


def _land_record(conn: Connection, parcel: Feature, levels: frozenset[Access]) -> dict:
    fields = PARCELS.visible_fields(levels)
    t = PLAIN_TABLES[LAND_USES.id]
    uses = []
    if LAND_USES.access in levels:
        rows = conn.execute(select(t.c.land_use, t.c.area)
                            .where(t.c.parcel_uid == parcel.attrs["parcel_uid"])
                            .order_by(t.c.land_use))
        uses = [{"land_use": r.land_use, "area_m2": r.area} for r in rows]
    return {**{f.name: parcel.attrs[f.name] for f in fields},
            "computed_area_m2": round(parcel.geom.area, 2), "land_uses": uses}


def parcel_report(conn: Connection, parcel_uid: str, levels: frozenset[Access], data_dir: Path,
                  opts: ReportOptions = ReportOptions(), on: date | None = None) -> dict:
    """Everything the report shows, as one JSON-ready dict, plus `shapes` for its map."""
    parcel = find_parcel(conn, parcel_uid)
    lot = parcel.geom
    rules = active_rules(conn, on)
    zones = sorted(((lot.intersection(z.geom).area, z) for z in nearby(conn, ZONING, lot, 0.0)),
                   key=lambda item: -item[0])
    zone = zones[0][1].attrs if zones and zones[0][0] > 0 else None
    reserves = nearby(conn, ROAD_RESERVES, lot, 0.0)
    net_lot = net_lot_area(lot, reserves)
    coverage = None
    if "net_coverage" in rules and net_lot > 0:
        coverage = round(max_net_coverage(net_lot, rules["net_coverage"].params["breakpoints"]), 2)
    manhole = nearest(conn, DRAINAGE_NODES, lot, {"kind": "manhole"})
    rasters = {}
    for rid, key in (("ground_elevation", "elevation_raster"), ("flood_zone", "flood_depth_raster")):
        if rid in rules:
            name = rules[rid].params[key]
            rasters[name] = raster_stats(conn, name, lot, data_dir)
    return {
        "parcel_uid": parcel_uid,
        "land_record": _land_record(conn, parcel, levels),
        "zoning": {"zone": {k: v for k, v in zone.items() if k != "id"} if zone else None,
                   "lot_area_m2": round(net_lot, 2), "qcvn_max_coverage_pct": coverage,
                   "rule_versions": {rid: r.version for rid, r in rules.items()}},
        "constraints": _constraints(conn, lot, rules, reserves),
        "rasters": rasters,
        "nearest_manhole": {"node_id": manhole[0][0].attrs["node_id"],
                            "distance_m": manhole[0][1]} if manhole else None,
        "lighting": _lighting(conn, lot, opts),
        "wifi": _wifi(conn, lot, opts),
    }


def report_shapes(conn: Connection, parcel_uid: str, around_m: float = 15.0,
                  opts: ReportOptions = ReportOptions()) -> list[tuple[str, BaseGeometry]]:
    """(kind, 5899 geometry) for the report's map: the parcel, constraints and services near it."""
    lot = find_parcel(conn, parcel_uid).geom
    shapes: list[tuple[str, BaseGeometry]] = []
    for layer, kind in ((ROAD_RESERVES, "road_reserve"), (FLOOD_ZONES, "flood_zone"),
                        (HERITAGE_AREAS, "heritage_area")):
        shapes += [(kind, f.geom) for f in nearby(conn, layer, lot, around_m)]
    shapes.append(("parcel", lot))
    shapes += [("drainage_pipe", f.geom) for f in nearby(conn, DRAINAGE_PIPES, lot, around_m)]
    shapes += [("street_light", f.geom) for f in nearby(conn, STREET_LIGHTS, lot, opts.light_radius_m)]
    shapes += [("manhole", f.geom) for f, _ in nearest(conn, DRAINAGE_NODES, lot, {"kind": "manhole"})]
    frame = lot.buffer(max(around_m, opts.light_radius_m) * 2)
    return [(k, g.intersection(frame)) for k, g in shapes if not g.intersection(frame).is_empty]
