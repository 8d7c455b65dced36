"""Run history: list and read runs, their rejects (JSON or CSV), cancel a run."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gisapp.errors import BadRequest, Conflict, NotFound
from gisapp.etl_ops.reject_view import declaration, visible_attributes, visible_reason
from gisapp.query_args import bounded_int
from layers import Access
from store.run_lifecycle import FINAL_STATUSES, RunStatus, request_cancel

STATUSES = tuple(s.value for s in RunStatus)
MAX_PAGE = 500
RUN_SELECT = sql.SQL(
    "SELECT id, layer, source, source_format, source_crs, encoding, mode, status, phase, dry_run,"
    " rows_read, rows_valid, rows_loaded, rows_rejected, rows_repaired, summary, warnings,"
    " timings, error, started_by, created_at, started_at, finished_at, heartbeat_at, tile_purge,"
    " CASE WHEN extent IS NULL THEN NULL ELSE json_build_array(ST_XMin(extent),"
    " ST_YMin(extent), ST_XMax(extent), ST_YMax(extent)) END AS extent FROM etl_runs")
RUN_FILTER = sql.SQL(
    "WHERE (%(layer)s::text IS NULL OR layer = %(layer)s)"
    " AND (%(status)s::text IS NULL OR status = %(status)s)"
    " AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)"
    " AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)")


@dataclass(frozen=True)
class RunFilter:
    """GET /api/etl/runs parameters."""

    layer: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    offset: int = 0

    @classmethod
    def parse(cls, args: Any) -> "RunFilter":
        status = args.get("status") or None
        if status and status not in STATUSES:
            raise BadRequest(f"status {status!r} is not one of {', '.join(STATUSES)}")
        return cls(layer=args.get("layer") or None, status=status,
                   since=_parse_time(args.get("since"), "since"),
                   until=_parse_time(args.get("until"), "until"),
                   limit=bounded_int(args.get("limit") or None, "limit", 50, 1, MAX_PAGE),
                   offset=bounded_int(args.get("offset") or None, "offset", 0, 0, 10**9))


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} {value!r} must be an ISO date or date-time, e.g. "
                         "2026-11-23 or 2026-11-23T08:00:00+07:00") from None


def _jsonable(row: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def list_runs(conn: psycopg.Connection, flt: RunFilter) -> dict:
    """A page of runs, newest first, with the total matching count."""
    params = {"layer": flt.layer, "status": flt.status, "since": flt.since, "until": flt.until,
              "limit": flt.limit, "offset": flt.offset}
    with conn.cursor(row_factory=dict_row) as cur:
        total = cur.execute(sql.SQL(" ").join([sql.SQL("SELECT count(*) AS n FROM etl_runs"),
                                               RUN_FILTER]), params).fetchone()["n"]
        rows = cur.execute(sql.SQL(" ").join([
            RUN_SELECT, RUN_FILTER, sql.SQL("ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s")]),
            params).fetchall()
    return {"runs": [_jsonable(r) for r in rows], "total": total, "limit": flt.limit,
            "offset": flt.offset}


def get_run(conn: psycopg.Connection, run_id: int) -> dict:
    """One run with its phase, counts, timings, summary, extent, error and who started it."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(sql.SQL(" ").join([RUN_SELECT, sql.SQL("WHERE id = %s")]),
                          (run_id,)).fetchone()
    if row is None:
        raise NotFound(f"no import run {run_id}")
    return _jsonable(row)


def list_rejects(conn: psycopg.Connection, run_id: int, limit: int, offset: int,
                 levels: frozenset[Access]) -> dict:
    """A page of a run's rejected rows: row number, reason, the attributes `levels` may see."""
    decl = declaration(get_run(conn, run_id)["layer"])
    with conn.cursor(row_factory=dict_row) as cur:
        total = cur.execute("SELECT count(*) AS n FROM etl_rejects WHERE run_id = %s",
                            (run_id,)).fetchone()["n"]
        rows = cur.execute(
            "SELECT row_number, reason, attributes, geometry_wkt FROM etl_rejects"
            " WHERE run_id = %s ORDER BY row_number, id LIMIT %s OFFSET %s",
            (run_id, limit, offset)).fetchall()
    for row in rows:
        row["reason"] = visible_reason(decl, levels, row["reason"])
        row["attributes"] = visible_attributes(decl, levels, row["attributes"])
    return {"run_id": run_id, "rejects": rows, "total": total, "limit": limit,
            "offset": offset}


def rejects_csv(conn: psycopg.Connection, run_id: int,
                levels: frozenset[Access]) -> Iterator[str]:
    """A run's rejects as CSV (row_number, reason, one column per attribute `levels` may see)."""
    decl = declaration(get_run(conn, run_id)["layer"])
    rows = [(n, visible_reason(decl, levels, reason), visible_attributes(decl, levels, attrs))
            for n, reason, attrs in conn.execute(
                "SELECT row_number, reason, attributes FROM etl_rejects"
                " WHERE run_id = %s ORDER BY row_number, id", (run_id,))]
    names: list[str] = []
    for _, _, attributes in rows:
        names += [k for k in attributes if k not in names]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row_number", "reason", *names])
    for row_number, reason, attributes in rows:
        writer.writerow([row_number, reason, *(_cell(attributes.get(n)) for n in names)])
    yield "\ufeff" + buffer.getvalue()  # the BOM makes spreadsheet programs read UTF-8


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def cancel_run(conn: psycopg.Connection, run_id: int, by: str | None) -> dict:
    """Cancel a queued run at once, or ask a running one to stop (it rolls back)."""
    run = get_run(conn, run_id)
    if run["status"] in FINAL_STATUSES:
        raise Conflict(f"run {run_id} is already {run['status']}; only queued or running "
                       "runs can be cancelled")
    message = f"cancelled by {by or 'an operator'}"
    request_cancel(conn, run_id, message)
    return get_run(conn, run_id)
