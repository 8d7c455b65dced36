"""Parcels: blocks cut into street-facing strips and large lots, numbered per former ward and sheet."""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from etl.demo import places
from etl.demo.streets import Block, WardGrid

FRONTAGE_M = (5.0, 8.0)
TWO_ROWS_MIN_DEPTH_M = 30.0
MIN_PARCEL_M2 = 25.0
SHEET_SIZE_M = 250.0
INSTITUTION_SHARE = 0.06
HERITAGE_MIN_M2 = 300.0
RESIDENTIAL_USES = ("ODT", "TMD", "CLN", "SKC")


def _strips(block: Block, rng: np.random.Generator):
    """Rectangles (u1, v1, u2, v2) and facing street index for a block of house lots."""
    u1, v1, u2, v2 = block.bounds
    rows = [(v1, v2, block.j)]
    if v2 - v1 >= TWO_ROWS_MIN_DEPTH_M:
        vm = (v1 + v2) / 2 + rng.uniform(-2, 2)
        rows = [(v1, vm, block.j), (vm, v2, block.j + 1)]
    out = []
    for a, b, facing in rows:
        widths = rng.uniform(*FRONTAGE_M, int((u2 - u1) / FRONTAGE_M[0]) + 2)
        edges = np.concatenate([[u1], u1 + np.cumsum(widths)])
        edges = edges[edges < u2 - FRONTAGE_M[0] * 0.6]
        edges = np.append(edges, u2)
        out.extend((edges[k], a, edges[k + 1], b, facing) for k in range(len(edges) - 1))
    return out


def _lots(block: Block, rng: np.random.Generator):
    """One to three large lots across a block, facing its lower street."""
    u1, v1, u2, v2 = block.bounds
    n = int(np.clip((u2 - u1) // 45, 1, 3))
    edges = np.linspace(u1, u2, n + 1)
    return [(edges[k], v1, edges[k + 1], v2, block.j) for k in range(n)]


def cut_parcels(grid: WardGrid, heritage: list[tuple[str, shapely.Geometry]],
                rng: np.random.Generator) -> pd.DataFrame:
    """Parcels of one ward's core, nearest blocks to its anchor first, until its target.

    Blocks touching a heritage site's zone I (EPSG:5899) become that site's large lots.
    Returns one row per parcel with the local-frame centroid (u, v), the facing street,
    the institution's land use for large lots, and the geometry in EPSG:5899.
    """
    sites = [(places.HERITAGE_LAND_USE[site], grid.to_local(zone)) for site, zone in heritage]
    rows, rects = [], []
    uses = list(places.INSTITUTION_WEIGHTS)
    weights = np.array(list(places.INSTITUTION_WEIGHTS.values()), dtype=float)
    count = 0
    for block in sorted(grid.blocks, key=lambda b: b.distance):
        if count >= grid.target:
            break
        site_use = next((use for use, zone in sites
                         if block.shape.intersection(zone).area > HERITAGE_MIN_M2), None)
        large = site_use is not None or (block.shape.area > 2500
                                         and rng.random() < INSTITUTION_SHARE)
        pieces = _lots(block, rng) if large else _strips(block, rng)
        full = shapely.box(*block.bounds).area - block.shape.area < 0.01  # not clipped at all
        boxes = shapely.box(*np.array([p[:4] for p in pieces]).T)
        shapes = boxes if full else shapely.intersection(boxes, block.shape)
        for (u1, v1, u2, v2, facing), shape in zip(pieces, shapes):
            shape = shape if shape.geom_type == "Polygon" else _largest_polygon(shape)
            if shape is None or shape.area < MIN_PARCEL_M2:
                continue
            use = site_use or (rng.choice(uses, p=weights / weights.sum()) if large else None)
            rows.append({"ward": grid.ward.code, "ward_name": grid.ward.name, "large": large,
                         "institution": use, "facing": facing, "i": block.i, "j": block.j, "u1": u1, "u2": u2,
                         "u": (u1 + u2) / 2, "v": (v1 + v2) / 2})
            rects.append(shape)
            count += 1
    frame = pd.DataFrame(rows)
    frame["geometry"] = grid.to_world(np.array(rects, dtype=object)) if rects else []
    return _name_streets(frame, grid)


def _largest_polygon(geom):
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return max(parts, key=lambda p: p.area) if parts else None


def _name_streets(frame: pd.DataFrame, grid: WardGrid) -> pd.DataFrame:
    if frame.empty:
        return frame
    streets = grid.v_streets
    frame["street"] = [streets[k].name for k in frame["facing"]]
    frame["street_class"] = [streets[k].road_class for k in frame["facing"]]
    even = (frame["facing"] == frame["j"]).to_numpy()  # north side of its street: even numbers
    side = pd.Series(even, index=frame.index)
    n = frame.groupby([frame["facing"], side])["u"].rank(method="first").to_numpy().astype(int)
    frame["house_no"] = np.where(even, 2 * n, 2 * n - 1)
    return frame


def assign_land_use(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Land-use codes: mostly ODT, commerce on main streets, institutions' own on large lots."""
    n = len(frame)
    main = frame["street_class"].isin(["primary", "secondary"]).to_numpy()
    r = rng.random(n)
    use = np.where(r < np.where(main, 0.30, 0.05), "TMD",
                   np.where(r > 0.985, "CLN", np.where(r > 0.975, "SKC", "ODT")))
    use = np.where(frame["large"].to_numpy(), frame["institution"].fillna("ODT"), use)
    if "known_use" in frame.columns:  # from the real map (etl.demo.blocks.lot_uses)
        use = np.where(frame["known_use"].notna().to_numpy(), frame["known_use"], use)
    frame["land_use"] = use
    return frame


def number_parcels(frame: pd.DataFrame, grid: WardGrid) -> pd.DataFrame:
    """Former ward (bands across the ward), map sheet (250 m cells) and parcel number."""
    formers = places.WARDS[grid.ward.code][1]
    ranks = frame["u"].rank(method="first").to_numpy() - 1
    band = np.minimum((ranks * len(formers) / max(len(frame), 1)).astype(int), len(formers) - 1)
    frame["former"] = [formers[b][0] for b in band]
    frame["former_name"] = [formers[b][1] for b in band]
    frame["cell_u"] = np.floor(frame["u"] / SHEET_SIZE_M).astype(int)
    frame["cell_v"] = np.floor(frame["v"] / SHEET_SIZE_M).astype(int)
    frame["sheet"] = 0
    frame["number"] = 0
    for former, group in frame.groupby("former", sort=False):
        cells = group[["cell_v", "cell_u"]].drop_duplicates()
        cells = cells.sort_values(["cell_v", "cell_u"], ascending=[False, True])
        sheet_of = {(v, u): k + 1 for k, (v, u) in enumerate(cells.itertuples(index=False))}
        sheets = np.array([sheet_of[(v, u)] for v, u in zip(group["cell_v"], group["cell_u"])])
        frame.loc[group.index, "sheet"] = sheets
        order = pd.DataFrame({"s": sheets, "v": -group["v"].round(0), "u": group["u"]},
                             index=group.index).sort_values(["s", "v", "u"])
        frame.loc[order.index, "number"] = order.groupby("s").cumcount().to_numpy() + 1
    return frame


BUILDING_USE = {"ODT": "residential", "TMD": "commercial", "CLN": "residential",
                "SKC": "workshop", "DDD": "heritage"}


def clear_of(frame: pd.DataFrame, roads) -> pd.DataFrame:
    """The parcels with the reserves of these (real) roads cut out; parcels left smaller
    than MIN_PARCEL_M2 are dropped, of several pieces the largest is kept."""
    if frame.empty:
        return frame
    geoms = frame["geometry"].to_numpy()
    lines = np.array([r.geometry for r in roads], dtype=object)
    reserves = shapely.buffer(lines, np.array([r.row_width / 2 for r in roads]), quad_segs=4)
    hit, by = shapely.STRtree(reserves).query(geoms, predicate="intersects")
    if not len(hit):
        return frame
    keep = np.ones(len(frame), dtype=bool)
    geoms = geoms.copy()
    for k in np.unique(hit):
        shape = shapely.difference(geoms[k], shapely.union_all(reserves[by[hit == k]]))
        shape = shape if shape.geom_type == "Polygon" else _largest_polygon(shape)
        if shape is None or shape.area < MIN_PARCEL_M2:
            keep[k] = False
        else:
            geoms[k] = shape
    frame = frame.assign(geometry=geoms)
    return frame[keep].reset_index(drop=True)


def buildings(frame: pd.DataFrame, rng: np.random.Generator,
              mapped: shapely.Geometry | None = None) -> pd.DataFrame:
    """Existing buildings: most parcels inset by a setback, 1-7 floors (EPSG:5899).

    Parcels touching a `mapped` (real) footprint get none: the real one stands there.
    """
    n = len(frame)
    large = frame["large"].to_numpy()
    setback = np.where(large, rng.uniform(6, 10, n), rng.uniform(0.8, 2.5, n))
    shapes = shapely.buffer(frame["geometry"].to_numpy(), -setback, join_style="mitre")
    built = (rng.random(n) < np.where(large, 0.95, 0.88)) & ~shapely.is_empty(shapes) \
        & (shapely.area(shapes) >= 20.0)
    if mapped is not None:
        shapely.prepare(mapped)
        built &= ~shapely.intersects(mapped, frame["geometry"].to_numpy())
    commercial = (frame["land_use"] == "TMD").to_numpy()
    floors = np.where(commercial, rng.integers(3, 8, n),
                      np.clip(np.round(rng.normal(3.2, 1.2, n)), 1, 7)).astype(int)
    floors = np.where(large, rng.integers(2, 5, n), floors)
    uses = [places.INSTITUTIONS[u][1] if u in places.INSTITUTIONS and big
            else BUILDING_USE.get(u, "other") for u, big in zip(frame["land_use"], large)]
    out = pd.DataFrame({"building_id": [f"CT-{w}-{k + 1:06d}" for k, w in enumerate(frame["ward"])],
                        "floors": floors, "height_m": np.round(floors * 3.5 + 0.6, 1),
                        "use": uses, "geometry": shapes})
    return out[built].reset_index(drop=True)
