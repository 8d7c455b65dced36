"""The city's extent (lon/lat, EPSG:4326) that every imported geometry must lie inside."""
from __future__ import annotations

import numpy as np
import shapely

# Bounding box of the merged city (incl. the Hoang Sa special zone), computed once from
# /work/shared/data/danang-wards-2025/48_da_nang.geojson (total_bounds, 6 decimals):
# the repo must not read that file at run time.
CITY_BOUNDS = (107.208588, 14.953287, 112.736122, 17.120279)
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
