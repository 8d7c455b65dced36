"""Building the known site of the permit tests: geometry in local metres, EPSG:5899."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
import rasterio
from psycopg.types.json import Jsonb
from rasterio.transform import from_origin

E0, N0 = 550_800.0, 1_776_400.0
PARCEL_UID = "20242-20245-14-125"


def rect(x0: float, y0: float, x1: float, y1: float) -> str:
    """A rectangle in local metres as EPSG:5899 WKT."""
    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return "POLYGON((" + ",".join(f"{E0 + x} {N0 + y}" for x, y in pts) + "))"


def line(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"LINESTRING({E0 + x0} {N0 + y0},{E0 + x1} {N0 + y1})"


def footprint(x0: float, y0: float, x1: float, y1: float) -> dict:
    """A GeoJSON polygon in EPSG:5899 from local metres."""
    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return {"type": "Polygon", "coordinates": [[[E0 + x, N0 + y] for x, y in pts]]}


def to_4326(wkt: str, multi: bool = True) -> str:
    g = "ST_Transform(ST_GeomFromText(%s, 5899), 4326)"
    return f"ST_Multi({g})" if multi else g


def copy_rules(src: str, dst: str) -> None:
    """The migration's seeded rules, copied from the (never truncated) test database."""
    with psycopg.connect(src) as s, psycopg.connect(dst) as d:
        rows = s.execute("SELECT rule_id, version, params, source, note, valid_from, enabled "
                         "FROM permit_rules").fetchall()
        assert rows, "migration 0003 seeds the permit rules"
        for r in rows:
            d.execute("INSERT INTO permit_rules (rule_id, version, params, source, note, "
                      "valid_from, enabled) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                      (r[0], r[1], Jsonb(r[2]), *r[3:]))


def write_elevation(path: Path) -> None:
    data = np.full((60, 40), 3.0, dtype="float32")  # x -10..30, y -20..40
    data[35:40, 10:20] = 1.8  # rows from the top (y 40): rows 35..39 are y 5..0
    with rasterio.open(path, "w", driver="GTiff", width=40, height=60, count=1,
                       dtype="float32", crs="EPSG:5899", nodata=-9999.0,
                       transform=from_origin(E0 - 10, N0 + 40, 1.0, 1.0)) as dst:
        dst.write(data, 1)
