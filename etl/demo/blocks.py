"""Parcels in the real blocks between real streets: frontage lots along every street edge,
deeper lots behind, house numbers along the street they face (EPSG:5899).

A block is a piece of land left when the road reserves and water are taken out. Its edge
gets lots 4-8 m wide and 15-25 m deep, cut square to the edge; what lies deeper is cut
into back lots on a grid turned to the block. Blocks too thin for a back row are cut
straight through, across their long axis.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
import shapely.geometry.polygon
from shapely.geometry.base import BaseGeometry

from etl.demo import places
from etl.demo.streets import Road

FRONTAGE_M = (4.0, 8.0)
DEPTH_M = (15.0, 25.0)
BACK_WIDTH_M = (18.0, 26.0)
BACK_DEPTH_M = (24.0, 34.0)
MIN_PARCEL_M2 = 25.0
MIN_BLOCK_M2 = 80.0
LARGE_LOT_M2 = 1500.0
LARGE_INSTITUTION_SHARE = 0.6
WHOLE_INNER_M2 = (3000.0, 0.25)  # a block's back land this big stays one lot, so often
HERITAGE_SHARE = 0.5  # of a lot inside a heritage site's zone I: it is the site's


def blocks(land: BaseGeometry) -> list[BaseGeometry]:
    """The polygons of `land` (already without road reserves and water) big enough to build on."""
    parts = [p for p in shapely.get_parts(shapely.make_valid(land))
             if p.geom_type == "Polygon" and p.area >= MIN_BLOCK_M2]
    return [shapely.geometry.polygon.orient(p, 1.0) for p in parts]


def _largest(geom: BaseGeometry) -> BaseGeometry | None:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return max(parts, key=lambda p: p.area) if parts else None


def _pieces(area: BaseGeometry, cuts: np.ndarray) -> list[BaseGeometry]:
    """The faces `cuts` make of `area` (cuts may overshoot it)."""
    if not len(cuts):
        return [area]
    noded = shapely.union_all(np.concatenate([[area.boundary], cuts]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    if not len(faces):
        return [area]
    inside = shapely.contains(area, shapely.point_on_surface(faces))
    return list(faces[inside])


def _edge_cuts(block: BaseGeometry, depth: float, rng: np.random.Generator) -> np.ndarray:
    """Lines square to every ring of the block, 4-8 m apart, reaching `depth` inwards."""
    cuts = []
    for ring in [block.exterior, *block.interiors]:
        length = ring.length
        if length < 2 * FRONTAGE_M[0]:
            continue
        at = np.cumsum(rng.uniform(*FRONTAGE_M, int(length / FRONTAGE_M[0]) + 2))
        at = at[at < length - FRONTAGE_M[0] * 0.6]
        if not len(at):
            continue
        here = shapely.get_coordinates(shapely.line_interpolate_point(ring, at))
        ahead = shapely.get_coordinates(shapely.line_interpolate_point(ring, (at + 0.5) % length))
        behind = shapely.get_coordinates(shapely.line_interpolate_point(ring, (at - 0.5) % length))
        tangent = ahead - behind
        tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
        inward = np.column_stack([-tangent[:, 1], tangent[:, 0]])  # left of a ring of `orient`
        start, end = here - 0.5 * inward, here + (depth + 3.0) * inward
        cuts.append(shapely.linestrings(np.stack([start, end], axis=1)))
    return np.concatenate(cuts) if cuts else np.array([], dtype=object)


def _frame_of(block: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along and across the block's minimum rotated rectangle."""
    corners = shapely.get_coordinates(shapely.minimum_rotated_rectangle(block))[:4]
    a, b = corners[1] - corners[0], corners[2] - corners[1]
    along, across = (a, b) if np.hypot(*a) >= np.hypot(*b) else (b, a)
    return along / np.hypot(*along), across / np.hypot(*across)


def _grid_cuts(block: BaseGeometry, spacing: tuple[float, float], rng: np.random.Generator,
               across_too: tuple[float, float] | None = None) -> np.ndarray:
    """Lines across the block every `spacing` m along its long axis (and along it, if asked)."""
    along, across = _frame_of(block)
    centre = np.asarray(block.centroid.coords[0])
    radius = np.hypot(*(np.asarray(block.bounds[2:]) - block.bounds[:2])) / 2 + 1.0
    lines = []
    for direction, normal, steps in ((along, across, spacing), (across, along, across_too)):
        if steps is None:
            continue
        at = -radius + np.cumsum(rng.uniform(*steps, int(2 * radius / steps[0]) + 2))
        at = at[at < radius]
        start = centre + at[:, None] * direction - radius * normal
        end = centre + at[:, None] * direction + radius * normal
        lines.append(shapely.linestrings(np.stack([start, end], axis=1)))
    return np.concatenate(lines)


def cut_block(block: BaseGeometry, rng: np.random.Generator) -> list[tuple[BaseGeometry, bool]]:
    """The lots of one block: (polygon, is a frontage lot)."""
    depth = rng.uniform(*DEPTH_M)
    inner = _largest(block.buffer(-depth, join_style="mitre", mitre_limit=2.0))
    if inner is None or inner.area < 0.15 * block.area:
        through = _pieces(block, _grid_cuts(block, (FRONTAGE_M[0] + 1, FRONTAGE_M[1] + 1), rng))
        lots = [(p, True) for p in through]
    else:
        inner = shapely.intersection(inner, block)
        strip = shapely.difference(block, inner)
        lots = [(p, True) for p in _pieces(strip, _edge_cuts(block, depth, rng))]
        if inner.area < 2 * BACK_WIDTH_M[0] * BACK_DEPTH_M[0] or (
                inner.area > WHOLE_INNER_M2[0] and rng.random() < WHOLE_INNER_M2[1]):
            back = [inner]
        else:
            back = _pieces(inner, _grid_cuts(inner, BACK_WIDTH_M, rng, BACK_DEPTH_M))
        lots += [(p, False) for p in back]
    out = []
    for shape, front in lots:
        shape = shape if shape.geom_type == "Polygon" else _largest(shape)
        if shape is not None and shape.area >= MIN_PARCEL_M2:
            out.append((shape, front))
    return out


def merge_sites(frame: pd.DataFrame, known: tuple[tuple[str, bool, BaseGeometry], ...]
                ) -> pd.DataFrame:
    """Lots of one block whose centres lie in the same mapped school, park, market… area
    merged into one lot: an institution holds its ground as one parcel."""
    centres = shapely.point_on_surface(frame["geometry"].to_numpy())
    site = np.full(len(frame), -1)
    for k, (_, is_area, geom) in enumerate(known):
        if is_area:
            site[shapely.contains(geom, centres) & (site < 0)] = k
    if (site < 0).all():
        return frame
    keep = frame[site < 0]
    merged = []
    for (_, k), group in frame[site >= 0].groupby(["block", site[site >= 0]], sort=True):
        shape = _largest(shapely.union_all(group["geometry"].to_numpy()))
        merged.append({**group.iloc[0].to_dict(), "front": False, "geometry": shape})
    return pd.concat([keep, pd.DataFrame(merged)], ignore_index=True)


def address_lots(frame: pd.DataFrame, roads: list[Road]) -> pd.DataFrame:
    """Street and its class of each lot (the nearest named street), with where along it the
    lot lies (`along`, metres from the street's start) and on which side (`left`)."""
    named = [r for r in roads if r.name]
    lines = np.array([r.geometry for r in named], dtype=object)
    tree = shapely.STRtree(lines)
    centres = shapely.point_on_surface(frame["geometry"].to_numpy())
    nearest = tree.nearest(centres)
    names = np.array([_street_name(named[k].name) for k in nearest], dtype=object)
    frame["street"] = names
    frame["street_class"] = [named[k].road_class for k in nearest]
    merged = {}
    for road in named:
        merged.setdefault(_street_name(road.name), []).append(road.geometry)
    frame["along"] = 0.0
    frame["left"] = False
    for name, index in frame.groupby("street").groups.items():
        line = shapely.line_merge(shapely.union_all(merged[name]))
        points = centres[frame.index.get_indexer(index)]
        s = shapely.line_locate_point(line, points)
        here = shapely.get_coordinates(shapely.line_interpolate_point(line, s))
        ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, s + 1.0))
        behind = shapely.get_coordinates(shapely.line_interpolate_point(line, s - 1.0))
        tangent, offset = ahead - behind, shapely.get_coordinates(points) - here
        frame.loc[index, "along"] = s
        frame.loc[index, "left"] = tangent[:, 0] * offset[:, 1] - tangent[:, 1] * offset[:, 0] > 0
    return frame


def number_houses(frame: pd.DataFrame) -> pd.DataFrame:
    """House numbers of the lots that have `along`: from each street's start, whichever ward
    the lot is in, odd on the left and even on the right."""
    real = frame["along"].notna().to_numpy()
    lots = frame[real]
    left = lots["left"].astype(bool)
    n = lots.groupby([lots["street"], left])["along"].rank(method="first").to_numpy().astype(int)
    frame.loc[real, "house_no"] = np.where(left, 2 * n - 1, 2 * n)
    frame["house_no"] = frame["house_no"].astype(int)
    return frame.drop(columns=["along", "left"])


def _street_name(osm_name: str) -> str:
    """The name as addresses write it: 'Đường Hoàng Diệu' -> 'Hoàng Diệu'."""
    return osm_name.removeprefix("Đường ").strip()


def lot_uses(frame: pd.DataFrame, heritage: list[tuple[str, BaseGeometry]],
             known: tuple[tuple[str, bool, BaseGeometry], ...],
             rng: np.random.Generator) -> pd.DataFrame:
    """Land uses by location: lots under a mapped school, hospital, market, park… are that
    (institutions' large lots), lots holding a mapped café, shop or bank are commercial
    (`known_use`), some other large back lots become institutions; heritage sites' lots
    take the site's use."""
    uses = list(places.INSTITUTION_WEIGHTS)
    weights = np.array(list(places.INSTITUTION_WEIGHTS.values()), dtype=float)
    area = shapely.area(frame["geometry"].to_numpy())
    large = (area > LARGE_LOT_M2) & ~frame["front"].to_numpy()
    pick = rng.random(len(frame)) < LARGE_INSTITUTION_SHARE
    chosen = rng.choice(uses, len(frame), p=weights / weights.sum())
    institution = np.where(large & pick, chosen, None).astype(object)
    for site, zone in heritage:
        shared = shapely.area(shapely.intersection(frame["geometry"].to_numpy(), zone))
        inside = shared > HERITAGE_SHARE * area
        institution[inside] = places.HERITAGE_LAND_USE[site]
        large = large | inside
    centres = shapely.point_on_surface(frame["geometry"].to_numpy())
    known_use = np.full(len(frame), None, dtype=object)
    for use, is_area, geom in known:
        if is_area:
            inside = shapely.contains(geom, centres)
            institution[inside], large = use, large | inside
        else:
            inside = shapely.contains(frame["geometry"].to_numpy(), geom)
            known_use[inside] = use
    frame["large"] = large
    frame["institution"] = institution
    frame["known_use"] = known_use
    return frame
