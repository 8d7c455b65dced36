"""Split and merge requests: parsed from JSON bodies and checked geometrically.

Geometry is checked in EPSG:5899 (VN-2000 / TM-3, metres): split parts must cover the parent
within AREA_TOLERANCE of its area and must not overlap each other.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from gisapp.errors import BadRequest
from gisapp.land.points import VIETNAM
from gisapp.land.source import VN2000_TM3

MAX_PARTS = 50
AREA_TOLERANCE = 0.005  # 0.5 % of the parent's area
OVERLAP_M2 = 0.05
ADJACENT_M = 0.05  # merged parcels must touch (gaps up to 5 cm are survey noise)
_TO_METRIC = Transformer.from_crs(4326, VN2000_TM3, always_xy=True)


@dataclass(frozen=True)
class SplitPart:
    """One child: its WGS 84 polygon and, optionally, the parcel number to give it."""

    geometry: shapely.Geometry
    parcel_no: int | None = None


@dataclass(frozen=True)
class SplitRequest:
    parts: tuple[SplitPart, ...]


@dataclass(frozen=True)
class MergeRequest:
    parcels: tuple[str, ...]
    parcel_no: int | None = None


def _parcel_no(value, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99_999_999:
        raise BadRequest(f"{where}: parcel_no must be a positive integer")
    return value


def _polygon(value, where: str) -> shapely.Geometry:
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise BadRequest(f"{where}: geometry must be a GeoJSON Polygon or MultiPolygon (WGS 84)")
    try:
        geom = shape(value)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        raise BadRequest(f"{where}: geometry is not valid GeoJSON") from None
    if geom.is_empty or not geom.is_valid:
        reason = shapely.is_valid_reason(geom) if not geom.is_empty else "empty"
        raise BadRequest(f"{where}: geometry is not a valid polygon ({reason})")
    x1, y1, x2, y2 = geom.bounds
    if x1 < VIETNAM[0] or x2 > VIETNAM[2] or y1 < VIETNAM[1] or y2 > VIETNAM[3]:
        raise BadRequest(f"{where}: coordinates must be WGS 84 lon/lat inside Vietnam")
    return geom


def parse_split(body) -> SplitRequest:
    """{"parts": [{"geometry": <GeoJSON>, "parcel_no": n?}, …]} with 2 to 50 parts."""
    parts = body.get("parts") if isinstance(body, dict) else None
    if not isinstance(parts, list) or not 2 <= len(parts) <= MAX_PARTS:
        raise BadRequest(f'send {{"parts": [{{"geometry": …, "parcel_no": …}}, …]}} '
                         f"with 2 to {MAX_PARTS} parts")
    out = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise BadRequest(f"parts[{i}] must be an object with a geometry")
        out.append(SplitPart(_polygon(part.get("geometry"), f"parts[{i}]"),
                             _parcel_no(part.get("parcel_no"), f"parts[{i}]")))
    numbers = [p.parcel_no for p in out if p.parcel_no is not None]
    if len(numbers) != len(set(numbers)):
        raise BadRequest("two parts ask for the same parcel_no")
    return SplitRequest(tuple(out))


def parse_merge(body) -> MergeRequest:
    """{"parcels": [uid, uid, …], "parcel_no": n?} with 2 to 50 distinct parcel ids."""
    uids = body.get("parcels") if isinstance(body, dict) else None
    if (not isinstance(uids, list) or not 2 <= len(uids) <= MAX_PARTS
            or not all(isinstance(u, str) and 0 < len(u) <= 100 for u in uids)):
        raise BadRequest(f'send {{"parcels": ["<parcel id>", …]}} with 2 to {MAX_PARTS} ids')
    if len(set(uids)) != len(uids):
        raise BadRequest("a parcel is listed twice")
    return MergeRequest(tuple(uids), _parcel_no(body.get("parcel_no"), "merge"))


def metric(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry in EPSG:5899 metres."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1])))


def check_split_cover(parent: shapely.Geometry, parts: list[shapely.Geometry]) -> None:
    """Parts must not overlap and must cover the parent within 0.5 % of its area."""
    parent_m, parts_m = metric(parent), [metric(p) for p in parts]
    union = shapely.union_all(parts_m)
    overlap = sum(p.area for p in parts_m) - union.area
    if overlap > OVERLAP_M2:
        raise BadRequest(f"the parts overlap by {overlap:.2f} m²; they must not overlap")
    mismatch = parent_m.symmetric_difference(union).area
    if mismatch > AREA_TOLERANCE * parent_m.area:
        raise BadRequest(f"the parts differ from the parcel by {mismatch:.1f} m² of its "
                         f"{parent_m.area:.1f} m²; at most {AREA_TOLERANCE:.1%} is allowed")


def check_adjacent(geoms: list[shapely.Geometry]) -> None:
    """Merged parcels must form one connected area."""
    joined = shapely.union_all([metric(g).buffer(ADJACENT_M) for g in geoms])
    if joined.geom_type != "Polygon":
        raise BadRequest("the parcels are not adjacent: only touching parcels can be merged")
