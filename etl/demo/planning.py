"""Planning layers: zoning by block groups, flood zones by the river, heritage areas, road reserves."""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from etl.demo import places
from etl.demo.streets import U_SUBDIVISIONS, V_SUBDIVISIONS, Road, WardGrid
from etl.demo.terrain import metric_point

# category -> (max_coverage %, max_floors, max_height_m, min_setback_m, max_far, allowed uses)
ZONE_RULES = {
    "residential": (80.0, 6, 25.0, 0.0, 4.5, "ODT;CLN;TMD"),
    "mixed": (80.0, 9, 35.0, 3.0, 6.0, "ODT;TMD;SKC"),
    "commercial": (70.0, 15, 60.0, 6.0, 9.0, "TMD;ODT"),
    "public": (40.0, 5, 22.0, 6.0, 2.0, "DGD;DYT;TSC;DVH;DCH;TON"),
    "green": (5.0, 1, 6.0, 6.0, 0.05, "DKV"),
    "heritage": (30.0, 3, 12.0, 6.0, 1.0, "DDD;TON;DVH"),
}
PUBLIC_USES = {"DGD", "DYT", "TSC", "DVH", "DCH", "TON"}
FLOOD_BANDS = (("high", 0.0, 120.0, 0.8, 10), ("medium", 120.0, 350.0, 0.5, 20),
               ("low", 350.0, 700.0, 0.25, 50))


def heritage_zones() -> list[dict]:
    """Zone I (core) and zone II (buffer ring) of each heritage site, EPSG:5899."""
    rows = []
    for site_id, name, lon, lat, r1, r2, decision in places.HERITAGE:
        centre = metric_point(lon, lat)
        core = centre.buffer(r1, quad_segs=16)
        rows.append({"heritage_id": f"{site_id}-I", "name": name, "protection_zone": "I",
                     "decision": decision, "site": site_id, "geometry": core})
        rows.append({"heritage_id": f"{site_id}-II", "name": name, "protection_zone": "II",
                     "decision": decision, "site": site_id,
                     "geometry": centre.buffer(r2, quad_segs=16).difference(core)})
    return rows


def zoning(grid: WardGrid, parcels: pd.DataFrame, heritage: list[dict]) -> list[dict]:
    """One zone per group of developed blocks between main streets, with its rules."""
    mine = parcels[parcels["ward"] == grid.ward.code]
    blocks = {(b.i, b.j): b for b in grid.blocks}
    cores = shapely.union_all([h["geometry"] for h in heritage if h["protection_zone"] == "I"])
    rows = []
    groups = mine.groupby([mine["i"] // U_SUBDIVISIONS, mine["j"] // V_SUBDIVISIONS], sort=True)
    for k, ((gi, gj), group) in enumerate(groups):
        cells = {(i, j) for i, j in zip(group["i"], group["j"])}
        shape = grid.to_world(shapely.union_all([blocks[c].shape for c in sorted(cells)]))
        share = group.groupby("land_use")["area"].sum() / group["area"].sum()
        category = _category(share, shape.intersects(cores))
        coverage, floors, height, setback, far, uses = ZONE_RULES[category]
        rows.append({"ky_hieu": f"{grid.ward.code}-Z{k + 1:02d}",
                     "name": f"Ô phố {k + 1} phường {grid.ward.name}", "category": category,
                     "allowed_uses": uses, "max_coverage": coverage, "max_floors": floors,
                     "max_height_m": height, "min_setback_m": setback, "max_far": far,
                     "plan_ref": "Quyết định 359/QĐ-TTg (minh họa)", "geometry": shape})
    return rows


def _category(share: pd.Series, is_heritage: bool) -> str:
    """The zone category of a group of parcels, from their land uses' shares of area."""
    if is_heritage:
        return "heritage"
    if share.get("DKV", 0) > 0.3:
        return "green"
    if sum(share.get(u, 0) for u in PUBLIC_USES) > 0.4:
        return "public"
    if share.get("TMD", 0) > 0.25:
        return "commercial"
    if share.get("TMD", 0) > 0.1:
        return "mixed"
    return "residential"


def block_zoning(parcels: pd.DataFrame, blocks: dict[str, shapely.Geometry],
                 heritage: list[dict]) -> list[dict]:
    """One zone per real block (between real streets) that holds parcels, with its rules."""
    cores = shapely.union_all([h["geometry"] for h in heritage if h["protection_zone"] == "I"])
    lots = parcels.dropna(subset=["block"])
    areas = lots.groupby(["block", "land_use"])["area"].sum().unstack(fill_value=0.0)
    shares = areas.div(areas.sum(axis=1), axis=0)
    ward_names = lots.groupby("block")["ward_name"].first()
    rows = []
    for key, share in shares.iterrows():
        shape = blocks[key]
        category = _category(share, shape.intersects(cores))
        coverage, floors, height, setback, far, uses = ZONE_RULES[category]
        rows.append({"ky_hieu": key, "name": f"Khu phố {key} phường {ward_names[key]}",
                     "category": category, "allowed_uses": uses, "max_coverage": coverage,
                     "max_floors": floors, "max_height_m": height, "min_setback_m": setback,
                     "max_far": far, "plan_ref": "Quyết định 359/QĐ-TTg (minh họa)",
                     "geometry": shape})
    return rows


def flood_zones(river: shapely.Geometry, developed: shapely.Geometry) -> list[dict]:
    """Bands of flood risk along the river bank, clipped to the developed land."""
    rows = []
    for risk, inner, outer, depth, period in FLOOD_BANDS:
        band = river.buffer(outer, quad_segs=8).difference(river.buffer(inner, quad_segs=8))
        shape = band.intersection(developed)
        if not shape.is_empty:
            rows.append({"zone_id": f"FZ-{risk.upper()}", "risk": risk, "typical_depth_m": depth,
                         "return_period": period, "geometry": shape})
    return rows


def road_reserves(generated: list[Road], real: list[Road]) -> tuple[list[dict], list[dict]]:
    """Centrelines of the generated roads, and the reserves (right-of-way polygons) of both
    those and the real roads (which the OSM extract loads itself), EPSG:5899."""
    roads, reserves = [], []
    for street in generated:
        roads.append({"ma_duong": street.road_id, "ten_duong": street.name,
                      "road_class": street.road_class, "lo_gioi": street.row_width,
                      "lanes": int({"primary": 6, "secondary": 4}.get(street.road_class, 2)),
                      "geometry": street.geometry})
    for street in [*generated, *real]:
        reserves.append({"reserve_id": f"RR-{street.road_id}", "road_name": street.name,
                         "reserve_width_m": street.row_width,
                         "geometry": street.geometry.buffer(street.row_width / 2,
                                                            cap_style="flat")})
    return roads, reserves


def developed_area(parcels: pd.DataFrame) -> shapely.Geometry:
    """The land the parcels cover, closed over the streets between them."""
    hull = shapely.union_all(shapely.buffer(parcels["geometry"].to_numpy(), 12.0, quad_segs=2))
    return hull.buffer(-6.0, quad_segs=2)


def wifi_rows(parcels: pd.DataFrame, rng: np.random.Generator) -> list[dict]:
    """Access points at named sites and at markets, parks and public buildings (lon/lat)."""
    from etl.demo.terrain import to_wgs84

    sites = [(name, kind, lon, lat) for name, kind, lon, lat in places.WIFI_SITES]
    kind_of = {"DCH": "market", "DKV": "park", "TSC": "public_building", "DVH": "public_building"}
    public = parcels[parcels["land_use"].isin(list(kind_of))]
    centroids = to_wgs84(shapely.centroid(public["geometry"].to_numpy()))
    for row, point in zip(public.itertuples(index=False), centroids):
        sites.append((row.address.split(",")[0] + f" ({row.land_use})", kind_of[row.land_use],
                      point.x, point.y))
    rows = []
    for n, (name, kind, lon, lat) in enumerate(sites):
        mac = ":".join(f"{b:02X}" for b in [0x3C, 0x84, 0x6A, *rng.integers(0, 256, 3)])
        rows.append({"ma_ap": f"WF-{n + 1:04d}", "ten": name, "ssid": "DaNang Free WiFi",
                     "band": rng.choice(["2.4GHz", "5GHz", "dual"], p=[0.2, 0.2, 0.6]),
                     "ban_kinh": float(rng.integers(50, 151)), "site_kind": kind,
                     "status": "offline" if rng.random() < 0.06 else "online",
                     "address": f"{name}, Đà Nẵng", "mac": mac,
                     "lon": round(lon, 7), "lat": round(lat, 7)})
    return rows
