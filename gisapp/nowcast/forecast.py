"""The now-cast itself: streets and parcels at risk at a moment and horizon, each explained.

Per catchment (gisapp.nowcast.network): rain i by inverse-distance weighting of the gauges'
projected intensities, peak runoff Q = C i A summed down the network, and each pipe's ratio
Q / full-flow capacity; a stopped pump's outlet carries nothing. A street piece or parcel
takes the ratio of the pipe its catchment's water enters (where a full pipe makes water
come out), or of a stopped pump downstream (its whole basin backs up), then is raised a
level when it is a low point or lies in a high-risk flood zone.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import psycopg

from gisapp.errors import BadRequest
from gisapp.features.crs import CRS84
from gisapp.features.params import parse_bbox
from gisapp.nowcast.hydraulics import (MANNING_N, MIN_SLOPE, RUNOFF_COEFFICIENT, idw,
                                       peak_runoff, projected_intensity)
from gisapp.nowcast.inputs import gauge_rain, pump_states
from gisapp.nowcast.network import (CATCHMENT_REACH_M, LOW_POINT_RING_M, Network, Target,
                                    lonlat_geojson, network_for)
from gisapp.query_args import aware_instant
from layers import Access
from layers.base import ROADS
from layers.land import PARCELS

MAX_HORIZON_H = 3
EARLIEST = datetime(1970, 1, 2, tzinfo=timezone.utc)
MAX_AHEAD = timedelta(days=1)
MAX_INTENSITY_MM_H = 200.0
RAIN_FLOOR_MM_H = 2.0  # below this no street or parcel is rated
RATIO_LEVELS = ((1.0, 2), (0.75, 1), (0.5, 0))  # ratio at least -> level (0 low .. 2 high)
LOW_POINT_M = 0.15
RISKS = ("low", "medium", "high")
# What a street piece or parcel shows of its layer (each still filtered by access level).
SHOWN = {"street": (ROADS, ("road_id", "name", "road_class")),
         "parcel": (PARCELS, ("parcel_uid", "ward_code", "land_use", "street", "address"))}
DISCLAIMER = {
    "vi": "Dự báo ngập là công cụ hỗ trợ ra quyết định, không phải mô hình thủy lực: phương "
          "pháp cường độ mưa (Q = C i A) theo từng lưu vực so với khả năng thoát của cống, "
          "cùng các điểm trũng và vùng ngập. Hãy kiểm tra tại hiện trường.",
    "en": "The flood now-cast is a decision aid, not a hydraulic model: the rational method "
          "(Q = C i A) per catchment against pipe capacity, plus low points and flood zones. "
          "Check on the ground.",
}
METHOD = {
    "vi": "Mưa giờ qua tại các trạm (xu hướng so với giờ trước cho các giờ tới), nội suy "
          "nghịch đảo khoảng cách lên lưu vực của từng nút; lưu lượng đỉnh Q = C i A cộng dồn "
          "theo mạng; tỷ lệ Q / khả năng thoát đầy ống (Manning); trạm bơm dừng không thoát "
          "được; nâng một mức cho điểm trũng và vùng ngập nguy cơ cao.",
    "en": "Last hour's rain at the gauges (moved by the change from the hour before for the "
          "hours ahead), inverse-distance weighted onto each node's catchment; peak runoff "
          "Q = C i A summed down the network; ratio Q / full-flow capacity (Manning); a "
          "stopped pump drains nothing; one level up for low points and high flood zones.",
}


@dataclass(frozen=True)
class NowcastRequest:
    """When the now-cast is for (`at`, aware), how many hours ahead (0-3) and where (a lon/lat
    bbox; None: the whole city)."""

    at: datetime
    horizon: int
    bbox: tuple[float, float, float, float] | None = None

    @classmethod
    def parse(cls, at: str | None, horizon: str | None, now: datetime,
              bbox: str | None = None) -> "NowcastRequest":
        """From query text: `at` an ISO 8601 instant with a timezone (default now), `horizon`
        a whole number of hours 0-3 (default 0), `bbox` minlon,minlat,maxlon,maxlat;
        BadRequest naming what is wrong."""
        moment = aware_instant(at or None, "at") or now
        if at:
            if not EARLIEST <= moment <= now + MAX_AHEAD:
                raise BadRequest(f"at must lie between {EARLIEST.date()} and a day from now, "
                                 f"not {at!r}")
        hours = 0
        if horizon not in (None, ""):
            if not re.fullmatch(r"[0-9]{1,2}", horizon) or int(horizon) > MAX_HORIZON_H:
                raise BadRequest(f"horizon must be a whole number of hours from 0 to "
                                 f"{MAX_HORIZON_H}, not {horizon!r}")
            hours = int(horizon)
        return cls(moment.astimezone(timezone.utc), hours, parse_bbox(bbox, CRS84))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _round(value: float, digits: int = 3) -> float | None:
    return None if not math.isfinite(value) else round(float(value), digits)


def _level(ratio: float) -> int | None:
    for least, level in RATIO_LEVELS:
        if ratio >= least:
            return level
    return None


@dataclass
class _Flows:
    intensity: np.ndarray  # mm/h on each node's catchment
    q: np.ndarray  # m³/s in the pipe leaving each node
    upstream_area: np.ndarray
    ratio: np.ndarray
    worst: np.ndarray  # the node whose pipe rates it: its own, or a stopped pump downstream
    stopped: set[str]


def _flows(net: Network, intensity: np.ndarray, stopped: set[str]) -> _Flows:
    q = peak_runoff(intensity, net.area_m2) if len(net.area_m2) else np.zeros(0)
    area = net.area_m2.copy()
    for n in net.order:
        p = net.parent[n]
        if p >= 0:
            q[p] += q[n]
            area[p] += area[n]
    ratio = np.zeros(len(q))
    for n, pipe in enumerate(net.pipes):
        capacity = 0.0 if net.node_ids[n] in stopped else (pipe or {}).get("capacity_m3_s", 0.0)
        if pipe is None and net.node_ids[n] not in stopped:
            continue  # an outfall (or a dead end) lets its water go
        ratio[n] = q[n] / capacity if capacity > 0 else (math.inf if q[n] > 0 else 0.0)
    worst = np.arange(len(q))
    for n in reversed(net.order):  # downstream nodes first
        p = net.parent[n]
        if p >= 0 and net.node_ids[worst[p]] in stopped:
            worst[n] = worst[p]  # everything draining through a stopped pump backs up
    return _Flows(intensity, q, area, ratio, worst, stopped)


def _node_explain(net: Network, flows: _Flows, n: int) -> tuple[int, dict] | None:
    """The level and the inputs a catchment's targets share; None when it is not at risk."""
    rain = float(flows.intensity[n])
    if rain < RAIN_FLOOR_MM_H:
        return None
    w = int(flows.worst[n])
    ratio = float(flows.ratio[w])
    level = _level(ratio)
    if level is None:
        return None
    pipe = net.pipes[w] or {}
    stopped = net.node_ids[w] if net.node_ids[w] in flows.stopped else None
    if stopped:
        reason = {"code": "pump_stopped", "vi": f"Trạm bơm {stopped} dừng: nước không "
                  "thoát được", "en": f"Pump station {stopped} stopped: no outlet"}
    elif not math.isfinite(ratio):
        reason = {"code": "pipe_capacity",
                  "vi": f"Cống {pipe.get('pipe_id')} không có đường kính: không tính được "
                        "khả năng thoát",
                  "en": f"Pipe {pipe.get('pipe_id')} has no diameter: no capacity counted"}
    else:
        pct = round(ratio * 100)
        reason = {"code": "pipe_capacity",
                  "vi": f"Cống {pipe.get('pipe_id')} chịu {pct}% khả năng thoát đầy ống",
                  "en": f"Pipe {pipe.get('pipe_id')} at {pct}% of its full-flow capacity"}
    upstream = float(flows.upstream_area[w])
    mean_i = flows.q[w] * 3_600_000.0 / (RUNOFF_COEFFICIENT * upstream) if upstream else 0.0
    ward = net.wards[n]
    return level, {
        "rain_mm_h": round(rain, 1),
        "catchment": {"node_id": net.node_ids[n], "ward": ward,
                      "ward_name": net.ward_names.get(ward), "area_m2": round(
                          float(net.area_m2[n]))},
        "runoff": {"method": "rational", "c": RUNOFF_COEFFICIENT, "i_mm_h": round(mean_i, 1),
                   "contributing_area_m2": round(upstream), "q_m3_s": _round(flows.q[w])},
        "pipe": {"pipe_id": pipe.get("pipe_id"), "from_node": net.node_ids[w],
                 "diameter_mm": pipe.get("diameter_mm"), "slope": pipe.get("slope"),
                 "material": pipe.get("material"),
                 "capacity_m3_s": _round(0.0 if stopped else pipe.get("capacity_m3_s", 0.0)),
                 "ratio": _round(ratio, 2)},
        "pump_stopped": stopped,
        "reasons": [reason],
    }


def _explain(node: tuple[int, dict], target: Target) -> tuple[int, dict]:
    """A target's level and inputs: its catchment's, raised for a low point or flood zone."""
    level, shared = node
    reasons = list(shared["reasons"])
    if target.low_point_m is not None and target.low_point_m >= LOW_POINT_M:
        level += 1
        reasons.append({"code": "low_point",
                        "vi": f"Điểm trũng: thấp hơn xung quanh {target.low_point_m} m",
                        "en": f"Low point: {target.low_point_m} m below its surroundings"})
    if target.flood_zone and target.flood_zone["risk"] == "high":
        level += 1
        reasons.append({"code": "flood_zone",
                        "vi": f"Trong vùng ngập nguy cơ cao {target.flood_zone['zone_id']}",
                        "en": f"In high-risk flood zone {target.flood_zone['zone_id']}"})
    return min(level, 2), {**shared, "elevation_m": target.elevation_m,
                           "low_point_depth_m": target.low_point_m,
                           "flood_zone": target.flood_zone, "reasons": reasons}


def _label(target: Target, net: Network, risk: str) -> dict[str, str]:
    ward = net.ward_names.get(net.wards[target.node]) or net.wards[target.node]
    words = {"low": ("thấp", "low"), "medium": ("trung bình", "medium"),
             "high": ("cao", "high")}[risk]
    if target.kind == "street":
        name = target.properties.get("name") or target.properties["road_id"]
        return {"vi": f"{name} ({ward}): nguy cơ ngập {words[0]}",
                "en": f"{name} ({ward}): {words[1]} flood risk"}
    return {"vi": f"Thửa {target.key} ({ward}): nguy cơ ngập {words[0]}",
            "en": f"Parcel {target.key} ({ward}): {words[1]} flood risk"}


def run_nowcast(conn: psycopg.Connection, data_dir: Path, req: NowcastRequest,
                levels: frozenset[Access]) -> dict:
    """The now-cast as a GeoJSON FeatureCollection with its inputs, for these access levels.

    Only the layers `levels` may see are rated, and only their fields `levels` may read.
    """
    net = network_for(conn, data_dir)
    gauges = gauge_rain(conn, req.at)
    used = [g for g in gauges if g.readings > 0]
    projected = np.array([projected_intensity(g.last_hour_mm, g.hour_before_mm, req.horizon,
                                              MAX_INTENSITY_MM_H) for g in used])
    stations = np.array([(g.x, g.y) for g in used]).reshape(-1, 2)
    intensity = idw(net.centroids, stations, projected) if len(net.centroids) else np.zeros(0)
    pumps = pump_states(conn, req.at)
    stopped = {p.node_id for p in pumps.values() if p.outlet_closed}
    flows = _flows(net, intensity, stopped)
    rated = []
    nodes: dict[int, tuple[int, dict] | None] = {}
    for target in net.targets_in(req.bbox):
        if SHOWN[target.kind][0].access not in levels:
            continue
        if target.node not in nodes:
            nodes[target.node] = _node_explain(net, flows, target.node)
        if nodes[target.node] is not None:
            level, explain = _explain(nodes[target.node], target)
            rated.append((level, target, explain))
    rated.sort(key=lambda r: (-r[0], r[1].kind, r[1].key))
    geometries = lonlat_geojson([t for _, t, _ in rated])
    shown = {kind: {f.name for f in layer.visible_fields(levels)} & set(names)
             for kind, (layer, names) in SHOWN.items()}
    features = []
    for (level, target, explain), geometry in zip(rated, geometries):
        props = {k: v for k, v in target.properties.items() if k in shown[target.kind]}
        risk = RISKS[level]
        features.append({"type": "Feature", "id": f"{target.kind}/{target.key}",
                         "geometry": geometry,
                         "properties": {"kind": target.kind, "risk": risk,
                                        "label": _label(target, net, risk), **props,
                                        "explain": explain}})
    used_codes = {g.code for g in used}
    return {
        "type": "FeatureCollection",
        "at": _iso(req.at), "horizon_h": req.horizon, "bbox": req.bbox,
        "valid_at": _iso(req.at + timedelta(hours=req.horizon)),
        "disclaimer": DISCLAIMER,
        "method": {**METHOD, "runoff_coefficient": RUNOFF_COEFFICIENT, "manning_n": MANNING_N,
                   "min_slope": MIN_SLOPE, "catchment_reach_m": CATCHMENT_REACH_M,
                   "low_point_ring_m": LOW_POINT_RING_M, "low_point_m": LOW_POINT_M,
                   "rain_floor_mm_h": RAIN_FLOOR_MM_H,
                   "ratio_levels": {RISKS[lv]: least for least, lv in RATIO_LEVELS}},
        "gauges": [{"code": g.code, "name": g.name, "used": g.code in used_codes,
                    "last_hour_mm": g.last_hour_mm, "hour_before_mm": g.hour_before_mm,
                    "readings": g.readings,
                    "intensity_mm_h": round(projected_intensity(
                        g.last_hour_mm, g.hour_before_mm, req.horizon, MAX_INTENSITY_MM_H), 1)
                    if g.code in used_codes else None} for g in gauges],
        "pumps_stopped": [{"node_id": p.node_id, "reported_at": _iso(p.reported_at),
                           "level_rise_m": p.level_rise_m, "outlet_closed": p.outlet_closed}
                          for p in pumps.values() if p.running is False],
        "pumps_unknown": sorted(p.node_id for p in pumps.values() if p.running is None),
        "network": {"catchments": len(net.node_ids), "streets": sum(
            t.kind == "street" for t in net.targets), "parcels": sum(
            t.kind == "parcel" for t in net.targets), "built_in_s": net.built_in_s},
        "counts": {risk: sum(f["properties"]["risk"] == risk for f in features)
                   for risk in reversed(RISKS)},
        "features": features,
    }
