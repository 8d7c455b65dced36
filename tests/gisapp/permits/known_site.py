"""Building the known site of the permit tests: geometry in local metres, EPSG:5899."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
import rasterio
from psycopg.types.json import Jsonb
from rasterio.transform import from_origin

from layers.city import CITY
from tests.world import FROM_METRIC

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
    g = FROM_METRIC
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
                       dtype="float32", crs=CITY.metric_crs, nodata=-9999.0,
                       transform=from_origin(E0 - 10, N0 + 40, 1.0, 1.0)) as dst:
        dst.write(data, 1)


def point(x: float, y: float) -> str:
    return f"POINT({E0 + x} {N0 + y})"


def add_services(conn) -> None:
    """Manholes, lights, Wi-Fi, a second pipe and land uses around the known parcel.

    - manhole M1 at (5, 25): 5 m north of the parcel; manhole M2 at (30, 10): 20 m east;
      inlet I1 at (5, 21) is closer but is not a manhole;
    - light L1 working 100 W at (15, 10): 5 m; L2 out of service at (-3, 10): 3 m;
    - Wi-Fi W1 online, range 10 m, at the parcel's corner (0, 0): a quarter disc,
      π·10²/4 = 78.54 m² (39.27 %); W2 offline with range 50 m at (5, 10) counts for nothing;
    - pipe P2 (400 mm, 1 m corridor) at x = 9.5: corridor x 8.5..10 in the parcel, 30 m².
    """
    g = FROM_METRIC
    for nid, kind, x, y in (("M1", "manhole", 5, 25), ("M2", "manhole", 30, 10),
                            ("I1", "inlet", 5, 21)):
        conn.execute("INSERT INTO drainage_nodes (node_id, kind, geom) VALUES (%s, %s, "
                     + g + ")", (nid, kind, point(x, y)))
    for lid, status, x, y in (("L1", "working", 15, 10), ("L2", "out_of_service", -3, 10)):
        conn.execute("INSERT INTO street_lights (light_id, status, wattage, geom) VALUES "
                     "(%s, %s, 100, " + g + ")", (lid, status, point(x, y)))
    for ap, status, rng, x, y in (("W1", "online", 10, 0, 0), ("W2", "offline", 50, 5, 10)):
        conn.execute("INSERT INTO wifi_aps (ap_id, status, range_m, geom) VALUES "
                     "(%s, %s, %s, " + g + ")", (ap, status, rng, point(x, y)))
    conn.execute("INSERT INTO drainage_pipes (pipe_id, from_node, to_node, diameter_mm, geom) "
                 "VALUES ('P2', 'M1', 'M2', 400, " + g + ")", (line(9.5, -5, 9.5, 30),))
    conn.execute("INSERT INTO parcel_land_uses (parcel_uid, land_use, area) VALUES "
                 "(%s, 'ODT', 150), (%s, 'CLN', 50)", (PARCEL_UID, PARCEL_UID))


def write_flood_depth(path: Path) -> None:
    """Flood depth on the elevation raster's grid: 0.4 m over flood zone F1 (x 5..15, y 10..30)."""
    data = np.zeros((60, 40), dtype="float32")  # x -10..30, y -20..40
    data[10:30, 15:25] = 0.4  # rows 10..29 are y 30..10, columns 15..24 are x 5..15
    with rasterio.open(path, "w", driver="GTiff", width=40, height=60, count=1,
                       dtype="float32", crs=CITY.metric_crs, nodata=-9999.0,
                       transform=from_origin(E0 - 10, N0 + 40, 1.0, 1.0)) as dst:
        dst.write(data, 1)
