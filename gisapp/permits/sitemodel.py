"""A proposal (what the applicant wants to build) and its site (what is on and around it)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shapely import unary_union
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from gisapp.analysis.raster_stats import raster_stats
from gisapp.errors import BadRequest
from gisapp.permits.coverage import corridor_reach
from gisapp.permits.rules import Rule
from gisapp.permits.site import find_parcel, footprint_to_metric
from gisapp.spatial import Feature, nearby
from layers.drainage import DRAINAGE_PIPES
from layers.planning import FLOOD_ZONES, HERITAGE_AREAS, ROAD_RESERVES, ZONING

PROPOSED_USES = ("residential", "commercial", "mixed", "office", "public", "industrial")
MAX_FLOORS, MAX_HEIGHT_M = 200, 1000.0


@dataclass(frozen=True)
class Proposal:
    """The application: parcel, footprint (GeoJSON in 4326 or 5899) or its area, floors, height, use."""

    parcel_uid: str
    use: str
    floors: int
    height_m: float
    footprint: dict | None = None
    footprint_crs: str | None = None
    footprint_area_m2: float | None = None

    @classmethod
    def parse(cls, body: Any) -> "Proposal":
        """From a request body; BadRequest naming the first bad field."""
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        uid = body.get("parcel_uid")
        if not isinstance(uid, str) or not uid:
            raise BadRequest("parcel_uid is required, e.g. 20242-20245-14-125")
        use = body.get("use")
        if use not in PROPOSED_USES:
            raise BadRequest(f"use {use!r} is not one of {', '.join(PROPOSED_USES)}")
        floors, height = body.get("floors"), body.get("height_m")
        if not isinstance(floors, int) or isinstance(floors, bool) or not 1 <= floors <= MAX_FLOORS:
            raise BadRequest(f"floors must be an integer from 1 to {MAX_FLOORS}")
        if not isinstance(height, (int, float)) or not 0 < height <= MAX_HEIGHT_M:
            raise BadRequest(f"height_m must be a number above 0 and at most {MAX_HEIGHT_M}")
        footprint, area = body.get("footprint"), body.get("footprint_area_m2")
        if (footprint is None) == (area is None):
            raise BadRequest("give exactly one of footprint (GeoJSON polygon) or "
                             "footprint_area_m2")
        if area is not None and (not isinstance(area, (int, float)) or area <= 0):
            raise BadRequest("footprint_area_m2 must be a positive number of m²")
        return cls(uid, use, floors, float(height), footprint, body.get("footprint_crs"),
                   None if area is None else float(area))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Site:
    """The parcel, its zone and the constraint features near it, all in EPSG:5899."""

    parcel: Feature
    lot_area: float
    net_lot_area: float
    zone: Feature | None
    zones: list[dict]
    footprint: BaseGeometry | None
    footprint_area: float
    reserves: list[Feature]
    pipes: list[Feature]
    floods: list[Feature]
    heritage: list[Feature]
    elevation: dict | None
    flood_depth: dict | None


def net_lot_area(lot: BaseGeometry, reserves: list[Feature]) -> float:
    """The lot's area (m²) outside every road reserve: what coverage is measured against.

    Crossing streets' reserves overlap at a corner lot, so their union is taken, not a sum.
    """
    if not reserves:
        return lot.area
    return lot.area - lot.intersection(unary_union([r.geom for r in reserves])).area


def search_distance(rules: dict[str, Rule]) -> float:
    """How far around the parcel constraints are looked for: the widest rule reach."""
    reach = [0.0]
    if "street_setback" in rules:
        reach.append(float(rules["street_setback"].params["frontage_search_m"]))
    if "drainage_corridor" in rules:
        reach.append(corridor_reach(rules["drainage_corridor"].params))
    return max(reach)


def gather_site(conn: Connection, proposal: Proposal, rules: dict[str, Rule],
                data_dir: Path) -> Site:
    """Load everything the rules measure for this proposal."""
    parcel = find_parcel(conn, proposal.parcel_uid)
    lot = parcel.geom
    footprint = None
    if proposal.footprint is not None:
        footprint = footprint_to_metric(conn, proposal.footprint, proposal.footprint_crs)
    reach = search_distance(rules)
    around = lot if footprint is None else lot.union(footprint)
    reserves = nearby(conn, ROAD_RESERVES, around, reach)
    zones = []
    for z in nearby(conn, ZONING, lot, 0.0):
        area = lot.intersection(z.geom).area
        if area > 0:
            zones.append((area, z))
    zones.sort(key=lambda item: -item[0])
    elevation = flood_depth = None
    if "ground_elevation" in rules:
        elevation = raster_stats(conn, rules["ground_elevation"].params["elevation_raster"],
                                 lot, data_dir)
    if "flood_zone" in rules:
        flood_depth = raster_stats(conn, rules["flood_zone"].params["flood_depth_raster"],
                                   lot, data_dir)
    return Site(
        parcel=parcel, lot_area=lot.area, net_lot_area=net_lot_area(lot, reserves),
        zone=zones[0][1] if zones else None,
        zones=[{"zone_code": z.attrs["zone_code"], "overlap_m2": round(a, 2)} for a, z in zones],
        footprint=footprint,
        footprint_area=footprint.area if footprint is not None else proposal.footprint_area_m2,
        reserves=reserves, pipes=nearby(conn, DRAINAGE_PIPES, around, reach),
        floods=nearby(conn, FLOOD_ZONES, lot, 0.0), heritage=nearby(conn, HERITAGE_AREAS, lot, 0.0),
        elevation=elevation, flood_depth=flood_depth)
