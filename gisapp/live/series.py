"""A datastream's readings between two times, at a resolution chosen by the span.

Raw readings while the span holds at most MAX_POINTS of them at the datastream's nominal
interval, else hourly buckets (`sensor_hourly`) while at most MAX_POINTS hours, else daily
(`sensor_daily`): a 24-hour chart of a pump is its 1,440 minute readings, a 30-day chart 720
hourly points, a year 365 daily ones. A bucket's value is the mean of its readings (for a
truth series the share of the time it was true), or their sum for a series that
`accumulates` (rain in mm per bucket), with its min and max.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from gisapp.errors import NotFound
from layers.sensors import THING_KINDS, TRUTH

MAX_POINTS = 1500
RAW = sql.SQL("""
SELECT phenomenon_time, result, result, result FROM sensor_observations
WHERE datastream_id = %(id)s AND phenomenon_time >= %(start)s AND phenomenon_time < %(end)s
ORDER BY phenomenon_time""")
BUCKETS = sql.SQL("""
SELECT bucket, CASE WHEN %(accumulates)s THEN sum ELSE sum / nullif(count, 0) END, min, max
FROM {table}
WHERE datastream_id = %(id)s AND bucket > %(start)s - %(width)s AND bucket < %(end)s
ORDER BY bucket""")
TABLES = {"hour": ("sensor_hourly", timedelta(hours=1)), "day": ("sensor_daily", timedelta(days=1))}
STREAM = """
SELECT d.id, d.kind, d.name, d.unit->>'symbol', d.observation_type, d.interval_s,
       t.id, t.kind, t.name, t.layer, t.feature_key
FROM datastreams d JOIN things t ON t.id = d.thing_id WHERE d.id = %s"""


@dataclass(frozen=True)
class Datastream:
    """What a chart says about its series: names, unit, the thing it belongs to."""

    id: int
    kind: str
    name: str
    unit: str | None
    truth: bool
    interval_s: int
    accumulates: bool
    label: dict[str, str]
    thing: dict


@dataclass(frozen=True)
class Series:
    datastream: Datastream
    resolution: str  # raw, hour or day
    points: list[tuple[datetime, float | None, float | None, float | None]]


def get_datastream(conn: psycopg.Connection, datastream_id: int) -> Datastream:
    row = conn.execute(STREAM, (datastream_id,)).fetchone()
    if row is None:
        raise NotFound(f"no datastream {datastream_id}")
    ds_id, kind, name, unit, obs_type, interval, t_id, t_kind, t_name, layer, key = row
    declared = THING_KINDS[t_kind].datastream(kind) if t_kind in THING_KINDS else None
    label = dict(declared.observed_property.name) if declared else {"vi": name, "en": name}
    return Datastream(ds_id, kind, name, unit, obs_type == TRUTH, interval,
                      bool(declared and declared.accumulates), label,
                      {"id": t_id, "kind": t_kind, "name": t_name, "layer": layer,
                       "feature_key": key})


def choose_resolution(start: datetime, end: datetime, interval_s: int) -> str:
    """raw, hour or day: the finest with at most MAX_POINTS points over the span."""
    span = (end - start).total_seconds()
    if span / max(interval_s, 1) <= MAX_POINTS:
        return "raw"
    return "hour" if span / 3600 <= MAX_POINTS else "day"


def read_series(conn: psycopg.Connection, datastream_id: int, start: datetime,
                end: datetime) -> Series:
    """The datastream's points in [start, end), at the resolution the span calls for."""
    stream = get_datastream(conn, datastream_id)
    resolution = choose_resolution(start, end, stream.interval_s)
    params = {"id": datastream_id, "start": start, "end": end,
              "accumulates": stream.accumulates}
    if resolution == "raw":
        query = RAW
    else:
        table, width = TABLES[resolution]
        query = BUCKETS.format(table=sql.Identifier(table))
        params["width"] = width  # a bucket is stamped by its start: take the one `start` is in
    points = conn.execute(query, params).fetchall()
    return Series(stream, resolution, points)
