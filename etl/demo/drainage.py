"""Drainage network: manholes along streets, pipes flowing downhill to outfalls (EPSG:5899).

Manholes sit at street intersections and at most ~55 m apart along streets, real or
generated. Every node drains along the shortest street path to an outfall on the river or a
lake (or, in a street network that never reaches water, to its lowest node). Inverts fall along the flow;
diameters grow with the number of nodes upstream.
"""
from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import shapely

from etl.demo.streets import Road, WardGrid
from etl.demo.terrain import Elevation

MAX_SPACING_M = 55.0
OUTFALL_SPACING_M = 250.0
OUTFALL_REACH_M = 40.0  # a street this close to water drains into it
COVER_M = 1.2
DIAMETERS = ((5, 400), (15, 600), (40, 800), (90, 1000), (180, 1200), (10**9, 1500))


def _street_nodes(roads: list[Road]):
    """Node keys (x, y) and edges (key, key, street name) along one network's streets.

    The streets are noded where they cross; a node where three or more pieces meet is an
    intersection.
    """
    geoms = np.array([r.geometry for r in roads], dtype=object)
    pieces = shapely.get_parts(shapely.union_all(geoms))
    owner = shapely.STRtree(geoms).nearest(
        shapely.line_interpolate_point(pieces, 0.5, normalized=True))
    nodes: dict[tuple[float, float], bool] = {}  # key -> is an intersection
    degree: dict[tuple[float, float], int] = {}
    edges = []
    for piece, k in zip(pieces, owner):
        length = piece.length
        if length < 0.5:
            continue
        coords = np.asarray(piece.coords)
        steps = max(math.ceil(length / MAX_SPACING_M), 1)
        points = shapely.get_coordinates(shapely.line_interpolate_point(
            piece, np.linspace(0, length, steps + 1)))
        points[0], points[-1] = coords[0], coords[-1]
        keys = [(round(float(x), 2), round(float(y), 2)) for x, y in points]
        for end in (keys[0], keys[-1]):
            degree[end] = degree.get(end, 0) + 1
        for key in keys:
            nodes.setdefault(key, False)
        edges.extend((k1, k2, roads[k].name) for k1, k2 in zip(keys[:-1], keys[1:]) if k1 != k2)
    for key, count in degree.items():
        nodes[key] = count >= 3
    return nodes, edges


def build_network(networks: list[tuple[str, list[Road]]], water: shapely.Geometry,
                  elevation: Elevation, rng: np.random.Generator
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drainage nodes and pipes of every street network (code, roads), EPSG:5899 geometries."""
    node_rows, pipe_rows = [], []
    for code, roads in networks:
        if not roads:
            continue
        nodes, edges = _street_nodes(roads)
        if not edges:
            continue
        keys = list(nodes)
        index = {k: n for n, k in enumerate(keys)}
        xy = np.array(keys, dtype=float)
        ground = elevation.at(xy[:, 0], xy[:, 1])
        adjacency: list[list[tuple[int, float, str]]] = [[] for _ in keys]
        for k1, k2, name in edges:
            a, b = index[k1], index[k2]
            length = float(np.hypot(*(xy[a] - xy[b])))
            adjacency[a].append((b, length, name))
            adjacency[b].append((a, length, name))
        outfalls = _outfalls(xy, ground, adjacency, water)
        parent, order, street_of = _flow_tree(adjacency, outfalls)
        invert = _inverts(order, parent, xy, ground, outfalls)
        upstream = np.zeros(len(keys), dtype=int)
        for n in reversed(order):
            if parent[n] >= 0:
                upstream[parent[n]] += upstream[n] + 1
        kinds = np.where([nodes[k] for k in keys], "manhole",
                         np.where(rng.random(len(keys)) < 0.15, "inlet", "manhole")).astype(object)
        kinds[list(outfalls)] = "outfall"
        for o in sorted(outfalls, key=lambda o: -upstream[o])[:2]:
            feeders = [n for n in range(len(keys)) if parent[n] == o]
            if feeders and upstream[o] > 20:
                kinds[max(feeders, key=lambda n: upstream[n])] = "pump_station"
        prefix = {"manhole": "HG", "inlet": "GT", "outfall": "CX", "pump_station": "TB"}
        ids = [f"{prefix[k]}-{code}-{n + 1:05d}" for n, k in enumerate(kinds)]
        status = rng.choice(["ok", "blocked", "damaged"], len(keys), p=[0.93, 0.05, 0.02])
        for n in range(len(keys)):
            node_rows.append({"ma_nut": ids[n], "loai": kinds[n],
                              "cao_do_md": round(float(ground[n]), 2),
                              "cao_do_day": round(float(invert[n]), 2), "street": street_of[n],
                              "status": status[n], "geometry": shapely.Point(xy[n])})
        for n in order:
            p = parent[n]
            if p < 0:
                continue
            diameter = next(d for limit, d in DIAMETERS if upstream[n] + 1 <= limit)
            material = "concrete" if diameter >= 1000 else rng.choice(
                ["concrete", "hdpe", "brick"], p=[0.7, 0.25, 0.05])
            pipe_rows.append({"ma_cong": f"C-{code}-{len(pipe_rows) + 1:05d}",
                              "nut_dau": ids[n], "nut_cuoi": ids[p], "duong_kinh": diameter,
                              "material": material, "invert_up": round(float(invert[n]), 3),
                              "invert_down": round(float(invert[p]), 3),
                              "install_year": int(rng.integers(1990, 2025)),
                              "geometry": shapely.LineString([xy[n], xy[p]])})
    return pd.DataFrame(node_rows), pd.DataFrame(pipe_rows)


def _outfalls(xy: np.ndarray, ground: np.ndarray, adjacency, water) -> set[int]:
    """Nodes by the river or a lake, at least OUTFALL_SPACING_M apart; else the lowest node."""
    pts = shapely.points(xy)
    on_bank = np.flatnonzero(shapely.distance(pts, water) < OUTFALL_REACH_M)
    chosen: list[int] = []
    for n in on_bank[np.argsort(ground[on_bank], kind="stable")]:
        if all(np.hypot(*(xy[n] - xy[c])) >= OUTFALL_SPACING_M for c in chosen):
            chosen.append(int(n))
    component = _components(adjacency)
    reached = {component[c] for c in chosen}
    for comp in sorted(set(component) - reached):
        members = [n for n, c in enumerate(component) if c == comp]
        chosen.append(min(members, key=lambda n: ground[n]))
    return set(chosen)


def _components(adjacency) -> list[int]:
    component = [-1] * len(adjacency)
    for start in range(len(adjacency)):
        if component[start] >= 0:
            continue
        stack = [start]
        component[start] = start
        while stack:
            n = stack.pop()
            for m, _, _ in adjacency[n]:
                if component[m] < 0:
                    component[m] = start
                    stack.append(m)
    return component


def _flow_tree(adjacency, outfalls: set[int]):
    """Shortest-path tree from the outfalls: each node's downstream neighbour, in flow order."""
    dist = [math.inf] * len(adjacency)
    parent = [-1] * len(adjacency)
    street = [""] * len(adjacency)
    heap = [(0.0, o) for o in sorted(outfalls)]
    for o in outfalls:
        dist[o] = 0.0
        street[o] = adjacency[o][0][2] if adjacency[o] else ""
    order = []
    done = [False] * len(adjacency)
    while heap:
        d, n = heapq.heappop(heap)
        if done[n]:
            continue
        done[n] = True
        order.append(n)
        for m, length, name in adjacency[n]:
            if d + length < dist[m]:
                dist[m], parent[m], street[m] = d + length, n, name
                heapq.heappush(heap, (d + length, m))
    return parent, order, street


def _inverts(order, parent, xy, ground, outfalls) -> np.ndarray:
    """Invert levels rising upstream: 1-6 per mille, following the ground under COVER_M."""
    invert = np.zeros(len(parent))
    for n in order:
        if n in outfalls:
            invert[n] = ground[n] - 1.5
            continue
        p = parent[n]
        length = float(np.hypot(*(xy[n] - xy[p])))
        low = invert[p] + max(0.001 * length, 0.02)
        high = invert[p] + max(0.006 * length, 0.03)
        invert[n] = min(max(ground[n] - COVER_M, low), high)
    return invert


def rain_gauge_stations(gauges: pd.DataFrame, grids: list[WardGrid]) -> pd.DataFrame:
    """The `rain_gauges` layer's rows: the monitored stations of the gauge nodes, one a ward."""
    wards = {f"DM-{grid.ward.code}-01": grid.ward for grid in grids}
    rows = []
    for row in gauges.itertuples():
        ward = wards[row.ma_nut]
        rows.append({"ma_tram": row.ma_nut, "ten_tram": f"Trạm đo mưa {ward.name}",
                     "ma_xa": ward.code, "cao_do_md": row.cao_do_md, "geometry": row.geometry})
    return pd.DataFrame(rows)


def rain_gauges(grids: list[WardGrid], elevation: Elevation) -> pd.DataFrame:
    """One rain gauge per ward, at the centre of its demo core; gauges have no pipes."""
    rows = []
    for grid in grids:
        x, y = grid.origin
        rows.append({"ma_nut": f"DM-{grid.ward.code}-01", "loai": "rain_gauge",
                     "cao_do_md": round(float(elevation.at(np.array([x]), np.array([y]))[0]), 2),
                     "cao_do_day": None, "street": None, "status": "ok",
                     "geometry": shapely.Point(x, y)})
    return pd.DataFrame(rows)
