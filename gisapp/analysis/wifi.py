"""Public Wi-Fi coverage: discs of each online access point's nominal range, in EPSG:5899.

Per ward: the share of its area covered, and of its parcels (by count touching coverage
and by area); public places (parcels of public-use land) that no access point reaches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, bindparam, func, select

from gisapp.analysis.area import ward_area, ward_codes
from gisapp.spatial import METRIC_SRID, nearby, to_feature_collection
from layers.land import PARCELS
from layers.wifi import WIFI_APS
from store.tables import LAYER_TABLES

ONLINE = "online"
QUAD_SEGS = 64  # range discs as 256-gons: area within 0.01 % of the circle
MAX_RANGE_M = 1000.0  # how far beyond a ward an access point may stand and still reach it
# Public places by cadastral land use (Circular 08/2024 codes, see DOMAIN.md): markets,
# public recreation, education, health, culture, sport, government offices.
PUBLIC_PLACE_USES = ("DCH", "DKV", "DGD", "DYT", "DVH", "DTT", "TSC")


@dataclass(frozen=True)
class WardCoverage:
    """One ward's coverage figures and the uncovered public places in it."""

    figures: dict
    coverage: BaseGeometry
    uncovered: list[tuple[dict, BaseGeometry]]


def coverage_of(conn: Connection, area: BaseGeometry) -> BaseGeometry:
    """The union of online access points' range discs that reach into `area`."""
    aps = [f for f in nearby(conn, WIFI_APS, area, MAX_RANGE_M)
           if f.attrs["status"] == ONLINE and f.attrs["range_m"]]
    discs = [f.geom.buffer(f.attrs["range_m"], quad_segs=QUAD_SEGS) for f in aps]
    return shapely.unary_union(discs).intersection(area) if discs else shapely.Polygon()


def _parcels_in(conn: Connection, ward: BaseGeometry) -> tuple[list[dict], np.ndarray]:
    t = LAYER_TABLES[PARCELS.id]
    zone = func.ST_Transform(func.ST_GeomFromWKB(bindparam("ward", shapely.to_wkb(ward)),
                                                 METRIC_SRID), 4326)
    rows = conn.execute(select(t.c.parcel_uid, t.c.land_use, t.c.address,
                               func.ST_AsBinary(func.ST_Transform(t.c.geom, METRIC_SRID)).label("wkb"))
                        .where(func.ST_Intersects(t.c.geom, zone),
                               func.ST_Intersects(func.ST_PointOnSurface(t.c.geom), zone))
                        .order_by(t.c.parcel_uid)).all()
    props = [{"parcel_uid": r.parcel_uid, "land_use": r.land_use, "address": r.address}
             for r in rows]
    return props, shapely.from_wkb(np.array([r.wkb for r in rows], dtype=object))


def ward_coverage(conn: Connection, code: str) -> WardCoverage:
    """Coverage figures of one ward; a parcel belongs to the ward holding its inner point."""
    attrs, ward = ward_area(conn, code)
    cover = coverage_of(conn, ward)
    props, geoms = _parcels_in(conn, ward)
    shapely.prepare(cover)
    touched = shapely.intersects(cover, geoms) if len(geoms) else np.array([], dtype=bool)
    parcel_area = float(shapely.area(geoms).sum()) if len(geoms) else 0.0
    covered_area = float(shapely.area(shapely.intersection(geoms[touched], cover)).sum()) \
        if touched.any() else 0.0
    uncovered = [(p, g) for p, g, hit in zip(props, geoms, touched)
                 if not hit and p["land_use"] in PUBLIC_PLACE_USES]
    figures = {"ward": code, "name": attrs.get("name"),
               "area_m2": round(ward.area, 1), "covered_m2": round(cover.area, 1),
               "covered_pct": round(100 * cover.area / ward.area, 2),
               "parcels": len(props), "parcels_touched": int(touched.sum()),
               "parcels_touched_pct": round(100 * touched.sum() / len(props), 2) if props else None,
               "parcel_area_covered_pct": round(100 * covered_area / parcel_area, 2)
               if parcel_area else None,
               "uncovered_public_places": len(uncovered)}
    return WardCoverage(figures, cover, uncovered)


def coverage_table(conn: Connection) -> list[dict]:
    """The per-ward table for every ward."""
    return [ward_coverage(conn, code).figures for code in ward_codes(conn)]


def coverage_geojson(conn: Connection, code: str) -> dict:
    """A ward's coverage area and its uncovered public places as one FeatureCollection."""
    wc = ward_coverage(conn, code)
    shapes = [({"feature": "coverage", **wc.figures}, wc.coverage)] if not wc.coverage.is_empty \
        else []
    shapes += [({"feature": "uncovered_public_place", **p}, g) for p, g in wc.uncovered]
    fc = to_feature_collection(conn, shapes)
    fc["properties"] = wc.figures
    return fc
