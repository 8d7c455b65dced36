"""Street lights every ~30 m along streets, real or generated (both sides of main streets),
grouped under cabinets."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

from etl.demo.streets import Road

SPACING_M = 30.0
MAX_LIGHTS_PER_CABINET = 70
MAIN_CLASSES = ("primary", "secondary")


def _along(line: shapely.LineString, offset: float) -> list[shapely.Point]:
    """Points every SPACING_M along a line, `offset` m to its left (negative: right)."""
    length = line.length
    t = np.arange(SPACING_M / 2, length, SPACING_M)
    if len(t) == 0:
        return []
    here = shapely.get_coordinates(shapely.line_interpolate_point(line, t))
    tangent = (shapely.get_coordinates(shapely.line_interpolate_point(line, t + 0.5))
               - shapely.get_coordinates(shapely.line_interpolate_point(line, t - 0.5)))
    tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
    left = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    return list(shapely.points(here + offset * left))


def place_lights(networks: list[tuple[str, list[Road]]], rng: np.random.Generator
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cabinets and lights of every street network (code, roads), EPSG:5899 points."""
    cabinets, lights = [], []
    for code, roads in networks:
        ward_lights = []
        for street in roads:
            main = street.road_class in MAIN_CLASSES
            offsets = ((street.row_width / 2 - 1.5), -(street.row_width / 2 - 1.5)) if main \
                else (street.row_width / 2 - 1.0,)
            for line in shapely.get_parts(street.geometry):
                for off in offsets:
                    ward_lights.extend((street, main, point) for point in _along(line, off))
        groups = np.array_split(np.arange(len(ward_lights)),
                                max(1, math.ceil(len(ward_lights) / MAX_LIGHTS_PER_CABINET)))
        for g, members in enumerate(groups):
            if len(members) == 0:
                continue
            cabinet_id = f"TU-{code}-{g + 1:03d}"
            middle_street, _, middle = ward_lights[members[len(members) // 2]]
            watts = 0
            for k in members:
                street, main, point = ward_lights[k]
                lamp = rng.choice(["LED", "HPS", "MH"], p=[0.7, 0.25, 0.05])
                wattage = int(rng.choice([100, 150]) if main else rng.choice([60, 80])) \
                    if lamp == "LED" else int(rng.choice([150, 250]))
                watts += wattage
                lights.append({
                    "ma_den": f"DCS-{code}-{len(lights) + 1:05d}", "ma_tu": cabinet_id,
                    "lamp_type": lamp, "cong_suat": wattage,
                    "pole_height": float(rng.choice([10.0, 12.0]) if main else 8.0),
                    "tinh_trang": rng.choice(["working", "out_of_service", "dimmed"],
                                             p=[0.92, 0.03, 0.05]),
                    "street": street.name, "install_year": int(rng.integers(2005, 2025)),
                    "geometry": point})
            label = middle_street.name or code
            cabinets.append({"ma_tu": cabinet_id, "name": f"Tủ chiếu sáng {label} {g + 1}",
                             "street": middle_street.name,
                             "capacity_kw": round(watts * 1.25 / 1000, 1),
                             "status": "fault" if rng.random() < 0.05 else "working",
                             "geometry": shapely.Point(middle.x + 2.0, middle.y + 2.0)})
    return pd.DataFrame(cabinets), pd.DataFrame(lights)


def add_bad_lights(lights: pd.DataFrame) -> pd.DataFrame:
    """Two deliberately bad rows: a light without an id and a duplicated light id."""
    missing = dict(lights.iloc[0])
    missing["ma_den"] = None
    duplicate = dict(lights.iloc[1])
    duplicate["geometry"] = shapely.Point(duplicate["geometry"].x + 5, duplicate["geometry"].y)
    return pd.concat([lights, pd.DataFrame([missing, duplicate])], ignore_index=True)
