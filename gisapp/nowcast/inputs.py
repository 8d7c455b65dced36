"""The now-cast's live inputs at a moment: rain at each gauge and the pumps' states.

Rain: the sum of a gauge's readings in the hour up to `at` (mm in that hour, i.e. mm/h) and
in the hour before it (for the trend). A gauge with no reading in the last hour is silent
and not used. Pumps: the newest `running` reading of each pump station in the
PUMP_STATE_MAX_AGE before `at` (none: unknown, counted as running) and how much its wet
well rose in the RISE_WINDOW before `at`. A stopped pump closes its outlet when its well
rises (a failing pump) or reports no level; a stopped pump with a steady well is idle.
The thing kinds, their layers and datastreams come from layers/sensors.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from layers import get_layer
from layers.city import CITY
from layers.sensors import THING_KINDS

RAIN = THING_KINDS["rain_gauge"]
PUMP = THING_KINDS["pump_station"]
RAIN_STREAM = RAIN.datastream("rainfall").id
PUMP_STREAM = PUMP.datastream("running").id
LEVEL_STREAM = PUMP.datastream("wet_well_level").id
PUMP_STATE_MAX_AGE = timedelta(hours=1)
# A stopped pump whose wet well rises faster than this is failing, not idle (the figures of
# the seeded `pump_stopped_rising` alert rule): only then is its outlet counted as closed.
RISE_WINDOW = timedelta(minutes=30)
RISE_ABOVE_M = 0.2


@dataclass(frozen=True)
class Gauge:
    """A rain gauge's rain in the last hour and the hour before, at its place (metres)."""

    code: str
    name: str
    x: float
    y: float
    last_hour_mm: float
    hour_before_mm: float
    readings: int


@dataclass(frozen=True)
class PumpState:
    """A pump station's newest running/stopped reading (None: no reading in the last hour)
    and its wet well's rise over RISE_WINDOW (None: no level readings)."""

    node_id: str
    running: bool | None
    reported_at: datetime | None
    level_rise_m: float | None

    @property
    def outlet_closed(self) -> bool:
        """Stopped while its well rises (or with no level reported): nothing leaves it."""
        return self.running is False and (self.level_rise_m is None
                                          or self.level_rise_m > RISE_ABOVE_M)


def gauge_rain(conn: psycopg.Connection, at: datetime) -> list[Gauge]:
    """Every rain gauge with its rain in (at-1h, at] and (at-2h, at-1h]."""
    layer = get_layer(RAIN.layer)
    query = sql.SQL("""
        SELECT t.code, t.name,
               ST_X(ST_Transform(g.geom, %(srid)s)), ST_Y(ST_Transform(g.geom, %(srid)s)),
               coalesce(sum(o.result) FILTER (WHERE o.phenomenon_time > %(at)s - interval '1 hour'), 0),
               coalesce(sum(o.result) FILTER (WHERE o.phenomenon_time <= %(at)s - interval '1 hour'), 0),
               count(o.result) FILTER (WHERE o.phenomenon_time > %(at)s - interval '1 hour')
        FROM things t
        JOIN datastreams d ON d.thing_id = t.id AND d.kind = %(stream)s
        JOIN {table} g ON g.{key} = t.feature_key
        LEFT JOIN sensor_observations o ON o.datastream_id = d.id
             AND o.phenomenon_time > %(at)s - interval '2 hours' AND o.phenomenon_time <= %(at)s
        WHERE t.kind = %(kind)s AND t.layer = %(layer)s
        GROUP BY t.code, t.name, g.geom
        ORDER BY t.code""").format(table=sql.Identifier(layer.table),
                                   key=sql.Identifier(layer.key[0]))
    rows = conn.execute(query, {"srid": CITY.metric_srid, "at": at, "stream": RAIN_STREAM,
                                "kind": RAIN.id, "layer": layer.id}).fetchall()
    return [Gauge(r[0], r[1], float(r[2]), float(r[3]), round(float(r[4]), 2),
                  round(float(r[5]), 2), int(r[6])) for r in rows]


def pump_states(conn: psycopg.Connection, at: datetime) -> dict[str, PumpState]:
    """Each pump station's newest running reading before `at`, by its node id."""
    rows = conn.execute("""
        SELECT t.feature_key, o.result, o.phenomenon_time, now_level.result - then_level.result
        FROM things t
        JOIN datastreams d ON d.thing_id = t.id AND d.kind = %(stream)s
        LEFT JOIN datastreams l ON l.thing_id = t.id AND l.kind = %(level)s
        LEFT JOIN LATERAL (
            SELECT result, phenomenon_time FROM sensor_observations
            WHERE datastream_id = d.id AND phenomenon_time <= %(at)s
              AND phenomenon_time > %(since)s
            ORDER BY phenomenon_time DESC LIMIT 1) o ON TRUE
        LEFT JOIN LATERAL (
            SELECT result FROM sensor_observations
            WHERE datastream_id = l.id AND phenomenon_time <= %(at)s
              AND phenomenon_time > %(at)s - %(window)s
            ORDER BY phenomenon_time DESC LIMIT 1) now_level ON TRUE
        LEFT JOIN LATERAL (
            SELECT result FROM sensor_observations
            WHERE datastream_id = l.id AND phenomenon_time <= %(at)s - %(window)s
              AND phenomenon_time > %(at)s - 2 * %(window)s
            ORDER BY phenomenon_time DESC LIMIT 1) then_level ON TRUE
        WHERE t.kind = %(kind)s AND t.layer = %(layer)s
        ORDER BY t.feature_key""",
        {"stream": PUMP_STREAM, "level": LEVEL_STREAM, "at": at,
         "since": at - PUMP_STATE_MAX_AGE, "window": RISE_WINDOW, "kind": PUMP.id,
         "layer": PUMP.layer}).fetchall()
    return {r[0]: PumpState(r[0], None if r[1] is None else r[1] >= 0.5, r[2],
                            None if r[3] is None else round(float(r[3]), 2)) for r in rows}
