"""A small static map as inline SVG: planar shapes scaled to a box, no external tiles."""
from __future__ import annotations

from html import escape

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from layers.city import CITY

# Fill and stroke per kind of shape; unknown kinds draw grey.
KIND_STYLES = {
    "parcel": ("#fdd49e", "#d7301f"),
    "footprint": ("#525252", "#000000"),
    "outside_parcel": ("#e31a1c", "#e31a1c"),
    "road_reserve": ("#fb9a99", "#e31a1c"),
    "drainage_corridor": ("#6baed6", "#2171b5"),
    "drainage_pipe": ("none", "#2171b5"),
    "flood_zone": ("#9ecae1", "#3182bd"),
    "heritage_area": ("#bf812d", "#8c510a"),
    "zone": ("none", "#cc4c02"),
    "street_light": ("#feb24c", "#7f2704"),
    "manhole": ("#2171b5", "#08306b"),
}
_TO_METRIC = Transformer.from_crs(4326, CITY.metric_srid, always_xy=True)


def from_wgs84(geojson_geometry: dict) -> BaseGeometry:
    """A WGS 84 GeoJSON geometry in the city's metric CRS, for drawing."""
    geom = shapely.geometry.shape(geojson_geometry)
    return shapely.transform(geom, _to_metric)


def _to_metric(xy: np.ndarray) -> np.ndarray:
    x, y = _TO_METRIC.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _path(geom: BaseGeometry, fx, fy) -> str:
    parts = []
    for g in getattr(geom, "geoms", [geom]):
        if g.geom_type == "Polygon":
            for ring in [g.exterior, *g.interiors]:
                parts.append("M" + "L".join(f"{fx(x):.1f},{fy(y):.1f}" for x, y in ring.coords) + "Z")
        elif g.geom_type == "LineString":
            parts.append("M" + "L".join(f"{fx(x):.1f},{fy(y):.1f}" for x, y in g.coords))
    return " ".join(parts)


def render_svg(shapes: list[tuple[str, BaseGeometry]], width: int = 480, height: int = 360,
               margin_m: float = 5.0) -> str:
    """(kind, 5899 geometry) pairs drawn in order into an SVG, north up, with a scale bar."""
    if not shapes:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"></svg>'
    x0, y0, x1, y1 = shapely.GeometryCollection([g for _, g in shapes]).bounds
    x0, y0, x1, y1 = x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m
    scale = min(width / max(x1 - x0, 1e-6), height / max(y1 - y0, 1e-6))

    def fx(x):
        return (x - x0) * scale

    def fy(y):
        return height - (y - y0) * scale

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img">',
           f'<rect width="{width}" height="{height}" fill="#ffffff" stroke="#cccccc"/>']
    for kind, geom in shapes:
        fill, stroke = KIND_STYLES.get(kind, ("#dddddd", "#888888"))
        if geom.geom_type in ("Point", "MultiPoint"):
            for p in getattr(geom, "geoms", [geom]):
                out.append(f'<circle class="{escape(kind)}" cx="{fx(p.x):.1f}" cy="{fy(p.y):.1f}"'
                           f' r="4" fill="{fill}" stroke="{stroke}"/>')
            continue
        d = _path(geom, fx, fy)
        if d:
            out.append(f'<path class="{escape(kind)}" d="{d}" fill="{fill}" fill-opacity="0.6" '
                       f'stroke="{stroke}" stroke-width="1.5" fill-rule="evenodd"/>')
    bar = _scale_bar_m(width / scale / 4)
    out.append(f'<line x1="10" y1="{height - 12}" x2="{10 + bar * scale:.1f}" y2="{height - 12}" '
               f'stroke="#000" stroke-width="2"/><text x="10" y="{height - 16}" '
               f'font-size="11">{bar:g} m</text></svg>')
    return "".join(out)


def _scale_bar_m(target: float) -> float:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        if step >= target:
            return float(step)
    return 10000.0
