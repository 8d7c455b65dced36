"""The one write path for sensor observations: the SensorThings API and MQTT ingestion use it.

Contract of `write_observations(conn, rows, policy) -> WriteCounts`:
- `rows` are ObservationRow values: datastream id, phenomenon time (timezone-aware), result
  (a number for OM_Measurement, a bool (or 0/1) for OM_TruthObservation, a string for
  OM_CategoryObservation), optional result time, parameters (a JSON object) and feature of
  interest id.
- Each row is checked first; a row is refused, with its index in `rows` and a reason, and
  the others written, when its datastream does not exist, its time has no timezone, is older
  than `policy.retention` or later than now + `policy.max_future`, or its result does not
  fit the datastream's observation type or plausible range (datastreams.valid_min/max).
- Accepted rows go in ONE statement: INSERT … SELECT FROM unnest(arrays) ON CONFLICT
  (datastream_id, phenomenon_time) DO NOTHING. A reading already stored (a device's retry, a
  broker's redelivery, the same reading twice in a batch) is counted in `duplicates` and
  changes nothing: the first write wins. PostgreSQL routes late and out-of-order readings to
  their week's partition.
- The same statement adds the newly inserted rows (never the duplicates) to the hourly and
  daily aggregates (count, sum, min, max; days in Asia/Ho_Chi_Minh) and moves each
  datastream's latest value forward. Aggregates are added to, not recomputed, so concurrent
  writers never lose each other's rows; upserts go in key order so they cannot deadlock.
- The caller owns the transaction: nothing is visible until it commits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

import psycopg
from psycopg.types.json import Jsonb

from layers.sensors import CATEGORY, MEASUREMENT, TRUTH

DAY_TIMEZONE = "Asia/Ho_Chi_Minh"  # daily aggregates are the city's calendar days


@dataclass(frozen=True)
class ObservationRow:
    """One reading of one datastream."""

    datastream_id: int
    phenomenon_time: datetime
    result: Any
    result_time: datetime | None = None
    parameters: dict | None = None
    feature_of_interest_id: int | None = None


@dataclass(frozen=True)
class WritePolicy:
    """Which phenomenon times are accepted: not older than `retention`, not beyond the future
    margin (device clocks run a little ahead)."""

    retention: timedelta = timedelta(days=400)
    max_future: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Refusal:
    """A row that was not written: its index in the batch and why."""

    index: int
    reason: str


@dataclass(frozen=True)
class WriteCounts:
    """What a batch did: rows inserted, rows already stored, rows refused."""

    inserted: int
    duplicates: int
    refused: tuple[Refusal, ...] = field(default=())


@dataclass(frozen=True)
class _Stream:
    observation_type: str
    valid_min: float | None
    valid_max: float | None
    feature_of_interest_id: int | None  # the thing's feature: a reading's default


# The arrays go in binary (%b): psycopg writes a timestamptz as text in ~4 µs, in binary in
# ~0.3 µs, and a batch holds thousands.
WRITE = """
WITH ins AS (
  INSERT INTO sensor_observations (datastream_id, phenomenon_time, result, result_json,
                                   result_time, parameters, feature_of_interest_id)
  SELECT * FROM unnest(%(ds)b::bigint[], %(pt)b::timestamptz[], %(res)b::float8[],
                       %(rj)b::jsonb[], %(rt)b::timestamptz[], %(par)b::jsonb[],
                       %(foi)b::bigint[])
  ON CONFLICT (datastream_id, phenomenon_time) DO NOTHING
  RETURNING datastream_id, phenomenon_time, result, result_json
), hourly AS (
  INSERT INTO sensor_hourly AS a (datastream_id, bucket, count, sum, min, max,
                                  first_time, last_time)
  SELECT datastream_id, date_trunc('hour', phenomenon_time, 'UTC'), count(*), sum(result),
         min(result), max(result), min(phenomenon_time), max(phenomenon_time)
  FROM ins GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (datastream_id, bucket) DO UPDATE SET
    count = a.count + excluded.count,
    sum = CASE WHEN a.sum IS NULL THEN excluded.sum WHEN excluded.sum IS NULL THEN a.sum
               ELSE a.sum + excluded.sum END,
    min = least(a.min, excluded.min), max = greatest(a.max, excluded.max),
    first_time = least(a.first_time, excluded.first_time),
    last_time = greatest(a.last_time, excluded.last_time)
), daily AS (
  INSERT INTO sensor_daily AS a (datastream_id, bucket, count, sum, min, max,
                                 first_time, last_time)
  SELECT datastream_id, date_trunc('day', phenomenon_time, %(day_tz)s), count(*), sum(result),
         min(result), max(result), min(phenomenon_time), max(phenomenon_time)
  FROM ins GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (datastream_id, bucket) DO UPDATE SET
    count = a.count + excluded.count,
    sum = CASE WHEN a.sum IS NULL THEN excluded.sum WHEN excluded.sum IS NULL THEN a.sum
               ELSE a.sum + excluded.sum END,
    min = least(a.min, excluded.min), max = greatest(a.max, excluded.max),
    first_time = least(a.first_time, excluded.first_time),
    last_time = greatest(a.last_time, excluded.last_time)
), latest AS (
  INSERT INTO datastream_latest AS l (datastream_id, phenomenon_time, result, result_json,
                                      first_time)
  SELECT DISTINCT ON (datastream_id) datastream_id, phenomenon_time, result, result_json,
         min(phenomenon_time) OVER (PARTITION BY datastream_id)
  FROM ins ORDER BY datastream_id, phenomenon_time DESC
  ON CONFLICT (datastream_id) DO UPDATE SET
    phenomenon_time = greatest(l.phenomenon_time, excluded.phenomenon_time),
    result = CASE WHEN excluded.phenomenon_time > l.phenomenon_time THEN excluded.result
                  ELSE l.result END,
    result_json = CASE WHEN excluded.phenomenon_time > l.phenomenon_time
                       THEN excluded.result_json ELSE l.result_json END,
    first_time = least(l.first_time, excluded.first_time)
)
SELECT count(*) FROM ins
"""


def write_observations(conn: psycopg.Connection, rows: Sequence[ObservationRow],
                       policy: WritePolicy = WritePolicy(),
                       now: datetime | None = None) -> WriteCounts:
    """Check and write a batch of readings idempotently; see the module docstring."""
    now = now or datetime.now(timezone.utc)
    streams = _streams(conn, {r.datastream_id for r in rows})
    refused: list[Refusal] = []
    columns: dict[str, list] = {k: [] for k in ("ds", "pt", "res", "rj", "rt", "par", "foi")}
    for index, row in enumerate(rows):
        try:
            value, value_json = _checked(row, streams.get(row.datastream_id), policy, now)
        except ValueError as exc:
            refused.append(Refusal(index, str(exc)))
            continue
        columns["ds"].append(row.datastream_id)
        columns["pt"].append(row.phenomenon_time)
        columns["res"].append(value)
        columns["rj"].append(None if value_json is None else Jsonb(value_json))
        columns["rt"].append(row.result_time)
        columns["par"].append(None if row.parameters is None else Jsonb(row.parameters))
        columns["foi"].append(row.feature_of_interest_id
                              or streams[row.datastream_id].feature_of_interest_id)
    accepted = len(columns["ds"])
    if not accepted:
        return WriteCounts(0, 0, tuple(refused))
    inserted = conn.execute(WRITE, {**columns, "day_tz": DAY_TIMEZONE}).fetchone()[0]
    return WriteCounts(inserted, accepted - inserted, tuple(refused))


def _streams(conn: psycopg.Connection, ids: Iterable[int]) -> dict[int, _Stream]:
    wanted = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    if not wanted:
        return {}
    return {r[0]: _Stream(*r[1:]) for r in conn.execute(
        "SELECT d.id, d.observation_type, d.valid_min, d.valid_max, f.id FROM datastreams d"
        " JOIN things t ON t.id = d.thing_id LEFT JOIN features_of_interest f"
        " ON (f.layer, f.feature_key) = (t.layer, t.feature_key) WHERE d.id = ANY(%s)",
        (wanted,))}


def _checked(row: ObservationRow, stream: _Stream | None, policy: WritePolicy,
             now: datetime) -> tuple[float | None, Any]:
    """(numeric result, JSON result) for a row, or ValueError saying why it is refused."""
    if stream is None:
        raise ValueError(f"datastream {row.datastream_id} does not exist")
    when = row.phenomenon_time
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValueError("phenomenonTime must be a date-time with a timezone")
    if when < now - policy.retention:
        raise ValueError(f"phenomenonTime {when.isoformat()} is older than the retention of "
                         f"{policy.retention.days} days")
    if when > now + policy.max_future:
        raise ValueError(f"phenomenonTime {when.isoformat()} is more than "
                         f"{int(policy.max_future.total_seconds() // 60)} minutes in the future")
    if row.result_time is not None and row.result_time.tzinfo is None:
        raise ValueError("resultTime must be a date-time with a timezone")
    if row.parameters is not None and not isinstance(row.parameters, dict):
        raise ValueError("parameters must be a JSON object")
    return _result(row.result, stream)


def _result(result: Any, stream: _Stream) -> tuple[float | None, Any]:
    if stream.observation_type == TRUTH:
        if isinstance(result, bool):
            return (1.0 if result else 0.0), None
        if isinstance(result, (int, float)) and result in (0, 1):
            return float(result), None
        raise ValueError(f"result {result!r} must be true or false for a truth observation")
    if stream.observation_type == CATEGORY:
        if isinstance(result, str) and result:
            return None, result
        raise ValueError(f"result {result!r} must be a category name (a string)")
    if stream.observation_type != MEASUREMENT:
        raise ValueError(f"datastream has an unknown observation type {stream.observation_type}")
    if isinstance(result, bool) or not isinstance(result, (int, float)) \
            or not math.isfinite(result):
        raise ValueError(f"result {result!r} must be a finite number for a measurement")
    low, high = stream.valid_min, stream.valid_max
    if (low is not None and result < low) or (high is not None and result > high):
        raise ValueError(f"result {result} is outside the plausible range {low} to {high}")
    return float(result), None
