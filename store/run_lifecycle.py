"""The run lifecycle: a run's status and the only code that inserts or updates etl_runs.

queued -> running -> succeeded | failed; queued -> cancelled; running -> cancelling ->
cancelled | failed. Every function runs on the caller's psycopg connection, so a write
joins the caller's transaction (the success of a load commits with its data) or, on an
autocommit connection, is visible at once (progress while a load is open).
"""
from __future__ import annotations

import json
from enum import StrEnum
from typing import Iterable

import psycopg
from psycopg.types.json import Jsonb

Bbox = tuple[float, float, float, float]


class RunStatus(StrEnum):
    """The status of an import run, as stored in etl_runs.status."""

    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
UNFINISHED_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.CANCELLING)


def _values(statuses: Iterable[RunStatus]) -> list[str]:
    return [s.value for s in statuses]


def queue_run(conn: psycopg.Connection, *, layer: str, source: str, source_format: str | None,
              mode: str, encoding: str | None, dry_run: bool, started_by: str | None) -> int:
    """Insert a queued run (a worker claims it) and return its id."""
    return conn.execute(
        "INSERT INTO etl_runs (layer, source, source_format, mode, encoding, dry_run, status,"
        " started_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (layer, source, source_format, mode, encoding, dry_run, RunStatus.QUEUED.value,
         started_by)).fetchone()[0]


def start_run(conn: psycopg.Connection, *, layer: str, source: str, source_format: str | None,
              mode: str, phase: str, encoding: str | None = None, dry_run: bool = False,
              started_by: str | None = None) -> int:
    """Insert a run that is running from now on, in `phase`, and return its id."""
    return conn.execute(
        "INSERT INTO etl_runs (layer, source, source_format, encoding, mode, status, phase,"
        " dry_run, started_by, started_at, heartbeat_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now(), now()) RETURNING id",
        (layer, source, source_format, encoding, mode, RunStatus.RUNNING.value, phase, dry_run,
         started_by)).fetchone()[0]


def claim_run(conn: psycopg.Connection, run_id: int, phase: str) -> bool:
    """Mark queued run `run_id` running in `phase`; False when it is not queued."""
    return conn.execute(
        "UPDATE etl_runs SET status = %s, phase = %s, started_at = now(), heartbeat_at = now()"
        " WHERE id = %s AND status = %s RETURNING id",
        (RunStatus.RUNNING.value, phase, run_id, RunStatus.QUEUED.value)).fetchone() is not None


def requeue_run(conn: psycopg.Connection, run_id: int) -> None:
    """Put a run back in the queue for another attempt (its phase, error and end cleared)."""
    conn.execute("UPDATE etl_runs SET status = %s, phase = NULL, error = NULL,"
                 " finished_at = NULL WHERE id = %s", (RunStatus.QUEUED.value, run_id))


def record_progress(conn: psycopg.Connection, run_id: int, *, phase: str | None = None,
                    source_crs: str | None = None, warnings: list[str] | None = None,
                    rows_read: int | None = None, rows_valid: int | None = None,
                    rows_rejected: int | None = None) -> None:
    """Record a running run's heartbeat and whatever of phase, CRS, warnings, counts is given."""
    conn.execute(
        "UPDATE etl_runs SET heartbeat_at = now(), phase = coalesce(%s, phase),"
        " source_crs = coalesce(%s, source_crs), warnings = coalesce(%s, warnings),"
        " rows_read = coalesce(%s, rows_read), rows_valid = coalesce(%s, rows_valid),"
        " rows_rejected = coalesce(%s, rows_rejected) WHERE id = %s",
        (phase, source_crs, None if warnings is None else Jsonb(warnings), rows_read,
         rows_valid, rows_rejected, run_id))


def add_warnings(conn: psycopg.Connection, run_id: int, warnings: list[str]) -> None:
    """Append `warnings` to a run's warnings (checks made after its load committed)."""
    conn.execute("UPDATE etl_runs SET warnings = warnings || %s WHERE id = %s",
                 (Jsonb(warnings), run_id))


def record_tile_purge(conn: psycopg.Connection, run_id: int, report: dict) -> None:
    """What purging the run's changed tiles from the caches did (after its commit)."""
    conn.execute("UPDATE etl_runs SET tile_purge = %s WHERE id = %s", (Jsonb(report), run_id))


def set_started_by(conn: psycopg.Connection, run_id: int, started_by: str) -> None:
    """Name who (or what) started a run after the fact (the demo loader tags its runs)."""
    conn.execute("UPDATE etl_runs SET started_by = %s WHERE id = %s", (started_by, run_id))


def record_success(conn: psycopg.Connection, run_id: int, *, rows_read: int, rows_valid: int,
                   rows_loaded: int, rows_rejected: int, rows_repaired: int, summary: dict,
                   warnings: list[str], timings: dict, extent: Bbox | None,
                   source_crs: str | None = None) -> None:
    """Record the run as succeeded; made inside the load transaction, it commits with the data.

    `extent` is the changed area (west, south, east, north) in WGS 84, or None.
    """
    box = extent if extent else (None, None, None, None)
    conn.execute(
        "UPDATE etl_runs SET status = %s, phase = 'done', finished_at = now(),"
        " heartbeat_at = now(), source_crs = coalesce(%s, source_crs), rows_read = %s,"
        " rows_valid = %s, rows_loaded = %s, rows_rejected = %s, rows_repaired = %s,"
        " summary = %s, warnings = %s, timings = %s, error = NULL,"
        " extent = ST_MakeEnvelope(%s, %s, %s, %s, 4326) WHERE id = %s",
        (RunStatus.SUCCEEDED.value, source_crs, rows_read, rows_valid, rows_loaded,
         rows_rejected, rows_repaired, Jsonb(summary), Jsonb(warnings), Jsonb(timings), *box,
         run_id))


def record_failure(conn: psycopg.Connection, run_id: int, error: str, *, timings: dict,
                   source_crs: str | None = None, warnings: list[str] | None = None,
                   counts: dict[str, int] | None = None) -> None:
    """Record the run as failed with its message; nothing of it was loaded.

    `counts` (rows_read, rows_valid, rows_rejected, rows_repaired) replace the recorded ones
    when given; warnings likewise.
    """
    c = counts or {}
    conn.execute(
        "UPDATE etl_runs SET status = %s, error = %s, finished_at = now(),"
        " heartbeat_at = now(), source_crs = coalesce(%s, source_crs),"
        " warnings = coalesce(%s, warnings), timings = %s,"
        " rows_read = coalesce(%s, rows_read), rows_valid = coalesce(%s, rows_valid),"
        " rows_loaded = 0, rows_rejected = coalesce(%s, rows_rejected),"
        " rows_repaired = coalesce(%s, rows_repaired) WHERE id = %s",
        (RunStatus.FAILED.value, error, source_crs,
         None if warnings is None else Jsonb(warnings), Jsonb(timings),
         *(c.get(k, 0) if counts is not None else None
           for k in ("rows_read", "rows_valid", "rows_rejected", "rows_repaired")),
         run_id))


def fail_abandoned(conn: psycopg.Connection, layer: str, current_run: int,
                   error: str) -> list[int]:
    """Fail the runs of `layer` still running other than `current_run`; returns their ids.

    Only the holder of the layer lock may call this: the runs it fails lost their process.
    """
    rows = conn.execute(
        "UPDATE etl_runs SET status = %s, error = %s, finished_at = now()"
        " WHERE layer = %s AND status = %s AND id <> %s RETURNING id",
        (RunStatus.FAILED.value, error, layer, RunStatus.RUNNING.value,
         current_run)).fetchall()
    return [r[0] for r in rows]


def fail_unfinished(conn: psycopg.Connection, run_id: int, error: str) -> bool:
    """Fail run `run_id` with `error` unless it has finished; True when it was failed."""
    return conn.execute(
        "UPDATE etl_runs SET status = %s, error = %s, finished_at = now()"
        " WHERE id = %s AND status = ANY(%s) RETURNING id",
        (RunStatus.FAILED.value, error, run_id,
         _values(UNFINISHED_STATUSES))).fetchone() is not None


def request_cancel(conn: psycopg.Connection, run_id: int, message: str) -> None:
    """Cancel a queued run at once; ask a running one to stop (it becomes 'cancelling')."""
    conn.execute(
        "UPDATE etl_runs SET status = CASE WHEN status = %s THEN %s ELSE %s END, error = %s,"
        " finished_at = CASE WHEN status = %s THEN now() END"
        " WHERE id = %s AND status = ANY(%s)",
        (RunStatus.QUEUED.value, RunStatus.CANCELLED.value, RunStatus.CANCELLING.value,
         message, RunStatus.QUEUED.value, run_id, _values(UNFINISHED_STATUSES)))


def record_cancelled(conn: psycopg.Connection, run_id: int, message: str) -> None:
    """Record that a run stopped because it was cancelled (its load rolled back)."""
    conn.execute("UPDATE etl_runs SET status = %s, error = %s WHERE id = %s",
                 (RunStatus.CANCELLED.value, message, run_id))


def write_rejects(conn: psycopg.Connection, run_id: int,
                  rows: Iterable[tuple[int, str, dict, str | None]]) -> int:
    """COPY (row_number, reason, attributes, geometry_wkt) rows into the run's etl_rejects."""
    n = 0
    with conn.cursor() as cur, cur.copy(
            "COPY etl_rejects (run_id, row_number, reason, attributes, geometry_wkt)"
            " FROM STDIN") as copy:
        for row_number, reason, attributes, wkt in rows:
            copy.write_row((run_id, row_number, reason,
                            json.dumps(attributes, ensure_ascii=False), wkt))
            n += 1
    return n
