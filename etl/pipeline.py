"""run_import: read -> decode -> reproject -> validate -> stage -> load, recorded in etl_runs.

A run holds its layer's advisory lock from start to end. Staging, merge, layer_state bump,
the run's success record and the NOTIFY share one transaction, so a failed or killed run
leaves the layer as it was. The etl.events hooks run after commit.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import psycopg
import shapely

from etl import events
from etl.crs import SourceCrs, reproject, resolve_crs
from etl.errors import ImportRefused
from etl.fields import map_columns
from etl.geometry import check_geometries
from etl.load import (BatchCopy, LoadOutcome, analyze_staging, create_staging, ewkb_hex,
                      merge_staged)
from etl.overviews import refresh_overview
from etl.read_ahead import read_ahead
from etl.readers import Source, SourceBatches, source_format
from etl.runs import RunLog, try_lock_layer, unlock_layer
from etl.shadow_load import ShadowLoad, is_first_load
from etl.validate import SeenKeys, coerce_fields, mark_duplicate_keys, rejected_rows
from layers import Layer, Table, UnknownLayer, get_table
from store.layer_changes import publish_layer_change, settle_commit_lsns
from store.run_lifecycle import record_success

MODES = ("replace", "upsert", "append")


@dataclass(frozen=True)
class ImportRequest:
    """What to import where, and how."""

    layer: str
    path: Path
    mode: str = "replace"
    crs: str | None = None
    encoding: str | None = None
    source_layer: str | None = None
    confirm_crs: bool = False
    dry_run: bool = False
    started_by: str | None = None
    run_id: int | None = None
    source_name: str | None = None  # what the operator gave, when `path` is our own copy


@dataclass
class ImportResult:
    """The recorded outcome of one run."""

    run_id: int
    layer: str
    status: str
    rows_read: int = 0
    rows_valid: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_repaired: int = 0
    summary: dict = field(default_factory=lambda: {"added": 0, "updated": 0, "unchanged": 0,
                                                   "removed": 0})
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    extent: tuple[float, float, float, float] | None = None


class ImportFailed(Exception):
    """The run failed and was recorded as such; `.result` is that record."""

    def __init__(self, message: str, result: ImportResult):
        super().__init__(message)
        self.message = message
        self.result = result


class _Timer:
    def __init__(self, timings: dict[str, float]):
        self.timings, self.t = timings, time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] = round(self.timings.get(phase, 0.0) + now - self.t, 4)
        self.t = now


def _declaration(layer_id: str) -> Table:
    try:
        return get_table(layer_id)
    except UnknownLayer as exc:
        raise ImportRefused(str(exc)) from None


def run_import(conninfo: str, request: ImportRequest,
               progress: Callable[[str, int, int | None], None] | None = None) -> ImportResult:
    """Import one file into one layer or table; raises ImportFailed (recorded) on failure."""
    log = RunLog(conninfo, progress)
    conn = psycopg.connect(conninfo, autocommit=True)
    # if this process dies mid-statement, the server notices within a second and rolls back
    conn.execute("SET client_connection_check_interval = 1000")
    result = ImportResult(run_id=0, layer=request.layer, status="running")
    crs_label: str | None = None
    started = time.perf_counter()
    try:
        try:
            fmt = source_format(request.path)
        except ImportRefused:
            fmt = None
        locked = try_lock_layer(conn, request.layer)
        try:
            result.run_id = log.start(layer=request.layer, source=str(request.path),
                                      source_format=fmt, mode=request.mode,
                                      encoding=request.encoding, dry_run=request.dry_run,
                                      started_by=request.started_by, run_id=request.run_id)
        except LookupError as exc:  # a run_id that is not a queued run: nothing to record
            result.run_id, result.status, result.error = request.run_id or 0, "failed", str(exc)
            raise ImportFailed(str(exc), result) from None
        try:
            if not locked:
                holder = log.holder_of(request.layer)
                raise ImportRefused(f"layer {request.layer} is being loaded by run "
                                    f"{holder if holder is not None else '(unknown)'}; "
                                    "wait for it to finish")
            abandoned = log.mark_abandoned(request.layer)
            if abandoned:
                result.warnings.append(f"marked abandoned run(s) {abandoned} as failed")
            crs_label = _run(conninfo, conn, log, request, result, started)
            _settle_commit_lsn(conn, request)
        except BaseException as exc:
            message = str(exc) if isinstance(exc, ImportRefused) else _describe(exc)
            message = name_source(message, request)
            result.warnings = [name_source(w, request) for w in result.warnings]
            result.status, result.error, result.rows_loaded = "failed", message, 0
            result.summary = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0}
            result.extent = None
            result.timings["total"] = round(time.perf_counter() - started, 4)
            log.fail(message, source_crs=crs_label, warnings=result.warnings,
                     timings=result.timings, counts=vars(result))
            if isinstance(exc, Exception):
                raise ImportFailed(message, result) from exc
            raise
        finally:
            if locked and not conn.closed:
                unlock_layer(conn, request.layer)
    finally:
        conn.close()
        log.close()
    result.warnings.extend(events.emit_layer_loaded(result) if not request.dry_run else [])
    return result


def name_source(message: str, request: ImportRequest) -> str:
    """The message naming the operator's file where it names the copy we read (a spool)."""
    if not request.source_name:
        return message
    path = Path(request.path)
    for ours in (str(path), str(path.parent), path.name):
        message = message.replace(ours, request.source_name)
    return message


def _describe(exc: BaseException) -> str:
    if isinstance(exc, psycopg.errors.DiskFull):
        return ("the database server ran out of disk space, so nothing was changed "
                f"({str(exc).strip().splitlines()[0]}); free space on the database server, "
                "then run the import again")
    if isinstance(exc, psycopg.Error):
        diag = getattr(exc, "diag", None)
        detail = f" ({diag.message_detail})" if diag is not None and diag.message_detail else ""
        return f"load failed, nothing was changed: {str(exc).strip()}{detail}"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted; nothing was changed"
    return f"{type(exc).__name__}: {exc}"


def _run(conninfo: str, conn: psycopg.Connection, log: RunLog, request: ImportRequest,
         result: ImportResult, started: float) -> str | None:
    """The phases, batch by batch; fills `result` and returns the source CRS label.

    Each batch of the source is decoded, reprojected, validated, its rejects written and
    its accepted rows COPied into staging before the next is read, so memory stays bounded
    and the database ingests one batch while the next is prepared.
    """
    if request.mode not in MODES:
        raise ImportRefused(f"unknown mode {request.mode!r}; use one of {', '.join(MODES)}")
    decl = _declaration(request.layer)
    spatial = isinstance(decl, Layer)
    timer = _Timer(result.timings)
    log.progress("read", 0, None)
    batches = SourceBatches(Path(request.path), encoding=request.encoding,
                            source_layer=request.source_layer, spatial=spatial, decl=decl)
    state = _BatchState(decl, conninfo=conninfo, run_id=log.run_id)
    try:
        _load(conn, log, request, result, started, batches, state, timer)
    finally:
        if state.shadow is not None:  # after the load transaction: its locks are gone
            state.shadow.discard()
    return state.crs_label


def _load(conn: psycopg.Connection, log: RunLog, request: ImportRequest, result: ImportResult,
          started: float, batches: SourceBatches, state: "_BatchState", timer: _Timer) -> None:
    """The load transaction: stage every batch, merge (or swap the shadow in), publish, record."""
    decl = state.decl
    with conn.transaction():
        if not request.dry_run:
            create_staging(conn, decl)
        state.staging = BatchCopy(conn)
        try:
            for source in read_ahead(batches):
                timer.lap("read")
                _take_batch(conn, log, request, result, source, state, timer)
        except BaseException as exc:
            try:
                state.staging.close(exc)  # the transaction can only roll back once COPY ended
            except psycopg.Error:
                pass  # a broken connection: the server rolls back by itself
            raise
        state.staging.close()
        if state.z_dropped:
            result.warnings.append(f"dropped Z/M values from {state.z_dropped} geometries")
        result.warnings.extend(name_source(w, request) for w in batches.warnings())
        result.rows_rejected = result.rows_read - result.rows_valid
        log.progress("validate", result.rows_read, result.rows_read,
                     rows_valid=result.rows_valid, rows_rejected=result.rows_rejected)
        if result.rows_valid == 0 and request.mode == "replace" and not request.dry_run:
            raise ImportRefused(f"no valid rows in {Path(request.path).name} "
                                f"({result.rows_rejected} rejected, see etl_rejects of run "
                                f"{log.run_id}); a replace never empties layer {decl.id}")
        if request.dry_run:
            result.timings["total"] = round(time.perf_counter() - started, 4)
            _finish(log.conn, result, state.crs_label, None)
            result.status = "succeeded"
            return
        log.progress("stage", result.rows_valid, result.rows_valid)
        if state.shadow is not None:
            timer.lap("stage")
            valid_from = conn.execute("SELECT now()").fetchone()[0]
            state.shadow.build(valid_from, lambda done, total: log.progress("load", done, total))
            outcome = state.shadow.swap(conn)
            result.timings.update(state.shadow.timings)
        else:
            analyze_staging(conn)
            timer.lap("stage")
            outcome = merge_staged(conn, decl, log.run_id, request.mode,
                                   lambda done, total: log.progress("load", done, total))
        result.rows_rejected += outcome.duplicates
        result.rows_loaded = result.rows_valid - outcome.duplicates
        result.summary, result.extent = outcome.summary, outcome.extent
        timer.lap("load")
        result.status = "succeeded"
        _publish(conn, decl, result, outcome, overview_done=state.shadow is not None)
        timer.lap("publish")  # the overview rebuild, layer_state and NOTIFY
        result.timings["total"] = round(time.perf_counter() - started, 4)
        _finish(conn, result, state.crs_label, outcome)


@dataclass
class _BatchState:
    """What the batches of one source share: field mapping, CRS, keys seen, counters."""

    decl: Table
    mapping: dict[str, str] | None = None
    chosen: SourceCrs | None = None
    crs_label: str | None = None
    z_dropped: int = 0
    seen: SeenKeys | None = None
    warned: set[str] = field(default_factory=set)
    conninfo: str = ""
    run_id: int = 0
    staged_any: bool = False
    shadow: ShadowLoad | None = None  # a first load into an empty layer (etl/shadow_load.py)
    staging: BatchCopy | None = None  # the COPY into etl_staging otherwise


def _take_batch(conn: psycopg.Connection, log: RunLog, request: ImportRequest,
                result: ImportResult, source: Source, state: _BatchState, timer: _Timer) -> None:
    """Decode, reproject and validate one batch; write its rejects and stage its rows."""
    decl = state.decl
    offset = result.rows_read
    result.rows_read += source.rows
    for warning in source.warnings:
        if warning not in state.warned:
            state.warned.add(warning)
            result.warnings.append(name_source(warning, request))
    log.progress("read", result.rows_read, None, rows_read=result.rows_read)
    if state.mapping is None:
        state.mapping, unknown = map_columns(list(source.frame.columns), decl)
        state.seen = SeenKeys(decl)
        if unknown:
            result.warnings.append(f"ignored columns not declared for {decl.id}: "
                                   f"{', '.join(unknown)}")
    typed, reasons = coerce_fields(source.frame, state.mapping, decl)
    log.progress("decode", result.rows_read, None)
    timer.lap("decode")

    geoms = None
    if isinstance(decl, Layer):
        if source.geoms is None:
            raise ImportRefused(f"{Path(request.path).name} has no geometry; "
                                f"layer {decl.id} needs {decl.geometry_type}")
        if state.chosen is None:
            state.chosen = resolve_crs(source.crs, request.crs, request.confirm_crs)
            state.crs_label = state.chosen.label
            log.set_source_crs(state.crs_label)
            result.warnings.extend(state.chosen.warnings)
        flat = source.geoms
        has_z = shapely.has_z(flat) | shapely.has_m(flat)
        if has_z.any():
            state.z_dropped += int(has_z.sum())
            flat = shapely.force_2d(flat)
        geoms = reproject(flat, state.chosen)
        log.progress("reproject", result.rows_read, None)
        timer.lap("reproject")
        checked = check_geometries(geoms, decl)
        missing = reasons == None  # noqa: E711
        reasons[missing] = checked.reasons[missing]
        geoms = checked.geoms
        result.rows_repaired += int((checked.repaired & (reasons == None)).sum())  # noqa: E711
    mark_duplicate_keys(typed, decl, reasons, state.seen, offset)
    ok = reasons == None  # noqa: E711
    result.rows_valid += int(ok.sum())
    log.write_rejects(rejected_rows(source.frame, source.geoms, reasons, offset))
    log.progress("validate", result.rows_read, None, rows_valid=result.rows_valid,
                 rows_rejected=result.rows_read - result.rows_valid)
    timer.lap("validate")
    if request.dry_run or not ok.any():
        return
    staged = typed.iloc[np.flatnonzero(ok)].copy()
    if not state.staged_any:
        state.staged_any = True
        if isinstance(decl, Layer) and is_first_load(conn, decl, len(staged)):
            state.shadow = ShadowLoad(state.conninfo, decl, state.run_id)
            state.shadow.open()
    if geoms is not None:
        staged["geom"] = ewkb_hex(geoms[ok], decl)
    if state.shadow is not None:
        state.shadow.copy(staged, geoms[ok])
    else:
        staged.insert(0, "row_number", offset + np.flatnonzero(ok) + 1)
        state.staging.write(staged)
    log.progress("stage", result.rows_valid, None)
    timer.lap("stage")


def _settle_commit_lsn(conn: psycopg.Connection, request: ImportRequest) -> None:
    """Record the committed version's LSN (replicas serve it once past); never fails a load.

    Left unrecorded, readers take the primary's position when they first see the version.
    """
    if request.dry_run:
        return
    try:
        settle_commit_lsns(conn)
    except psycopg.Error as exc:
        logging.getLogger(__name__).warning("commit LSN of %s not recorded: %s",
                                            request.layer, exc)


def _publish(conn: psycopg.Connection, decl: Table, result: ImportResult,
             outcome: LoadOutcome, overview_done: bool = False) -> None:
    """Rebuild the overview (unless a shadow load built it), bump layer_state, NOTIFY."""
    if isinstance(decl, Layer) and outcome.extent is not None and not overview_done:
        refresh_overview(conn, decl, outcome.extent)
    publish_layer_change(conn, decl.id, result.run_id, outcome.extent)


def _finish(conn: psycopg.Connection, result: ImportResult, crs_label: str | None,
            outcome: LoadOutcome | None) -> None:
    """Record the run as succeeded (inside the load transaction when there is one)."""
    record_success(conn, result.run_id, rows_read=result.rows_read, rows_valid=result.rows_valid,
                   rows_loaded=result.rows_loaded, rows_rejected=result.rows_rejected,
                   rows_repaired=result.rows_repaired, summary=result.summary,
                   warnings=result.warnings, timings=result.timings,
                   extent=outcome.extent if outcome else None, source_crs=crs_label)
