"""The city's extent (lon/lat, EPSG:4326) that every imported geometry must lie inside."""
from __future__ import annotations

import numpy as np
import shapely

from layers.city import CITY

CITY_BOUNDS = CITY.bounds
# About 5 km, so features on the outline and offshore works are not refused.
MARGIN_DEG = 0.05
CHECK_BOUNDS = (CITY_BOUNDS[0] - MARGIN_DEG, CITY_BOUNDS[1] - MARGIN_DEG,
                CITY_BOUNDS[2] + MARGIN_DEG, CITY_BOUNDS[3] + MARGIN_DEG)


def is_inside_city(geoms: np.ndarray) -> np.ndarray:
    """Per geometry (lon/lat): True when its bounding box lies inside the city's extent."""
    b = shapely.bounds(geoms)
    x0, y0, x1, y1 = CHECK_BOUNDS
    with np.errstate(invalid="ignore"):
        return (b[:, 0] >= x0) & (b[:, 1] >= y0) & (b[:, 2] <= x1) & (b[:, 3] <= y1)
