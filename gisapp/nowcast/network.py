"""The now-cast's static model: catchments of the drainage network and what lies in them.

A catchment is the Voronoi cell of a drainage node (manholes, inlets, pump stations,
outfalls; not rain gauges), clipped to the node's ward and to CATCHMENT_REACH_M around it:
the street and yard area whose rain enters the network there. Each node's water leaves by
its outgoing pipe (the largest when several leave it) towards the outfall. A street is cut
into pieces by the catchments; a parcel belongs to the catchment holding its point on
surface. Each street piece and parcel carries its low-point depth (how far it lies below
the ground LOW_POINT_RING_M around it, from the elevation raster) and the flood zone it
lies in.

The model depends only on data, so it is built on demand and kept per database and data
version (the layers' `layer_state.data_version` and the elevation raster's update time):
an import or an edit of any input builds it again at the next request, and the newer one
replaces the older (about 75 MB for the demo city's 27,700 streets pieces and parcels).
"""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
import rasterio
import shapely
from psycopg import sql
from pyproj import Transformer

from gisapp.analysis.raster_stats import raster_path
from gisapp.nowcast.hydraulics import full_flow_capacity
from layers.base import ROADS, WARDS
from layers.city import CITY
from layers.drainage import DRAINAGE_NODES, DRAINAGE_PIPES
from layers.land import PARCELS
from layers.planning import FLOOD_ZONES

CATCHMENT_REACH_M = 100.0
LOW_POINT_RING_M = 25.0
ELEVATION_RASTER = "elevation"
INPUT_LAYERS = (WARDS, ROADS, PARCELS, DRAINAGE_NODES, DRAINAGE_PIPES, FLOOD_ZONES)
NOT_DRAINAGE = ("rain_gauge",)  # node kinds that take no water
ZONE_RANK = {"low": 0, "medium": 1, "high": 2}
MAX_CACHED = 4
_TO_LONLAT = Transformer.from_crs(CITY.metric_crs, "EPSG:4326", always_xy=True)
_TO_METRIC = Transformer.from_crs("EPSG:4326", CITY.metric_crs, always_xy=True)


@dataclass
class Target:
    """A street piece or a parcel the now-cast rates: where it drains and how low it lies."""

    kind: str  # "street" or "parcel"
    key: str
    node: int  # index of its catchment's node
    properties: dict
    geometry: object  # shapely geometry, metres (lonlat_geojson converts what is shown)
    elevation_m: float | None
    low_point_m: float | None
    flood_zone: dict | None
    geojson: dict | None = None  # the geometry in lon/lat, once it was shown


@dataclass
class Network:
    """Nodes with their catchments, the pipe leaving each, and the targets in them."""

    node_ids: list[str]
    kinds: list[str]
    wards: list[str]
    ward_names: dict[str, str]
    area_m2: np.ndarray
    centroids: np.ndarray  # n×2, metres
    parent: np.ndarray  # the downstream node's index, -1 at an outfall or a dead end
    pipes: list[dict | None]  # the pipe leaving each node (id, diameter, slope, capacity)
    order: list[int]  # upstream nodes before the nodes they drain to
    targets: list[Target] = field(default_factory=list)
    version: tuple = ()
    built_in_s: float = 0.0
    tree: shapely.STRtree | None = None  # over the targets' geometries, in their order

    def targets_in(self, bbox: tuple[float, float, float, float] | None) -> list[Target]:
        """The targets touching a lon/lat bbox (None: all of them)."""
        if bbox is None:
            return self.targets
        area = shapely.transform(shapely.segmentize(shapely.box(*bbox), (bbox[2] - bbox[0]) / 16
                                                    or 1e-6),
                                 lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0],
                                                                                 xy[:, 1])))
        found = self.tree.query(area, predicate="intersects") if self.tree else []
        return [self.targets[i] for i in sorted(found)]


_cache: OrderedDict[tuple, Network] = OrderedDict()
_lock = threading.Lock()


def data_version(conn: psycopg.Connection) -> tuple:
    """The database and the versions of every input: the cache key of its network."""
    names = [layer.id for layer in INPUT_LAYERS]
    versions = dict(conn.execute("SELECT layer, data_version FROM layer_state "
                                 "WHERE layer = ANY(%s)", (names,)).fetchall())
    raster = conn.execute("SELECT path, updated_at FROM rasters WHERE name = %s",
                          (ELEVATION_RASTER,)).fetchone()
    info = conn.info
    return ((info.host, info.port, info.dbname), tuple(versions.get(n, 0) for n in names),
            tuple(str(v) for v in raster) if raster else None)


def network_for(conn: psycopg.Connection, data_dir: Path) -> Network:
    """The network of this database's current data, built when its data changed."""
    key = data_version(conn)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    built = build_network(conn, data_dir)
    built.version = key
    with _lock:
        for stale in [k for k in _cache if k[0] == key[0]]:  # older data of this database
            del _cache[stale]
        _cache[key] = built
        while len(_cache) > MAX_CACHED:
            _cache.popitem(last=False)
    return built


def _metric(column: str) -> sql.Composed:
    return sql.SQL("ST_AsBinary(ST_Transform({}, {}))").format(
        sql.Identifier(column), sql.Literal(CITY.metric_srid))


def _rows(conn: psycopg.Connection, layer, columns: tuple[str, ...],
          where: sql.Composable = sql.SQL("TRUE")) -> list[tuple]:
    query = sql.SQL("SELECT {cols}, {geom} FROM {table} WHERE {where} ORDER BY 1").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns), geom=_metric("geom"),
        table=sql.Identifier(layer.table), where=where)
    return conn.execute(query).fetchall()


def build_network(conn: psycopg.Connection, data_dir: Path) -> Network:
    """Catchments, outgoing pipes, flow order and targets from the current data."""
    started = time.perf_counter()
    wards = _rows(conn, WARDS, ("code", "name"))
    ward_geoms = shapely.from_wkb([w[-1] for w in wards])
    nodes = _rows(conn, DRAINAGE_NODES, ("node_id", "kind"),
                  sql.SQL("{} <> ALL({})").format(sql.Identifier("kind"),
                                                  sql.Literal(list(NOT_DRAINAGE))))
    points = shapely.from_wkb([n[-1] for n in nodes])
    ward_of = _ward_of(points, ward_geoms)
    keep = np.flatnonzero(ward_of >= 0)
    nodes = [nodes[i] for i in keep]
    points, ward_of = points[keep], ward_of[keep]
    cells = _catchments(points, ward_geoms[ward_of] if len(keep) else ward_geoms[:0])
    index = {n[0]: i for i, n in enumerate(nodes)}
    parent, pipes = _outgoing(conn, index, len(nodes))
    net = Network(
        node_ids=[n[0] for n in nodes], kinds=[n[1] for n in nodes],
        wards=[wards[w][0] for w in ward_of], ward_names={w[0]: w[1] for w in wards},
        area_m2=shapely.area(cells), centroids=shapely.get_coordinates(points),
        parent=parent, pipes=pipes, order=_flow_order(parent))
    elevation = _elevation(conn, data_dir)
    zones = _flood_zones(conn)
    net.targets = (_streets(conn, cells, elevation, zones)
                   + _parcels(conn, cells, elevation, zones))
    net.tree = shapely.STRtree([t.geometry for t in net.targets])
    net.built_in_s = round(time.perf_counter() - started, 3)
    return net


def _ward_of(points: np.ndarray, ward_geoms: np.ndarray) -> np.ndarray:
    """The index of the ward holding each point, -1 outside every ward."""
    ward_of = np.full(len(points), -1)
    if len(points) and len(ward_geoms):
        p, w = shapely.STRtree(ward_geoms).query(points, predicate="intersects")
        ward_of[p[::-1]] = w[::-1]  # the first ward listed wins on a shared boundary
    return ward_of


def _catchments(points: np.ndarray, ward_geoms: np.ndarray) -> np.ndarray:
    """Each node's Voronoi cell clipped to its ward and to CATCHMENT_REACH_M around it."""
    if len(points) == 0:
        return np.array([], dtype=object)
    if len(points) == 1:
        cells = np.array([shapely.buffer(points[0], CATCHMENT_REACH_M)], dtype=object)
    else:
        voronoi = shapely.voronoi_polygons(shapely.multipoints(points), ordered=True)
        cells = np.array(shapely.get_parts(voronoi), dtype=object)
        if len(cells) != len(points):  # repeated points share one cell: match by location
            tree = shapely.STRtree(cells)
            cells = cells[tree.query_nearest(points, all_matches=False)[1]]
    reach = shapely.buffer(points, CATCHMENT_REACH_M)
    return shapely.intersection(shapely.intersection(cells, ward_geoms), reach)


def _outgoing(conn: psycopg.Connection, index: dict[str, int], n: int):
    """Each node's downstream node and the pipe it drains by (the largest leaving it)."""
    parent = np.full(n, -1)
    pipes: list[dict | None] = [None] * n
    columns = ("pipe_id", "from_node", "to_node", "diameter_mm", "material", "invert_up",
               "invert_down")
    for pid, a, b, diameter, material, up, down, wkb in _rows(conn, DRAINAGE_PIPES, columns):
        if a not in index or b not in index:
            continue
        length = float(shapely.length(shapely.from_wkb(wkb)))
        slope = (up - down) / length if up is not None and down is not None and length else None
        capacity = full_flow_capacity(diameter, slope, material)
        i = index[a]
        if pipes[i] is None or capacity > pipes[i]["capacity_m3_s"]:
            parent[i] = index[b]
            pipes[i] = {"pipe_id": pid, "diameter_mm": diameter, "material": material,
                        "slope": None if slope is None else round(slope, 5),
                        "length_m": round(length, 1), "capacity_m3_s": capacity}
    return parent, pipes


def _flow_order(parent: np.ndarray) -> list[int]:
    """Nodes ordered so that every node comes before the node it drains to (Kahn's order);
    nodes on a cycle (bad data) come last."""
    inflow = np.zeros(len(parent), dtype=int)
    for p in parent:
        if p >= 0:
            inflow[p] += 1
    ready = [i for i in range(len(parent)) if inflow[i] == 0]
    order = []
    while ready:
        i = ready.pop()
        order.append(i)
        p = parent[i]
        if p >= 0:
            inflow[p] -= 1
            if inflow[p] == 0:
                ready.append(int(p))
    seen = set(order)
    return order + [i for i in range(len(parent)) if i not in seen]


def _elevation(conn: psycopg.Connection, data_dir: Path):
    """The elevation raster's band 1 (masked), its transform and CRS; None when missing."""
    row = conn.execute("SELECT path FROM rasters WHERE name = %s",
                       (ELEVATION_RASTER,)).fetchone()
    if row is None:
        return None
    with rasterio.open(raster_path(row[0], data_dir)) as src:
        if src.crs is None or src.crs.to_epsg() != CITY.metric_srid:
            raise ValueError(f"the {ELEVATION_RASTER} raster must be in {CITY.metric_crs}")
        return src.read(1, masked=True), src.transform


def _sample(elevation, xy: np.ndarray) -> np.ndarray:
    """Elevation at points (n×2, metres); NaN off the raster or over nodata."""
    band, transform = elevation
    inv = ~transform
    cols = np.floor(inv.a * xy[:, 0] + inv.b * xy[:, 1] + inv.c).astype(int)
    rows = np.floor(inv.d * xy[:, 0] + inv.e * xy[:, 1] + inv.f).astype(int)
    inside = (rows >= 0) & (rows < band.shape[0]) & (cols >= 0) & (cols < band.shape[1])
    out = np.full(len(xy), np.nan)
    values = band[rows[inside], cols[inside]]
    out[inside] = np.ma.filled(values.astype(float), np.nan)
    return out


def _low_points(elevation, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elevation at each point and how far it lies below the mean of 8 points around it."""
    if elevation is None or len(xy) == 0:
        nan = np.full(len(xy), np.nan)
        return nan, nan
    centre = _sample(elevation, xy)
    angles = np.arange(8) * np.pi / 4
    ring = np.stack([_sample(elevation, xy + LOW_POINT_RING_M * np.array([np.cos(a), np.sin(a)]))
                     for a in angles], axis=1)
    with np.errstate(invalid="ignore"):
        around = np.nanmean(np.where(np.isfinite(ring), ring, np.nan), axis=1) \
            if ring.size else np.full(len(xy), np.nan)
    return centre, np.maximum(around - centre, 0.0)


def _flood_zones(conn: psycopg.Connection):
    rows = _rows(conn, FLOOD_ZONES, ("zone_id", "risk", "typical_depth_m"))
    return [{"zone_id": r[0], "risk": r[1], "typical_depth_m": r[2]} for r in rows], \
        shapely.from_wkb([r[-1] for r in rows])


def _zone_at(zones, points: np.ndarray) -> list[dict | None]:
    """The highest-risk flood zone holding each point, or None."""
    found: list[dict | None] = [None] * len(points)
    info, geoms = zones
    if len(geoms) == 0 or len(points) == 0:
        return found
    p, z = shapely.STRtree(geoms).query(points, predicate="intersects")
    for i, k in zip(p, z):
        if found[i] is None or ZONE_RANK[info[k]["risk"]] > ZONE_RANK[found[i]["risk"]]:
            found[i] = info[k]
    return found


def lonlat_geojson(targets: list[Target]) -> list[dict]:
    """The targets' geometries as lon/lat GeoJSON (7 decimals), converted once each."""
    todo = [t for t in targets if t.geojson is None]
    if todo:
        moved = shapely.transform(np.array([t.geometry for t in todo], dtype=object),
                                  lambda xy: np.round(np.column_stack(
                                      _TO_LONLAT.transform(xy[:, 0], xy[:, 1])), 7))
        for target, text in zip(todo, shapely.to_geojson(moved)):
            target.geojson = json.loads(text)
    return [t.geojson for t in targets]


def _targets(kind: str, keys: list[str], props: list[dict], geoms, anchors: np.ndarray,
             nodes: np.ndarray, elevation, zones) -> list[Target]:
    xy = shapely.get_coordinates(anchors) if len(anchors) else np.empty((0, 2))
    centre, low = _low_points(elevation, xy)
    zone = _zone_at(zones, anchors)
    return [Target(kind, keys[i], int(nodes[i]), props[i], geoms[i],
                   None if np.isnan(centre[i]) else round(float(centre[i]), 2),
                   None if np.isnan(low[i]) else round(float(low[i]), 2), zone[i])
            for i in range(len(keys))]


def _streets(conn: psycopg.Connection, cells: np.ndarray, elevation, zones) -> list[Target]:
    """Street pieces: each road cut by the catchments, a piece per road and catchment."""
    rows = _rows(conn, ROADS, ("road_id", "name", "road_class"))
    if not rows or len(cells) == 0:
        return []
    roads = shapely.from_wkb([r[-1] for r in rows])
    r, c = shapely.STRtree(cells).query(roads, predicate="intersects")
    pieces = shapely.intersection(roads[r], cells[c])
    lines = shapely.get_type_id(pieces) != 7  # drop empty collections of touching edges
    lines &= shapely.length(pieces) > 1.0
    r, c, pieces = r[lines], c[lines], pieces[lines]
    anchors = shapely.line_interpolate_point(shapely.line_merge(pieces), 0.5, normalized=True)
    keys = [f"{rows[i][0]}@{k}" for i, k in zip(r, c)]
    props = [{"road_id": rows[i][0], "name": rows[i][1], "road_class": rows[i][2],
              "length_m": round(float(shapely.length(g)), 1)} for i, g in zip(r, pieces)]
    return _targets("street", keys, props, pieces, anchors, c, elevation, zones)


def _parcels(conn: psycopg.Connection, cells: np.ndarray, elevation, zones) -> list[Target]:
    """Parcels, each in the catchment holding its point on surface."""
    rows = _rows(conn, PARCELS, ("parcel_uid", "ward_code", "land_use", "street", "address"))
    if not rows or len(cells) == 0:
        return []
    geoms = shapely.from_wkb([r[-1] for r in rows])
    anchors = shapely.point_on_surface(geoms)
    p, c = shapely.STRtree(cells).query(anchors, predicate="intersects")
    first = np.unique(p, return_index=True)[1]
    p, c = p[first], c[first]
    props = [{"parcel_uid": rows[i][0], "ward_code": rows[i][1], "land_use": rows[i][2],
              "street": rows[i][3], "address": rows[i][4]} for i in p]
    return _targets("parcel", [rows[i][0] for i in p], props, geoms[p], anchors[p], c,
                    elevation, zones)
