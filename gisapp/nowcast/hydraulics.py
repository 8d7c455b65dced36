"""The formulas of the now-cast: Manning full-flow capacity, rational runoff, IDW rainfall."""
from __future__ import annotations

import math

import numpy as np

# Manning's roughness by pipe material (concrete when unknown), dimensionless.
MANNING_N = {"concrete": 0.013, "hdpe": 0.011, "brick": 0.015}
DEFAULT_N = 0.013
# A pipe whose inverts are missing or flat is taken at this slope (m/m): a sewer laid flat
# still drains under head, and no capacity at all would flag every street upstream.
MIN_SLOPE = 0.001
# Runoff coefficient of a dense urban catchment (roofs, roads, yards): the share of rain
# that reaches the pipes at the peak.
RUNOFF_COEFFICIENT = 0.75
IDW_POWER = 2.0


def full_flow_capacity(diameter_mm: float | None, slope: float | None,
                       material: str | None) -> float:
    """A circular pipe's full-flow capacity in m³/s by Manning: Q = (1/n) A R^(2/3) S^(1/2).

    A = πD²/4 and R = D/4; a pipe without a diameter carries nothing (0.0).
    """
    if not diameter_mm or diameter_mm <= 0:
        return 0.0
    d = diameter_mm / 1000.0
    s = slope if slope is not None and slope >= MIN_SLOPE else MIN_SLOPE
    n = MANNING_N.get(material or "", DEFAULT_N)
    return (1.0 / n) * (math.pi * d * d / 4.0) * (d / 4.0) ** (2.0 / 3.0) * math.sqrt(s)


def peak_runoff(intensity_mm_h: float, area_m2: float,
                coefficient: float = RUNOFF_COEFFICIENT) -> float:
    """The rational method's peak runoff in m³/s: Q = C i A (i in mm/h, A in m²)."""
    return coefficient * intensity_mm_h * area_m2 / 3_600_000.0


def idw(points: np.ndarray, stations: np.ndarray, values: np.ndarray,
        power: float = IDW_POWER) -> np.ndarray:
    """Inverse-distance-weighted values at points (n×2) from stations (m×2, metres).

    Distances under 1 m count as 1 m; no stations give zeros.
    """
    if len(stations) == 0:
        return np.zeros(len(points))
    d = np.hypot(points[:, None, 0] - stations[None, :, 0],
                 points[:, None, 1] - stations[None, :, 1])
    w = 1.0 / np.maximum(d, 1.0) ** power
    return (w * values[None, :]).sum(axis=1) / w.sum(axis=1)


def projected_intensity(last_hour: float, hour_before: float, horizon: int,
                        ceiling: float) -> float:
    """The rain intensity (mm/h) expected `horizon` hours on: the last hour's, moved by the
    change from the hour before once per hour ahead, never below 0 or above `ceiling`."""
    return float(min(max(last_hour + horizon * (last_hour - hour_before), 0.0), ceiling))
