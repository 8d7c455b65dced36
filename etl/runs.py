"""An import's run log (claim, throttled progress, rejects, failure) and the layer lock.

The etl_runs writes themselves are store.run_lifecycle's.
"""
from __future__ import annotations

import math
import time
from datetime import date, datetime
from typing import Any, Callable, Iterable

import psycopg

from store import run_lifecycle

ABANDONED = "abandoned: the process running it stopped"
PROGRESS_INTERVAL_S = 0.5  # at most ~2 progress writes a second

Progress = Callable[[str, int, "int | None"], None]


def try_lock_layer(conn: psycopg.Connection, layer: str) -> bool:
    """Take the session-level advisory lock that allows one run per layer at a time."""
    row = conn.execute("SELECT pg_try_advisory_lock(hashtext('gisapp.layer'), hashtext(%s))",
                       (layer,)).fetchone()
    return bool(row[0])


def unlock_layer(conn: psycopg.Connection, layer: str) -> None:
    """Release the layer lock (closing the connection releases it too)."""
    conn.execute("SELECT pg_advisory_unlock(hashtext('gisapp.layer'), hashtext(%s))", (layer,))


def json_safe(value: Any) -> Any:
    """A source attribute as a JSON value (NaN -> null, dates -> ISO text, bytes -> hex)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "item"):  # numpy scalars
        return json_safe(value.item())
    try:
        if value != value:  # pandas NA/NaT
            return None
    except TypeError:
        return None
    return str(value)


class RunLog:
    """Writes one run's row and rejects through its own autocommit connection.

    Progress goes through this connection so it is visible while the load transaction is
    open; the final success update is made inside the load transaction instead.
    """

    def __init__(self, conninfo: str, progress: Progress | None = None):
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.run_id: int | None = None
        self._callback = progress
        self._phase: str | None = None
        self._last_write = 0.0
        self.counts: dict[str, int] = {}

    def close(self) -> None:
        self.conn.close()

    def start(self, *, layer: str, source: str, source_format: str | None, mode: str,
              encoding: str | None, dry_run: bool, started_by: str | None,
              run_id: int | None) -> int:
        """Insert the run as 'running', or claim the queued run `run_id`."""
        if run_id is not None:
            if not run_lifecycle.claim_run(self.conn, run_id, "start"):
                found = self.conn.execute("SELECT status FROM etl_runs WHERE id = %s",
                                          (run_id,)).fetchone()
                state = f"is {found[0]}" if found else "does not exist"
                raise LookupError(f"run {run_id} {state}; only a queued run can be executed")
            self.run_id = run_id
            return run_id
        self.run_id = run_lifecycle.start_run(
            self.conn, layer=layer, source=source, source_format=source_format, mode=mode,
            phase="start", encoding=encoding, dry_run=dry_run, started_by=started_by)
        return self.run_id

    def mark_abandoned(self, layer: str) -> list[int]:
        """Fail runs of `layer` still 'running' (we hold the layer lock, so their process died)."""
        return run_lifecycle.fail_abandoned(self.conn, layer, self.run_id, ABANDONED)

    def holder_of(self, layer: str) -> int | None:
        """The run that holds the layer's lock, as far as etl_runs tells."""
        row = self.conn.execute(
            "SELECT id FROM etl_runs WHERE layer = %s AND status = 'running' AND id <> %s"
            " ORDER BY id DESC LIMIT 1", (layer, self.run_id)).fetchone()
        return row[0] if row else None

    def set_source_crs(self, crs_label: str) -> None:
        run_lifecycle.record_progress(self.conn, self.run_id, source_crs=crs_label)

    def progress(self, phase: str, done: int, total: int | None = None, **counts: int) -> None:
        """Report progress to the callback; write phase/counts to the run at most ~2 times/s."""
        self.counts.update(counts)
        if self._callback is not None:
            self._callback(phase, done, total)
        now = time.monotonic()
        if phase == self._phase and now - self._last_write < PROGRESS_INTERVAL_S:
            return
        self._phase, self._last_write = phase, now
        run_lifecycle.record_progress(
            self.conn, self.run_id, phase=phase, rows_read=self.counts.get("rows_read"),
            rows_valid=self.counts.get("rows_valid"),
            rows_rejected=self.counts.get("rows_rejected"))

    def write_rejects(self, rows: Iterable[tuple[int, str, dict, str | None]]) -> int:
        """COPY (row_number, reason, attributes, geometry_wkt) rows into etl_rejects."""
        return run_lifecycle.write_rejects(self.conn, self.run_id, rows)

    def fail(self, error: str, *, source_crs: str | None, warnings: list[str],
             timings: dict[str, float], counts: dict[str, int]) -> None:
        """Record the run as failed with its message; nothing of it was loaded."""
        run_lifecycle.record_failure(self.conn, self.run_id, error, timings=timings,
                                     source_crs=source_crs, warnings=warnings, counts=counts)
