"""Coordinate reference systems the features API accepts, and transforms into CRS84."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from gisapp.errors import BadRequest
from layers.city import CITY

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"

# URI -> pyproj code. Axis order follows the authority (EPSG:4326 is lat/lon), as OGC asks.
SUPPORTED_CRS: dict[str, str] = {
    CRS84: "OGC:CRS84",
    EPSG_URI + "4326": "EPSG:4326",
    EPSG_URI + "3857": "EPSG:3857",
    EPSG_URI + str(CITY.metric_srid): CITY.metric_crs,  # the city's VN-2000 / TM-3 zone
    EPSG_URI + "4756": "EPSG:4756",
    EPSG_URI + "3405": "EPSG:3405",
    EPSG_URI + "3406": "EPSG:3406",
}
SHORT_NAMES = {"CRS84": CRS84, **{code: uri for uri, code in SUPPORTED_CRS.items()}}
METRIC_SRID = CITY.metric_srid


def parse_crs(value: str | None, param: str) -> str:
    """The canonical URI for a client's CRS (URI or short EPSG:n / CRS84), or a 400."""
    if value is None or value == "":
        return CRS84
    uri = SHORT_NAMES.get(value, value)
    if uri not in SUPPORTED_CRS:
        raise BadRequest(f"{param} {value!r} is not supported; use one of "
                         f"{', '.join(SUPPORTED_CRS)} (or the short forms CRS84, EPSG:n)")
    return uri


@lru_cache(maxsize=None)
def _to_crs84(uri: str) -> Transformer:
    return Transformer.from_crs(CRS(SUPPORTED_CRS[uri]), CRS("OGC:CRS84"))


def bbox_to_crs84(bbox: tuple[float, ...], uri: str) -> tuple[float, float, float, float]:
    """A 2D or 3D bbox in `uri` axis order as (minlon, minlat, maxlon, maxlat), densified."""
    if len(bbox) == 6:
        bbox = (bbox[0], bbox[1], bbox[3], bbox[4])
    if uri == CRS84:
        return bbox  # type: ignore[return-value]
    out = _to_crs84(uri).transform_bounds(*bbox, densify_pts=21)
    if not all(math.isfinite(v) for v in out):
        raise BadRequest(f"bbox {list(bbox)} lies outside the area of {SUPPORTED_CRS[uri]}")
    return out


def geometry_to_crs84(geom: BaseGeometry, uri: str) -> BaseGeometry:
    """A geometry given in `uri` (axis order of that CRS) as CRS84 lon/lat."""
    if uri == CRS84:
        return geom
    transformer = _to_crs84(uri)
    out = shapely.transform(geom, lambda xy: _transform_xy(transformer, xy))
    if not shapely.is_valid_input(out) or not _is_finite(out):
        raise BadRequest(f"geometry lies outside the area of {SUPPORTED_CRS[uri]}")
    return out


def _transform_xy(transformer: Transformer, xy):
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _is_finite(geom: BaseGeometry) -> bool:
    return bool(np.isfinite(shapely.get_coordinates(geom)).all())


@dataclass(frozen=True)
class OutputCrs:
    """How to write geometries in a CRS: its SRID, lat/lon axis swap, decimal digits."""

    uri: str
    srid: int
    flip: bool
    digits: int


@lru_cache(maxsize=None)
def output_crs(uri: str) -> OutputCrs:
    """Output settings for a supported CRS URI (axis order as its authority defines)."""
    code = SUPPORTED_CRS[uri]
    crs = CRS(code)
    srid = 4326 if code == "OGC:CRS84" else int(code.split(":")[1])
    flip = crs.axis_info[0].direction.lower() == "north"
    return OutputCrs(uri, srid, flip, 7 if crs.is_geographic else 3)
