"""Geometry checks and safe repairs, vectorised with shapely 2 (input already 2D, EPSG:4326)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from etl.extent import is_inside_city
from layers import Layer

TYPE_IDS = {"Point": 0, "LineString": 1, "LinearRing": 2, "Polygon": 3, "MultiPoint": 4,
            "MultiLineString": 5, "MultiPolygon": 6, "GeometryCollection": 7}
TYPE_NAMES = {v: k for k, v in TYPE_IDS.items()}
SINGLE_OF = {"MultiPoint": "Point", "MultiLineString": "LineString", "MultiPolygon": "Polygon"}
MULTI_OF = {v: k for k, v in SINGLE_OF.items()}
DIMENSION = {"Point": 0, "LineString": 1, "Polygon": 2}


@dataclass
class GeometryCheck:
    """Repaired geometries of the layer's exact type, a reason per refused row, repaired rows."""

    geoms: np.ndarray
    reasons: np.ndarray   # object: None or the first reason
    repaired: np.ndarray  # bool


def _set_reason(reasons: np.ndarray, mask: np.ndarray, text: str | np.ndarray) -> None:
    target = mask & (reasons == None)  # noqa: E711 (element-wise on an object array)
    if isinstance(text, np.ndarray):
        reasons[target] = text[target]
    else:
        reasons[target] = text


def _parts_of_dimension(geom, dim: int):
    """The parts of a (repaired) geometry that have the layer's dimension, or None."""
    parts = [p for p in shapely.get_parts(geom) if shapely.get_dimensions(p) == dim
             and not p.is_empty]
    if not parts:
        return None
    if dim == 2:
        return shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
    if dim == 1:
        return shapely.multilinestrings(parts) if len(parts) > 1 else parts[0]
    return shapely.multipoints(parts) if len(parts) > 1 else parts[0]


def _repair_invalid(geoms: np.ndarray, todo: np.ndarray, dim: int, reasons: np.ndarray,
                    repaired: np.ndarray) -> None:
    for i in np.flatnonzero(todo):
        why = shapely.is_valid_reason(geoms[i])
        try:
            fixed = _parts_of_dimension(shapely.make_valid(geoms[i]), dim)
        except shapely.errors.GEOSException:
            fixed = None
        if fixed is None or not fixed.is_valid:
            reasons[i] = f"invalid geometry ({why}) could not be repaired"
        else:
            geoms[i] = fixed
            repaired[i] = True


def check_geometries(geoms: np.ndarray, layer: Layer) -> GeometryCheck:
    """Drop duplicate vertices, make valid, check type and city extent.

    Single geometries stay single here: staging promotes them to the layer's Multi type
    in SQL (ST_Multi), which is much cheaper than building Multi objects in Python.
    """
    n = len(geoms)
    geoms = np.array(geoms, dtype=object)
    reasons = np.full(n, None, dtype=object)
    repaired = np.zeros(n, dtype=bool)
    missing = shapely.is_missing(geoms)
    _set_reason(reasons, missing, "missing geometry")
    _set_reason(reasons, ~missing & shapely.is_empty(geoms), "empty geometry")

    target = layer.geometry_type
    single = SINGLE_OF.get(target, target)
    dim = DIMENSION[single]
    ok = reasons == None  # noqa: E711
    type_ids = shapely.get_type_id(geoms)
    allowed = {TYPE_IDS[target], TYPE_IDS[single]}
    if target == single:  # a single-part Multi source fits a single-type layer
        one_part = (type_ids == TYPE_IDS[MULTI_OF[single]]) & (shapely.get_num_geometries(geoms) == 1)
        geoms[ok & one_part] = shapely.get_geometry(geoms[ok & one_part], 0)
        type_ids = shapely.get_type_id(geoms)
    wrong = ok & ~np.isin(type_ids, list(allowed))
    names = np.array([f"geometry is {TYPE_NAMES.get(t, 'unknown')}, layer needs {target}"
                      for t in type_ids], dtype=object) if wrong.any() else None
    if names is not None:
        _set_reason(reasons, wrong, names)

    todo = (reasons == None) & _has_repeated_points(geoms)  # noqa: E711
    if todo.any():
        before = shapely.get_num_coordinates(geoms[todo])
        try:
            cleaned = shapely.remove_repeated_points(geoms[todo], tolerance=0.0)
        except shapely.errors.GEOSException:
            cleaned = np.array([_remove_repeated(g) for g in geoms[todo]], dtype=object)
        repaired[todo] = shapely.get_num_coordinates(cleaned) != before
        geoms[todo] = cleaned

    ok = reasons == None  # noqa: E711
    invalid = ok & ~shapely.is_valid(geoms)
    _repair_invalid(geoms, invalid, dim, reasons, repaired)

    ok = reasons == None  # noqa: E711
    outside = np.zeros(n, dtype=bool)
    outside[ok] = ~is_inside_city(geoms[ok])
    _set_reason(reasons, outside, "outside the city extent")

    return GeometryCheck(geoms, reasons, repaired)


def _has_repeated_points(geoms: np.ndarray) -> np.ndarray:
    """Per geometry: True when two consecutive coordinates are equal (cheap pre-check)."""
    out = np.zeros(len(geoms), dtype=bool)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) > 1:
        same = (coords[1:] == coords[:-1]).all(axis=1) & (index[1:] == index[:-1])
        out[index[1:][same]] = True
    return out


def _remove_repeated(geom):
    try:
        return shapely.remove_repeated_points(geom, tolerance=0.0)
    except shapely.errors.GEOSException:
        return geom  # left as is; the validity check decides
