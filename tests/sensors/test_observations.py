"""The one write path: idempotent, late and out-of-order readings, refusals, aggregates."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg import sql

from store.observations import ObservationRow as Row, WritePolicy, write_observations

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _write(url: str, rows: list[Row], **kwargs):
    with psycopg.connect(url) as conn:
        return write_observations(conn, rows, **kwargs)


def _stored(url: str, datastream: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT phenomenon_time, result FROM sensor_observations"
                            " WHERE datastream_id = %s ORDER BY 1", (datastream,)).fetchall()


def test_a_batch_is_written_and_counted(sensor_url, streams):
    ds = streams["pump_station/TB-1/flow"]
    rows = [Row(ds, NOW - timedelta(minutes=m), 100.0 + m) for m in range(10)]
    counts = _write(sensor_url, rows)
    assert (counts.inserted, counts.duplicates, counts.refused) == (10, 0, ())
    assert len(_stored(sensor_url, ds)) == 10


def test_the_same_reading_again_is_a_duplicate_and_the_first_wins(sensor_url, streams):
    ds = streams["pump_station/TB-1/wet_well_level"]
    when = NOW - timedelta(hours=1)
    assert _write(sensor_url, [Row(ds, when, 1.5)]).inserted == 1
    again = _write(sensor_url, [Row(ds, when, 9.9), Row(ds, when, 8.8)])
    assert (again.inserted, again.duplicates) == (0, 2)
    assert _stored(sensor_url, ds) == [(when, 1.5)]


def test_duplicates_within_one_batch_are_written_once(sensor_url, streams):
    ds = streams["pump_station/TB-2/flow"]
    when = NOW - timedelta(minutes=3)
    counts = _write(sensor_url, [Row(ds, when, 5.0), Row(ds, when, 6.0), Row(ds, when, 5.0)])
    assert (counts.inserted, counts.duplicates) == (1, 2)
    assert _stored(sensor_url, ds) == [(when, 5.0)]


def test_late_and_out_of_order_readings_land_in_their_weeks_partition(sensor_url, streams):
    ds = streams["lake/HO-1/water_level"]
    times = [NOW - timedelta(days=d) for d in (0, 200, 3, 45, 120)]
    assert _write(sensor_url, [Row(ds, t, 1.0) for t in times]).inserted == 5
    with psycopg.connect(sensor_url) as conn:
        rows = conn.execute(
            "SELECT phenomenon_time, tableoid::regclass::text, (partman.show_partition_name("
            "'public.sensor_observations', phenomenon_time::text)).partition_table"
            " FROM sensor_observations WHERE datastream_id = %s", (ds,)).fetchall()
        weeks = {partition: (start, end) for partition, start, end in conn.execute(
            "SELECT c.relname, p.child_start_time, p.child_end_time FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid, LATERAL partman.show_partition_info("
            "'public.' || c.relname, p_parent_table := 'public.sensor_observations') AS p"
            " WHERE i.inhparent = 'sensor_observations'::regclass"
            " AND c.relname <> 'sensor_observations_default'")}
    assert len(rows) == 5
    for when, partition, week_table in rows:
        assert partition == week_table != "sensor_observations_default", (when, partition)
        start, end = weeks[partition]
        assert start <= when < end and end - start == timedelta(days=7)


def test_refused_rows_say_why_and_the_others_are_written(sensor_url, streams):
    level = streams["lake/HO-1/ph"]
    running = streams["pump_station/TB-2/running"]
    rows = [
        Row(level, NOW - timedelta(minutes=30), 7.2),
        Row(999_999, NOW, 1.0),
        Row(level, (NOW - timedelta(minutes=1)).replace(tzinfo=None), 7.0),
        Row(level, NOW - timedelta(days=401), 7.0),
        Row(level, NOW + timedelta(hours=2), 7.0),
        Row(level, NOW - timedelta(minutes=2), "seven"),
        Row(level, NOW - timedelta(minutes=3), 15.0),
        Row(level, NOW - timedelta(minutes=4), float("nan")),
        Row(running, NOW - timedelta(minutes=5), "on"),
        Row(running, NOW - timedelta(minutes=6), True),
    ]
    counts = _write(sensor_url, rows)
    assert counts.inserted == 2
    reasons = {r.index: r.reason for r in counts.refused}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert reasons[1] == "datastream 999999 does not exist"
    assert "timezone" in reasons[2]
    assert "older than the retention of 400 days" in reasons[3]
    assert "in the future" in reasons[4]
    assert "must be a finite number" in reasons[5] and "must be a finite number" in reasons[7]
    assert "outside the plausible range 0.0 to 14.0" in reasons[6]
    assert "must be true or false" in reasons[8]
    assert _stored(sensor_url, running) == [(NOW - timedelta(minutes=6), 1.0)]


def test_a_shorter_retention_refuses_older_readings(sensor_url, streams):
    ds = streams["lake/HO-1/turbidity"]
    counts = _write(sensor_url, [Row(ds, NOW - timedelta(days=10), 3.0)],
                    policy=WritePolicy(retention=timedelta(days=7)))
    assert counts.inserted == 0 and "retention of 7 days" in counts.refused[0].reason


def _hour(url: str, table: str, ds: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT bucket, count, sum, min, max FROM {}"
                                    " WHERE datastream_id = %s ORDER BY bucket").format(
            sql.Identifier(table)), (ds,)).fetchall()


def test_hourly_and_daily_aggregates_count_each_reading_once(sensor_url, streams):
    ds = streams["rain_gauge/DM-1/rainfall"]
    hour = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)  # 10:00 in Da Nang
    first = [Row(ds, hour + timedelta(minutes=5 * k), float(k)) for k in range(6)]
    second = [Row(ds, hour + timedelta(minutes=5 * k), 99.0) for k in range(4, 12)]
    _write(sensor_url, first)
    counts = _write(sensor_url, second)
    assert (counts.inserted, counts.duplicates) == (6, 2)
    assert _hour(sensor_url, "sensor_hourly", ds) == [(hour, 12, 15.0 + 6 * 99.0, 0.0, 99.0)]
    day = datetime(2026, 11, 19, 17, tzinfo=timezone.utc)  # 20 November 00:00 in Da Nang
    assert _hour(sensor_url, "sensor_daily", ds) == [(day, 12, 15.0 + 6 * 99.0, 0.0, 99.0)]


def test_the_latest_value_moves_forward_only(sensor_url, streams):
    ds = streams["lighting_cabinet/TU-1/power"]
    _write(sensor_url, [Row(ds, NOW - timedelta(minutes=10), 4.0)])
    _write(sensor_url, [Row(ds, NOW - timedelta(minutes=20), 3.0)])  # a late reading
    _write(sensor_url, [Row(ds, NOW - timedelta(minutes=5), 5.0),
                        Row(ds, NOW - timedelta(minutes=7), 6.0)])
    with psycopg.connect(sensor_url) as conn:
        latest = conn.execute("SELECT phenomenon_time, result, first_time FROM datastream_latest"
                              " WHERE datastream_id = %s", (ds,)).fetchone()
    assert latest == (NOW - timedelta(minutes=5), 5.0, NOW - timedelta(minutes=20))


def test_concurrent_writers_into_one_hour_lose_no_reading(sensor_url, streams):
    ds = streams["rain_gauge/DM-2/rainfall"]
    hour = datetime(2026, 11, 21, 8, tzinfo=timezone.utc)
    batches = [[Row(ds, hour + timedelta(seconds=s), 1.0) for s in range(w, 3600, 4)]
               for w in range(4)]
    errors = []

    def write(batch):
        try:
            for k in range(0, len(batch), 50):
                _write(sensor_url, batch[k:k + 50])
        except Exception as exc:  # reported below: a thread's exception is not raised
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _hour(sensor_url, "sensor_hourly", ds) == [(hour, 3600, 3600.0, 1.0, 1.0)]


@pytest.mark.parametrize("result", [0, 1, False])
def test_truth_results_are_stored_as_zero_or_one(sensor_url, streams, result):
    ds = streams["lighting_cabinet/TU-1/fault"]
    when = NOW - timedelta(hours=2, minutes=int(result) * 7 + (3 if result is False else 0))
    assert _write(sensor_url, [Row(ds, when, result)]).inserted == 1
    assert (when, float(result)) in _stored(sensor_url, ds)


def test_a_reading_without_feature_of_interest_gets_its_things_feature(sensor_url, streams):
    ds = streams["pump_station/TB-2/wet_well_level"]
    _write(sensor_url, [Row(ds, NOW - timedelta(minutes=9), 2.0)])
    with psycopg.connect(sensor_url) as conn:
        layer, key = conn.execute(
            "SELECT f.layer, f.feature_key FROM sensor_observations o"
            " JOIN features_of_interest f ON f.id = o.feature_of_interest_id"
            " WHERE o.datastream_id = %s", (ds,)).fetchone()
    assert (layer, key) == ("drainage_nodes", "TB-2")
