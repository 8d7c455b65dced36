"""The now-cast's known site and storms: two wards with a gauge, a street and a pump each.

Local metres from (E0, N0) in EPSG:5899. Ward W1 (x 0..400) is where it rains; ward D1
(x 1000..1400) stays dry. Each ward has one line of drainage nodes along its street at
y = 200: manholes at x 50 and 150, a pump station at 250, an outfall at 350 (D1's shifted by
1000), pipes 600 mm at 4 per mille to the pump, 800 mm from the pump to the outfall.
Parcel W1-W1-1-1 sits over a 0.6 m dip of the elevation raster inside high flood zone FZ-W.

Scenarios, each in its own stretch of time (SCENARIOS gives the moment of each):
- dry: both gauges report 0 mm;
- storm: 80 mm in each of the last two hours at W1's gauge, 0 at D1's; W1's pump stopped
  while its wet well rose 0.6 m;
- moderate: 20 mm/h at W1, pumps running; moderate_stopped: the same rain, W1's pump stopped
  and its well rising; moderate_idle: the same rain, W1's pump stopped with a steady well;
- falling: 40 mm in the last hour at W1 after 80 mm in the hour before, pumps running.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import psycopg
import rasterio
from rasterio.transform import from_origin

from layers.city import CITY
from store.layer_changes import publish_layer_change
from store.observations import ObservationRow as Row, write_observations
from store.sensor_things import register_things
from tests.world import FROM_METRIC

E0, N0 = 550_000.0, 1_775_000.0
NOW = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
SCENARIOS = {"dry": NOW - timedelta(hours=36), "storm": NOW - timedelta(hours=30),
             "moderate": NOW - timedelta(hours=24),
             "moderate_stopped": NOW - timedelta(hours=18),
             "moderate_idle": NOW - timedelta(hours=12), "falling": NOW - timedelta(hours=6)}
# (last hour, hour before) mm at W1's gauge; D1's gauge always reports 0; W1's pump state
RAIN = {"dry": (0.0, 0.0, "running"), "storm": (80.0, 80.0, "failing"),
        "moderate": (20.0, 20.0, "running"), "moderate_stopped": (20.0, 20.0, "failing"),
        "moderate_idle": (20.0, 20.0, "idle"), "falling": (40.0, 80.0, "running")}
WARDS = {"W1": ("Phường Ướt", 0.0), "D1": ("Phường Khô", 1000.0)}


def rect(x0: float, y0: float, x1: float, y1: float) -> str:
    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return "POLYGON((" + ",".join(f"{E0 + x} {N0 + y}" for x, y in pts) + "))"


def point(x: float, y: float) -> str:
    return f"POINT({E0 + x} {N0 + y})"


def line(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"LINESTRING({E0 + x0} {N0 + y0},{E0 + x1} {N0 + y1})"


def write_elevation(path: Path) -> None:
    """5 m ground over x -100..1500, y 0..400 in 5 m pixels, with a 0.6 m dip under parcel
    W1-W1-1-1 (x 35..65, y 215..245): the ring 25 m around its centre stays on 5 m."""
    data = np.full((80, 320), 5.0, dtype="float32")  # rows from y 400 down, 5 m each
    data[31:37, 27:33] = 4.4  # rows y 245..215, columns x 35..65
    with rasterio.open(path, "w", driver="GTiff", width=320, height=80, count=1,
                       dtype="float32", crs=CITY.metric_crs, nodata=-9999.0,
                       transform=from_origin(E0 - 100, N0 + 400, 5.0, 5.0)) as dst:
        dst.write(data, 1)


def build_site(url: str, tif: Path) -> None:
    """The two wards, their networks, streets, parcels, gauges, flood zone and raster."""
    g = FROM_METRIC
    with psycopg.connect(url) as c:
        for code, (name, dx) in WARDS.items():
            c.execute("INSERT INTO wards (code, name, geom) VALUES (%s, %s, ST_Multi(" + g
                      + "))", (code, name, rect(dx, 0, dx + 400, 400)))
            nodes = [(f"HG-{code}-1", "manhole", 50), (f"HG-{code}-2", "manhole", 150),
                     (f"TB-{code}", "pump_station", 250), (f"CX-{code}", "outfall", 350)]
            for node_id, kind, x in nodes:
                c.execute("INSERT INTO drainage_nodes (node_id, kind, ground_level, geom) "
                          "VALUES (%s, %s, 5.0, " + g + ")", (node_id, kind, point(dx + x, 200)))
            for k, (diameter, up, down) in enumerate(((600, 3.8, 3.4), (600, 3.4, 3.0),
                                                      (800, 3.0, 2.6))):
                a, b = nodes[k], nodes[k + 1]
                c.execute("INSERT INTO drainage_pipes (pipe_id, from_node, to_node, "
                          "diameter_mm, material, invert_up, invert_down, geom) VALUES "
                          "(%s, %s, %s, %s, 'concrete', %s, %s, " + g + ")",
                          (f"C-{code}-{k + 1}", a[0], b[0], diameter, up, down,
                           line(dx + a[2], 200, dx + b[2], 200)))
            c.execute("INSERT INTO roads (road_id, name, road_class, geom) VALUES "
                      "(%s, %s, 'secondary', ST_Multi(" + g + "))",
                      (f"R-{code}", f"Đường {name}", line(dx, 200, dx + 400, 200)))
            c.execute("INSERT INTO rain_gauges (gauge_id, name, ward_code, geom) VALUES "
                      "(%s, %s, %s, " + g + ")",
                      (f"DM-{code}", f"Trạm đo mưa {name}", code, point(dx + 200, 300)))
            for no, x in ((1, 40), (2, 240)):
                c.execute("INSERT INTO parcels (ward_code, former_ward_code, sheet_no, "
                          "parcel_no, land_use, street, geom) VALUES (%s, %s, 1, %s, 'ODT', "
                          "%s, ST_Multi(" + g + "))",
                          (code, code, no, f"Đường {name}", rect(dx + x, 215, dx + x + 20, 245)))
        c.execute("INSERT INTO flood_zones (zone_id, risk, typical_depth_m, geom) VALUES "
                  "('FZ-W', 'high', 0.5, ST_Multi(" + g + "))", (rect(20, 205, 80, 260),))
        c.execute("INSERT INTO rasters (name, path, crs, width, height, nodata, unit) "
                  "VALUES ('elevation', %s, %s, 320, 80, -9999, 'm')",
                  (str(tif), CITY.metric_crs))
        register_things(c)
        for layer in ("wards", "drainage_nodes", "drainage_pipes", "roads", "parcels",
                      "flood_zones"):
            publish_layer_change(c, layer, None, None)
        write_observations(c, storm_rows(c))


def storm_rows(c: psycopg.Connection) -> list[Row]:
    """The readings of every scenario (see the module docstring)."""
    streams = dict(c.execute("SELECT code, id FROM datastreams").fetchall())
    rows = []
    for name, at in SCENARIOS.items():
        last, before, pump = RAIN[name]
        for k in range(24):  # 5-minute readings, the newest at `at`
            when = at - timedelta(minutes=5 * k)
            rows.append(Row(streams["rain_gauge/DM-W1/rainfall"], when,
                            (last if k < 12 else before) / 12))
            rows.append(Row(streams["rain_gauge/DM-D1/rainfall"], when, 0.0))
        for code in WARDS:
            state = pump if code == "W1" else "running"
            rows.append(Row(streams[f"pump_station/TB-{code}/running"],
                            at - timedelta(minutes=3), state == "running"))
            rise = 0.6 if state == "failing" else 0.0
            for minutes, level in ((40, 1.0), (2, 1.0 + rise)):
                rows.append(Row(streams[f"pump_station/TB-{code}/wet_well_level"],
                                at - timedelta(minutes=minutes), level))
    return rows
