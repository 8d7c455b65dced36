"""The state of every monitored thing at a time: its readings, its live class, where it is.

One statement reads every datastream's reading as of the time asked: now from
`datastream_latest` (kept by the write path), a past time (replay) from the newest raw
observation at or before it, looked for only in the STALE_AFTER_HOURS before it so that
partition pruning keeps it to one or two weekly partitions. A gauge's rain of the last
hour is summed from its raw readings in that hour (12 rows at 5 minutes), which is exact for
any `at`, where hourly aggregates would round the window to whole hours.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gisapp.alerts.rules import rules_in_force
from layers.live_symbols import (LAKE_NEAR_WARNING_M, NO_DATA, PUMP_HIGH_LEVEL_M, RAIN_BOUNDS_MM,
                                 RAIN_WINDOW_MINUTES, STALE_AFTER_HOURS)
from layers.sensors import THING_KINDS, TRUTH

LATEST_NOW = sql.SQL("""
  SELECT l.result, l.phenomenon_time FROM datastream_latest l
  WHERE l.datastream_id = d.id AND l.phenomenon_time > %(since)s""")
LATEST_AT = sql.SQL("""
  SELECT o.result, o.phenomenon_time FROM sensor_observations o
  WHERE o.datastream_id = d.id AND o.phenomenon_time <= %(at)s AND o.phenomenon_time > %(since)s
  ORDER BY o.phenomenon_time DESC LIMIT 1""")
STATE = sql.SQL("""
SELECT t.id, t.kind, t.layer, t.feature_key, t.name, t.properties,
       ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,
       jsonb_object_agg(d.kind, jsonb_build_object(
           'datastream', d.id, 'value', v.result, 'time', v.phenomenon_time,
           'window_sum', w.total)) AS readings
FROM things t
JOIN datastreams d ON d.thing_id = t.id
LEFT JOIN LATERAL (
  SELECT ST_PointOnSurface(loc.geom) AS geom FROM thing_locations tl
  JOIN locations loc ON loc.id = tl.location_id WHERE tl.thing_id = t.id
  ORDER BY loc.id LIMIT 1) p ON true
LEFT JOIN LATERAL ({latest}) v ON true
LEFT JOIN LATERAL (
  SELECT sum(o.result) AS total FROM sensor_observations o
  WHERE d.kind = ANY(%(window_kinds)s) AND o.datastream_id = d.id
    AND o.phenomenon_time > %(window_from)s AND o.phenomenon_time <= %(at)s) w ON true
GROUP BY t.id, p.geom
ORDER BY t.kind, t.id
""")


@dataclass(frozen=True)
class ThingState:
    """A monitored thing's place, live class and readings ({datastream kind: reading})."""

    id: int
    kind: str
    layer: str | None
    feature_key: str | None
    name: str
    lon: float | None
    lat: float | None
    symbol: str
    readings: dict[str, dict]
    rain_last_hour_mm: float | None = None
    warning_level_m: float | None = None


def _value(readings: dict, kind: str) -> float | None:
    return (readings.get(kind) or {}).get("value")


def _gauge_class(readings: dict) -> tuple[str, float | None]:
    rain = readings.get("rainfall") or {}
    if rain.get("value") is None:
        return NO_DATA, None
    total = rain.get("window_sum") or 0.0
    for name, bound in RAIN_BOUNDS_MM:
        if total < bound:
            return name, total
    return "very_heavy", total


def _pump_class(readings: dict) -> str:
    running, level = _value(readings, "running"), _value(readings, "wet_well_level")
    if running is None:
        return NO_DATA
    if running:
        return "running"
    return "stopped_high" if level is not None and level >= PUMP_HIGH_LEVEL_M else "stopped"


def _lake_class(readings: dict, warning: float | None) -> str:
    level = _value(readings, "water_level")
    if level is None:
        return NO_DATA
    if warning is not None and level >= warning:
        return "above_warning"
    if warning is not None and level >= warning - LAKE_NEAR_WARNING_M:
        return "near_warning"
    return "normal"


def _cabinet_class(readings: dict) -> str:
    on, fault = _value(readings, "lights_on"), _value(readings, "fault")
    if on is None and fault is None:
        return NO_DATA
    if fault:
        return "fault"
    return "on" if on else "off"


def lake_warning_levels(conn: psycopg.Connection) -> dict[str, float]:
    """The default warning level (m) of each thing kind from its `latest_above` rule in force."""
    return {r.thing_kind: float(r.params["above"]) for r in rules_in_force(conn)
            if r.kind == "latest_above"}


def things_state(conn: psycopg.Connection, at: datetime, replay: bool) -> list[ThingState]:
    """Every monitored thing's state at `at`: from the latest values (replay False, `at` is
    now) or from the raw observations up to `at` (replay True)."""
    warnings = lake_warning_levels(conn)
    window_kinds = [ds.id for kind in THING_KINDS.values() for ds in kind.datastreams
                    if ds.accumulates]
    params = {"at": at, "since": at - timedelta(hours=STALE_AFTER_HOURS),
              "window_from": at - timedelta(minutes=RAIN_WINDOW_MINUTES),
              "window_kinds": window_kinds}
    query = STATE.format(latest=LATEST_AT if replay else LATEST_NOW)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
    return [_state(row, warnings) for row in rows]


CLASSIFY = {
    "rain_gauge": lambda readings, warning: _gauge_class(readings)[0],
    "pump_station": lambda readings, warning: _pump_class(readings),
    "lake": _lake_class,
    "lighting_cabinet": lambda readings, warning: _cabinet_class(readings),
}


def _state(row: dict, warnings: dict[str, float]) -> ThingState:
    kind, raw = row["kind"], row["readings"]
    own = row["properties"].get("warning_level_m")
    warning = (float(own) if own is not None else warnings.get(kind)) if kind == "lake" else None
    symbol = CLASSIFY[kind](raw, warning) if kind in CLASSIFY else NO_DATA
    rain = _gauge_class(raw)[1] if kind == "rain_gauge" else None
    readings = {name: {"datastream": r["datastream"], "value": _typed(kind, name, r["value"]),
                       "time": r["time"] and datetime.fromisoformat(r["time"])}
                for name, r in raw.items()}
    return ThingState(row["id"], kind, row["layer"], row["feature_key"], row["name"],
                      row["lon"], row["lat"], symbol, readings, rain, warning)


def _typed(thing_kind: str, datastream_kind: str, value: float | None):
    """Truth readings as true/false (stored as 1.0/0.0), numbers as they are."""
    if value is None or thing_kind not in THING_KINDS:
        return value
    declared = THING_KINDS[thing_kind].datastream(datastream_kind)
    return value >= 0.5 if declared.observation_type == TRUTH else value
