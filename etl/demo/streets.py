"""Street grids and blocks: a slightly rotated grid per ward, clipped to its land (EPSG:5899).

Each ward gets a local frame (u along one grid axis, v along the other). Streets are lines
of constant u or v; blocks are the grid cells shrunk by half of each street's right of way
and clipped to land. Everything stays axis-aligned in the local frame, which keeps parcel
cutting simple and vectorised.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import shapely
import shapely.ops
from shapely.geometry.base import BaseGeometry

from etl.demo import places
from etl.demo.terrain import Ward

MAIN_SPACING = 400.0
U_SUBDIVISIONS = 3  # cross streets between main streets along u (blocks ~120 m long)
V_SUBDIVISIONS = 7  # streets between main streets along v (blocks ~45 m deep)
ROW_WIDTH = {"primary": 30.0, "secondary": 21.0, "tertiary": 15.0, "residential": 10.5}
LANES = {"primary": 6, "secondary": 4, "tertiary": 2, "residential": 2}
LAND_PER_PARCEL_M2 = 230.0


@dataclass(frozen=True)
class Road:
    """A street as pipes, lamps and reserves follow it: world geometry (EPSG:5899)."""

    road_id: str
    name: str | None
    road_class: str
    row_width: float
    geometry: BaseGeometry


@dataclass
class Street:
    road_id: str
    name: str
    road_class: str
    axis: str  # "u": line of constant u (runs along v); "v": constant v (runs along u)
    pos: float
    pieces: list[tuple[float, float]] = field(default_factory=list)

    @property
    def row_width(self) -> float:
        return ROW_WIDTH[self.road_class]

    def segments(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """Each piece as ((u, v), (u, v)) end points in the local frame."""
        if self.axis == "u":
            return [((self.pos, a), (self.pos, b)) for a, b in self.pieces]
        return [((a, self.pos), (b, self.pos)) for a, b in self.pieces]


@dataclass
class Block:
    ward: str
    i: int  # between u-streets i and i+1
    j: int  # between v-streets j and j+1
    bounds: tuple[float, float, float, float]  # u1, v1, u2, v2 of the full cell
    shape: BaseGeometry  # local frame, clipped to land
    distance: float  # from the ward's anchor, metres


@dataclass
class WardGrid:
    ward: Ward
    origin: tuple[float, float]
    angle: float  # radians, local -> world rotation
    land: BaseGeometry  # local frame
    u_streets: list[Street]
    v_streets: list[Street]
    blocks: list[Block]
    target: int  # parcels wanted in this ward

    def to_world(self, geoms):
        """Local-frame geometries (one or an array) to EPSG:5899."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        x0, y0 = self.origin
        return shapely.transform(geoms, lambda p: np.column_stack(
            [x0 + c * p[:, 0] - s * p[:, 1], y0 + s * p[:, 0] + c * p[:, 1]]))

    def to_local(self, geoms):
        c, s = np.cos(self.angle), np.sin(self.angle)
        x0, y0 = self.origin
        return shapely.transform(geoms, lambda p: np.column_stack(
            [c * (p[:, 0] - x0) + s * (p[:, 1] - y0), -s * (p[:, 0] - x0) + c * (p[:, 1] - y0)]))

    @property
    def streets(self) -> list[Street]:
        return self.u_streets + self.v_streets


def ward_anchor(ward: Ward) -> shapely.Point:
    """Where a ward's demo core starts: its point nearest the Dragon Bridge, 150 m inland."""
    from etl.demo.terrain import metric_point

    bridge = metric_point(*places.DRAGON_BRIDGE)
    near = shapely.ops.nearest_points(ward.shape, bridge)[0]
    inner = ward.shape.buffer(-150.0)
    return shapely.ops.nearest_points(inner, near)[0] if not inner.is_empty else near


def _blob(centre: shapely.Point, radius: float, phases: np.ndarray) -> shapely.Polygon:
    """An irregular round shape: the radius wobbles with the angle, as towns grow."""
    angles = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    r = radius * (1 + 0.22 * np.sin(2 * angles + phases[0]) + 0.12 * np.sin(5 * angles + phases[1]))
    return shapely.Polygon(np.column_stack([centre.x + r * np.cos(angles),
                                            centre.y + r * np.sin(angles)]))


def core_land(ward: Ward, water: BaseGeometry, anchor: shapely.Point, target: int,
              phases: np.ndarray) -> BaseGeometry:
    """Ward land minus water within a blob around the anchor big enough for `target` parcels."""
    land = ward.shape.difference(water)
    need = max(target, 1) * LAND_PER_PARCEL_M2
    radius = np.sqrt(need / np.pi)
    for _ in range(5):
        got = land.intersection(_blob(anchor, radius, phases)).area
        radius = min(radius * np.sqrt(need / max(got, 1.0)) * 1.02, 8000.0)
    return land.intersection(_blob(anchor, radius, phases))


def _positions(lo: float, hi: float, subdivisions: int, rng: np.random.Generator):
    """Street positions from lo to hi: (position, is_main, main index)."""
    out = []
    step = MAIN_SPACING / subdivisions
    start = lo - rng.uniform(0, MAIN_SPACING)
    k = 0
    pos = start
    while pos < hi + MAIN_SPACING:
        main_index = k // subdivisions
        is_main = k % subdivisions == 0
        jitter = 0.0 if is_main else rng.uniform(-0.08, 0.08) * step
        out.append((pos + jitter, is_main, main_index))
        k += 1
        pos = start + k * step
    return out


def street_names(rng: np.random.Generator, real: frozenset[str] = frozenset()):
    """Iterators of main and residential street names, shared by all wards of one city.

    Names in `real` (streets the city has on the real map) are never given to a generated
    street.
    """
    minor = [n for n in dict.fromkeys(places.MINOR_STREETS)
             if n not in places.MAIN_STREETS and n not in real]
    rng.shuffle(minor)

    def residential():
        yield from minor
        for k in itertools.count(1):  # numbered series, as in newer Da Nang neighbourhoods
            for prefix in places.STREET_SERIES:
                yield f"{prefix} {k}"

    return iter([n for n in places.MAIN_STREETS if n not in real]), residential()


def build_grid(ward: Ward, water: BaseGeometry, target: int, rng: np.random.Generator,
               names) -> WardGrid:
    """The street grid and blocks of one ward's demo core."""
    anchor = ward_anchor(ward)
    angle = np.radians(rng.uniform(-14, 14))
    grid = WardGrid(ward, (anchor.x, anchor.y), angle, shapely.Point(), [], [], [], target)
    if target <= 0:  # the real blocks gave this ward all its parcels
        return grid
    grid.land = grid.to_local(core_land(ward, water, anchor, target, rng.uniform(0, 2 * np.pi, 2)))
    shapely.prepare(grid.land)
    u0, v0, u1, v1 = grid.land.bounds
    main_names, minor_names = names
    for axis, lo, hi, subdivisions, other in (("u", u0, u1, U_SUBDIVISIONS, (v0, v1)),
                                              ("v", v0, v1, V_SUBDIVISIONS, (u0, u1))):
        streets = grid.u_streets if axis == "u" else grid.v_streets
        for n, (pos, is_main, main_index) in enumerate(_positions(lo, hi, subdivisions, rng)):
            if is_main:
                road_class = "primary" if (main_index + (axis == "v")) % 2 == 0 else "secondary"
                name = next(main_names, None) or next(minor_names)
            else:
                road_class = "tertiary" if rng.random() < 0.1 else "residential"
                name = next(minor_names)
            street = Street(f"{ward.code}-{axis.upper()}{n:02d}", name, road_class, axis, pos)
            a, b = other[0] - 10, other[1] + 10
            line = shapely.LineString([(pos, a), (pos, b)] if axis == "u" else [(a, pos), (b, pos)])
            clipped = shapely.intersection(line, grid.land)
            for part in shapely.get_parts(clipped):
                if part.geom_type == "LineString" and part.length > 25:
                    c = np.asarray(part.coords)[:, 1 if axis == "u" else 0]
                    street.pieces.append((float(c.min()), float(c.max())))
            streets.append(street)
    grid.blocks = _blocks(grid, anchor)
    return grid


def _blocks(grid: WardGrid, anchor: shapely.Point) -> list[Block]:
    us, vs = grid.u_streets, grid.v_streets
    cells, rects = [], []
    for i in range(len(us) - 1):
        for j in range(len(vs) - 1):
            u1 = us[i].pos + us[i].row_width / 2
            u2 = us[i + 1].pos - us[i + 1].row_width / 2
            v1 = vs[j].pos + vs[j].row_width / 2
            v2 = vs[j + 1].pos - vs[j + 1].row_width / 2
            cells.append((i, j, (u1, v1, u2, v2)))
            rects.append(shapely.box(u1, v1, u2, v2))
    if not rects:
        return []
    clipped = shapely.intersection(np.array(rects, dtype=object), grid.land)
    centre = grid.to_local(anchor)
    blocks = []
    for (i, j, bounds), shape in zip(cells, clipped):
        shape = _polygonal(shape)
        if shape.is_empty or shape.area < 400:
            continue
        blocks.append(Block(grid.ward.code, i, j, bounds, shape,
                            float(shapely.distance(shape.centroid, centre))))
    return blocks


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 1]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def street_lines(grid: WardGrid) -> list[tuple[Street, BaseGeometry]]:
    """Each street with pieces as a world-coordinate (Multi)LineString."""
    out = []
    for street in grid.streets:
        if street.pieces:
            lines = [shapely.LineString(seg) for seg in street.segments()]
            out.append((street, grid.to_world(shapely.MultiLineString(lines))))
    return out


def grid_roads(grid: WardGrid) -> list[Road]:
    """The grid's streets as Roads (world geometry)."""
    return [Road(street.road_id, street.name, street.road_class, street.row_width, line)
            for street, line in street_lines(grid)]
