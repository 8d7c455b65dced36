"""The QCVN 01:2021/BXD tables a check reads: net coverage by lot area, setback by street.

Both tables arrive as rule parameters (rows of `permit_rules`), never as constants here.
"""
from __future__ import annotations

from typing import Any, Sequence

from gisapp.errors import BadRequest


def max_net_coverage(lot_area_m2: float, breakpoints: Sequence[Sequence[float]]) -> float:
    """Maximum net coverage (%) for a lot, interpolated linearly between the table's columns.

    `breakpoints` are (lot area m², coverage %) pairs in increasing area; at or below the
    first area the first figure holds, at or above the last the last figure holds
    (QCVN 01:2021/BXD Table 2.8: ≤90 m² → 100 %, ≥1000 m² → 40 %).
    """
    points = [(float(a), float(c)) for a, c in breakpoints]
    if lot_area_m2 <= 0:
        raise BadRequest(f"lot area must be positive; got {lot_area_m2} m²")
    if lot_area_m2 <= points[0][0]:
        return points[0][1]
    for (a0, c0), (a1, c1) in zip(points, points[1:]):
        if lot_area_m2 <= a1:
            return c0 + (c1 - c0) * (lot_area_m2 - a0) / (a1 - a0)
    return points[-1][1]


def min_street_setback(reserve_width_m: float, height_m: float, table: dict) -> float:
    """Minimum setback (m) from the red line for a street reserve width and building height.

    `table["height_columns_m"]` are the column heights, increasing, with a final null for
    "above the last"; a height between columns takes the next column up (the stricter one).
    `table["rows"]` are {"min_width_m", "setbacks_m"} in increasing width; a reserve takes
    the last row whose min_width_m it reaches (QCVN 01:2021/BXD Table 2.7).
    """
    columns = table["height_columns_m"]
    index = len(columns) - 1
    for i, limit in enumerate(columns):
        if limit is not None and height_m <= limit:
            index = i
            break
    rows = sorted(table["rows"], key=lambda r: r["min_width_m"])
    chosen = rows[0]
    for row in rows:
        if reserve_width_m >= row["min_width_m"]:
            chosen = row
    return float(chosen["setbacks_m"][index])


def corridor_width(diameter_mm: float | None, params: dict) -> float:
    """Protection corridor half-width (m) each side of a pipe, by the pipe's diameter class."""
    if diameter_mm is None:
        return float(params["unknown_diameter_buffer_m"])
    for cls in params["classes"]:
        if cls["max_diameter_mm"] is None or diameter_mm <= cls["max_diameter_mm"]:
            return float(cls["buffer_m"])
    return float(params["unknown_diameter_buffer_m"])


def corridor_reach(params: dict) -> float:
    """The widest corridor any pipe can have: how far from the parcel pipes matter."""
    return max([float(params["unknown_diameter_buffer_m"])]
               + [float(c["buffer_m"]) for c in params["classes"]])


def pipe_corridor(pipe: Any, params: dict) -> tuple[float, Any]:
    """A pipe's corridor half-width (m) and its protection corridor (flat ends), in metres."""
    width = corridor_width(pipe.attrs.get("diameter_mm"), params)
    return width, pipe.geom.buffer(width, cap_style="flat")
