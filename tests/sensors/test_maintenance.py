"""Observation partitions and retention through pg_partman; `gisapp sensors maintain`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg

from store.observations import ObservationRow, write_observations
from store.sensor_maintenance import maintain_observations, oldest_partition_start


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM sensor_observations").fetchone()[0]


def test_retention_drops_old_partitions_keeps_aggregates_and_comes_back(sensor_url, streams):
    ds = streams["lake/HO-1/dissolved_oxygen"]
    now = datetime.now(timezone.utc)
    old, recent = now - timedelta(days=90), now - timedelta(days=1)
    with psycopg.connect(sensor_url) as conn:
        write_observations(conn, [ObservationRow(ds, old, 6.0), ObservationRow(ds, recent, 7.0)])
    try:
        with psycopg.connect(sensor_url) as conn:
            result = maintain_observations(conn, 30)
            kept = conn.execute("SELECT phenomenon_time FROM sensor_observations"
                                " WHERE datastream_id = %s", (ds,)).fetchall()
            hours = conn.execute("SELECT count(*) FROM sensor_hourly WHERE datastream_id = %s",
                                 (ds,)).fetchone()[0]
        assert result.partitions_after < result.partitions_before
        assert now - timedelta(days=38) <= result.oldest <= now - timedelta(days=30)
        assert kept == [(recent,)] and hours == 2
    finally:
        with psycopg.connect(sensor_url) as conn:
            result = maintain_observations(conn, 400)
    assert result.oldest <= now - timedelta(days=400)
    with psycopg.connect(sensor_url) as conn:  # a late reading finds its week again
        counts = write_observations(conn, [ObservationRow(ds, old, 6.5)])
        where = conn.execute("SELECT tableoid::regclass::text FROM sensor_observations"
                             " WHERE datastream_id = %s AND phenomenon_time = %s",
                             (ds, old)).fetchone()[0]
        assert oldest_partition_start(conn) == result.oldest
    assert counts.inserted == 1 and where != "sensor_observations_default"


def test_maintain_command_reports_partitions(runner, sensor_url):
    result = runner("sensors", "maintain", "--retention-days", "400",
                    env={"DATABASE_URL": sensor_url})
    assert result.exit_code == 0, result.output
    assert "partitions:" in result.output and "oldest from 20" in result.output
