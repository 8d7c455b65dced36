"""Partitions and retention of sensor observations, through pg_partman.

pg_partman (schema `partman`, set up by migration 0012) holds sensor_observations' weekly
partitions. Maintenance makes sure every week from the retention horizon to four weeks
ahead has its partition (so a late reading inside retention never lands in the default
partition) and drops whole partitions older than the retention. The hourly and daily
aggregates are kept: they outlive the raw readings. The worker runs this hourly; the CLI
runs it as `gisapp sensors maintain`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

PARENT = "public.sensor_observations"


@dataclass(frozen=True)
class MaintenanceResult:
    """Partitions before and after, and the oldest partition's start."""

    partitions_before: int
    partitions_after: int
    oldest: datetime | None


def partition_count(conn: psycopg.Connection) -> int:
    """How many partitions sensor_observations has (the default partition included)."""
    return conn.execute("SELECT count(*) FROM pg_inherits"
                        " WHERE inhparent = 'public.sensor_observations'::regclass").fetchone()[0]


def oldest_partition_start(conn: psycopg.Connection) -> datetime | None:
    """The lower bound of the oldest partition (the default partition aside)."""
    row = conn.execute("SELECT (partman.show_partition_info(p.partition_schemaname || '.' ||"
                       " p.partition_tablename, p_parent_table := %s)).child_start_time"
                       " FROM partman.show_partitions(%s) AS p LIMIT 1",
                       (PARENT, PARENT)).fetchone()
    return row[0] if row else None


def maintain_observations(conn: psycopg.Connection, retention_days: int) -> MaintenanceResult:
    """Set the retention, make the partitions it covers and drop those beyond it.

    Runs in the caller's transaction; pg_partman takes its own advisory lock, so two
    maintenance runs at once wait for each other.
    """
    if retention_days < 1:
        raise ValueError("the retention must be at least 1 day")
    before = partition_count(conn)
    conn.execute("UPDATE partman.part_config SET retention = %s::interval"
                 " WHERE parent_table = %s", (f"{retention_days} days", PARENT))
    conn.execute(
        "SELECT partman.create_partition_time(%s, array_agg(week)) FROM"
        " generate_series(date_trunc('week', now() - make_interval(days => %s)),"
        "                 now(), interval '1 week') AS week", (PARENT, retention_days))
    conn.execute("SELECT partman.run_maintenance(%s, p_analyze := false, p_jobmon := false)",
                 (PARENT,))
    return MaintenanceResult(before, partition_count(conn), oldest_partition_start(conn))
