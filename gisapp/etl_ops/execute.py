"""Execute one queued run in the worker: prepare its source, run the pipeline, honour cancel."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import psycopg

from etl.pipeline import ImportFailed, ImportRequest, run_import
from gisapp.errors import GisappError
from gisapp.etl_ops import sources, spool
from gisapp.settings import Settings
from store.run_lifecycle import (RunStatus, fail_unfinished, record_cancelled,
                                   requeue_run)

MAX_ATTEMPTS = 3
CANCEL_POLL_S = 0.5
log = logging.getLogger(__name__)


class RunCancelled(Exception):
    """An operator cancelled the run while it was running."""


class TransientFailure(Exception):
    """The database went away mid-run; the run was re-queued and the job is retried."""


class _CancelWatch:
    """Progress callback that stops the run when its status becomes 'cancelling'."""

    def __init__(self, conn: psycopg.Connection, run_id: int):
        self.conn, self.run_id, self.last = conn, run_id, 0.0  # the worker's own connection

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        last_step = phase == "load" and total is not None and done >= total  # commit follows
        if now - self.last < CANCEL_POLL_S and not last_step:
            return
        self.last = now
        row = self.conn.execute("SELECT status, error FROM etl_runs WHERE id = %s",
                                (self.run_id,)).fetchone()
        if row and row[0] == RunStatus.CANCELLING:
            raise RunCancelled(row[1] or "cancelled")


def _causes(exc: BaseException):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def _claimable(conn: psycopg.Connection, run_id: int, attempt: int) -> tuple | None:
    """The run's (layer, mode, encoding, dry_run, started_by) if this attempt should run it."""
    row = conn.execute("SELECT status, layer, mode, encoding, dry_run, started_by"
                       " FROM etl_runs WHERE id = %s", (run_id,)).fetchone()
    if row is None:
        return None
    if row[0] != RunStatus.QUEUED:
        if attempt == 0 or row[0] not in (RunStatus.RUNNING, RunStatus.FAILED):
            return None  # cancelled, finished, or handled by the stalled-job sweep
        requeue_run(conn, run_id)
    return row[1:]


def execute_run(conninfo: str, settings: Settings, run_id: int, options: dict,
                attempt: int = 0) -> str:
    """Run queued run `run_id`; returns its final status. Raises TransientFailure to retry.

    `options` (the job's arguments): path and spool (a prepared file) or reference / url (a
    schedule's source, fetched now), crs, source_layer, confirm_crs.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        claim = _claimable(conn, run_id, attempt)
        if claim is None:
            return "skipped"
        layer, mode, encoding, dry_run, started_by = claim
        try:
            if options.get("path"):
                path, source_layer = Path(options["path"]), options.get("source_layer")
                where = Path(options.get("spool") or path.parent)
            else:
                prepared = sources.prepare(settings, reference=options.get("reference"),
                                           url=options.get("url"),
                                           source_layer=options.get("source_layer"))
                path, source_layer, where = prepared.path, prepared.source_layer, prepared.spool
        except GisappError as exc:
            fail_unfinished(conn, run_id, f"source refused: {exc.message}")
            return "failed"
        request = ImportRequest(layer=layer, path=path, mode=mode, crs=options.get("crs"),
                                encoding=encoding, source_layer=source_layer,
                                confirm_crs=bool(options.get("confirm_crs")), dry_run=dry_run,
                                started_by=started_by, run_id=run_id,
                                source_name=options.get("source_name") or None)
        try:
            run_import(conninfo, request, progress=_CancelWatch(conn, run_id))
        except ImportFailed as exc:
            causes = list(_causes(exc))
            cancelled = next((c for c in causes if isinstance(c, RunCancelled)), None)
            if cancelled is not None:
                record_cancelled(conn, run_id, str(cancelled))
                spool.remove_spool(where)
                return "cancelled"
            if any(isinstance(c, psycopg.OperationalError) for c in causes) \
                    and attempt + 1 < MAX_ATTEMPTS:
                log.warning("run %s: transient database error, will retry: %s", run_id, exc)
                if not options.get("path"):  # a schedule's source is fetched again
                    spool.remove_spool(where)
                raise TransientFailure(str(exc)) from exc
            spool.remove_spool(where)
            return "failed"
    spool.remove_spool(where)
    return "succeeded"
