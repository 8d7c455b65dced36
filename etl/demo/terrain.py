"""The demo city's ground: wards, river, lakes, sea and an elevation surface (EPSG:5899, metres)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from etl.demo import places
from layers.city import CITY

METRIC_CRS = CITY.metric_crs
DATA_DIR = Path(__file__).resolve().parent / "data"
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_TO_WGS84 = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


def to_metric(geoms):
    """Reproject shapely geometries (one or an array) from WGS 84 lon/lat to EPSG:5899."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1])))


def to_wgs84(geoms):
    """Reproject shapely geometries (one or an array) from EPSG:5899 to WGS 84 lon/lat."""
    return shapely.transform(geoms, lambda xy: np.column_stack(_TO_WGS84.transform(xy[:, 0], xy[:, 1])))


def metric_point(lon: float, lat: float) -> shapely.Point:
    """A WGS 84 position as an EPSG:5899 point."""
    return shapely.Point(*_TO_METRIC.transform(lon, lat))


@dataclass(frozen=True)
class Ward:
    code: str
    name: str
    properties: dict
    shape: BaseGeometry  # EPSG:5899


def ward_files() -> list[Path]:
    """The six ward GeoJSON files shipped with the generator, in the order of places.WARDS."""
    return [next((DATA_DIR / "wards").glob(f"{code}_*.geojson")) for code in places.WARDS]


def load_wards() -> list[Ward]:
    """The real boundaries of the demo wards, in EPSG:5899."""
    wards = []
    for path in ward_files():
        feature = json.loads(path.read_text(encoding="utf-8"))["features"][0]
        shape = to_metric(shapely.geometry.shape(feature["geometry"]))
        props = feature["properties"]
        wards.append(Ward(props["code"], props["name"], props, shapely.make_valid(shape)))
    return wards


def _line(points) -> shapely.LineString:
    return to_metric(shapely.LineString(points))


def river_centreline() -> shapely.LineString:
    """The Han River centreline in EPSG:5899."""
    return _line(places.HAN_RIVER)


def river_polygon() -> BaseGeometry:
    """The Han River as a polygon about 260 m wide."""
    return river_centreline().buffer(places.RIVER_HALF_WIDTH_M, quad_segs=8)


def coastline() -> shapely.LineString:
    return _line(places.COAST)


def lake_polygons(rng: np.random.Generator) -> list[tuple[str, BaseGeometry]]:
    """A few lakes: noisy ellipses around real lake positions."""
    lakes = []
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    for name, lon, lat, rx, ry in places.LAKES:
        centre = metric_point(lon, lat)
        wobble = 1 + 0.12 * np.sin(3 * angles + rng.uniform(0, 6.28)) + rng.normal(0, 0.02, 48)
        xs = centre.x + rx * wobble * np.cos(angles)
        ys = centre.y + ry * wobble * np.sin(angles)
        lakes.append((name, shapely.make_valid(shapely.Polygon(np.column_stack([xs, ys])))))
    return lakes


class Elevation:
    """Ground height in metres: ~1 m at the river and sea, rising inland, hills on top."""

    def __init__(self, rng: np.random.Generator):
        self.river = river_centreline()
        self.coast = coastline()
        self.hills = [(metric_point(lon, lat), h, s) for _, lon, lat, h, s in places.HILLS]
        self.phase = rng.uniform(0, 2 * np.pi, 4)

    def at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Elevation at EPSG:5899 coordinates (arrays of the same shape)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        pts = shapely.points(x.ravel(), y.ravel())
        d = np.minimum(shapely.distance(pts, self.river) - places.RIVER_HALF_WIDTH_M,
                       shapely.distance(pts, self.coast))
        d = np.clip(d, 0, None).reshape(x.shape)
        z = 0.8 + 6.5 * (1 - np.exp(-d / 1500.0))
        z += 0.4 * np.sin(x / 700.0 + self.phase[0]) * np.cos(y / 900.0 + self.phase[1])
        z += 0.2 * np.sin(x / 230.0 + self.phase[2]) * np.sin(y / 310.0 + self.phase[3])
        for centre, height, sigma in self.hills:
            r2 = (x - centre.x) ** 2 + (y - centre.y) ** 2
            z += height * np.exp(-r2 / (2 * sigma**2))
        return np.clip(z, 0.3, None)
