"""Import schedules: validated cron + timezone, CRUD, and enqueueing due ones exactly once.

`enqueue_due` takes the clock as an argument (the worker passes its tick's timestamp,
tests a fixed time). Each due schedule is locked (FOR UPDATE SKIP LOCKED), gets one run
and one job, and moves to its next slot after `now` in the same transaction, so two
workers never fire it twice, and slots missed while no worker ran fire once, not per slot.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from croniter import CroniterBadCronError, CroniterBadDateError, croniter
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from etl.encodings import UnknownEncoding, canonical_encoding
from etl.pipeline import MODES
from gisapp.errors import BadRequest, NotFound
from gisapp.etl_ops.sources import check_source, is_url
from gisapp.settings import Settings
from layers import get_table
from layers.city import CITY
from store.run_lifecycle import queue_run

DEFAULT_TIMEZONE = CITY.timezone
OPTION_KEYS = {"mode", "crs", "encoding", "source_layer", "confirm_crs", "dry_run"}
FIELDS = {"layer", "source", "cron", "timezone", "options", "enabled"}
LIST_SCHEDULES = ("SELECT id, layer, source, cron, timezone, options, enabled, last_run_at,"
                  " next_run_at, created_by, created_at FROM etl_schedules ORDER BY id")
GET_SCHEDULE = ("SELECT id, layer, source, cron, timezone, options, enabled, last_run_at,"
                " next_run_at, created_by, created_at FROM etl_schedules WHERE id = %s")
Defer = Callable[[psycopg.Connection, int, str, dict], int]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"unknown timezone {name!r}; use an IANA name such as "
                         f"{DEFAULT_TIMEZONE}") from None


def next_runs(cron: str, tz: str, after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` times (UTC) after `after` at which `cron` fires in timezone `tz`."""
    if len(cron.split()) != 5:
        raise BadRequest(f"cron {cron!r} must have 5 fields: minute hour day month weekday")
    try:
        it = croniter(cron, after.astimezone(_zone(tz)))
        return [it.get_next(datetime).astimezone(timezone.utc) for _ in range(count)]
    except (CroniterBadCronError, CroniterBadDateError, ValueError, KeyError) as exc:
        raise BadRequest(f"cron {cron!r} is not valid: {exc}") from None


def _check_options(options: Any) -> dict:
    if not isinstance(options, dict) or set(options) - OPTION_KEYS:
        raise BadRequest(f"options must be an object with keys from "
                         f"{', '.join(sorted(OPTION_KEYS))}")
    check_mode_and_encoding(options.get("mode", "replace"), options.get("encoding"))
    for flag in ("dry_run", "confirm_crs"):  # bool("false") would be True when it fires
        if flag in options and not isinstance(options[flag], bool):
            raise BadRequest(f"{flag} must be true or false, not {options[flag]!r}")
    return options


def check_mode_and_encoding(mode: Any, encoding: Any) -> None:
    """A 400 for an import mode or a text encoding the pipeline does not know.

    Shared by queued imports and schedules, so a schedule is refused when it is written,
    not when it fires.
    """
    if mode not in MODES:
        raise BadRequest(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if encoding:
        try:
            canonical_encoding(str(encoding))
        except UnknownEncoding as exc:
            raise BadRequest(str(exc)) from None


def _check_source(source: Any, settings: Settings) -> str:
    if not isinstance(source, str) or not source.strip():
        raise BadRequest("source must be a path under the import directory or an http(s) URL")
    return check_source(settings, source.strip())


def validate(data: dict, settings: Settings, *, partial: bool = False) -> dict:
    """Checked schedule fields from a client's JSON object (all required unless `partial`).

    The source is checked by the rules its runs will apply (import directory, URL allow-list).
    """
    if not isinstance(data, dict) or set(data) - FIELDS:
        raise BadRequest(f"a schedule is an object with fields {', '.join(sorted(FIELDS))}")
    required = {"layer", "source", "cron"}
    if not partial and required - set(data):
        raise BadRequest(f"missing fields: {', '.join(sorted(required - set(data)))}")
    out = dict(data)
    if "layer" in out:
        out["layer"] = get_table(str(out["layer"])).id
    if "source" in out:
        out["source"] = _check_source(out["source"], settings)
    if "options" in out:
        out["options"] = _check_options(out["options"])
    if "enabled" in out and not isinstance(out["enabled"], bool):
        raise BadRequest("enabled must be true or false")
    if not partial:
        out.setdefault("timezone", DEFAULT_TIMEZONE)
    return out


def _shape(row: dict, now: datetime) -> dict:
    row = dict(row)
    row["next_runs"] = [t.isoformat() for t in next_runs(row["cron"], row["timezone"], now)]
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def create_schedule(conn: psycopg.Connection, data: dict, created_by: str | None,
                    now: datetime, settings: Settings) -> dict:
    """Insert a schedule; its first run is the cron's next time after `now`."""
    s = validate(data, settings)
    first = next_runs(s["cron"], s["timezone"], now, 1)[0]
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "INSERT INTO etl_schedules (layer, source, cron, timezone, options, enabled,"
            " next_run_at, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (s["layer"], s["source"], s["cron"], s["timezone"],
                        Jsonb(s.get("options", {})), s.get("enabled", True), first,
                        created_by)).fetchone()
    return get_schedule(conn, row["id"], now)


def list_schedules(conn: psycopg.Connection, now: datetime) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(LIST_SCHEDULES).fetchall()
    return [_shape(r, now) for r in rows]


def get_schedule(conn: psycopg.Connection, schedule_id: int, now: datetime) -> dict:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(GET_SCHEDULE, (schedule_id,)).fetchone()
    if row is None:
        raise NotFound(f"no import schedule {schedule_id}")
    return _shape(row, now)


def update_schedule(conn: psycopg.Connection, schedule_id: int, patch: dict,
                    now: datetime, settings: Settings) -> dict:
    """Change some fields; a new cron, timezone or re-enabling recomputes the next run.

    Enabling a schedule checks its source again (the settings may have changed since).
    """
    current = get_schedule(conn, schedule_id, now)
    changes = validate(patch, settings, partial=True)
    merged = {**current, **changes}
    if changes.get("enabled") and "source" not in changes:
        _check_source(merged["source"], settings)
    next_at = current["next_run_at"]
    if {"cron", "timezone"} & set(changes) or (changes.get("enabled") and not current["enabled"]):
        next_at = next_runs(merged["cron"], merged["timezone"], now, 1)[0]
    conn.execute(
        "UPDATE etl_schedules SET layer = %s, source = %s, cron = %s, timezone = %s,"
        " options = %s, enabled = %s, next_run_at = %s WHERE id = %s",
        (merged["layer"], merged["source"], merged["cron"], merged["timezone"],
         Jsonb(merged["options"]), merged["enabled"], next_at, schedule_id))
    return get_schedule(conn, schedule_id, now)


def delete_schedule(conn: psycopg.Connection, schedule_id: int) -> None:
    if conn.execute("DELETE FROM etl_schedules WHERE id = %s RETURNING id",
                    (schedule_id,)).fetchone() is None:
        raise NotFound(f"no import schedule {schedule_id}")


def run_options(source: str, options: dict) -> dict:
    """A schedule's job arguments: its source (fetched when the run starts) and options."""
    where = "url" if is_url(source) else "reference"
    return {where: source, "crs": options.get("crs"), "source_layer": options.get("source_layer"),
            "confirm_crs": bool(options.get("confirm_crs")), "source_name": source}


def enqueue_due(conninfo: str, now: datetime, defer: Defer) -> list[int]:
    """Queue one run for every enabled schedule due at `now`; returns the new run ids."""
    fired = []
    with psycopg.connect(conninfo) as conn, conn.transaction():
        due = conn.execute(
            "SELECT id, layer, source, cron, timezone, options FROM etl_schedules"
            " WHERE enabled AND next_run_at <= %s ORDER BY next_run_at"
            " FOR UPDATE SKIP LOCKED", (now,)).fetchall()
        for schedule_id, layer, source, cron, tz, options in due:
            run_id = queue_run(conn, layer=layer, source=f"schedule {schedule_id}: {source}",
                               source_format=None, mode=options.get("mode", "replace"),
                               encoding=options.get("encoding"),
                               dry_run=bool(options.get("dry_run")),
                               started_by=f"schedule:{schedule_id}")
            defer(conn, run_id, layer, run_options(source, options))
            conn.execute("UPDATE etl_schedules SET last_run_at = %s, next_run_at = %s"
                         " WHERE id = %s", (now, next_runs(cron, tz, now, 1)[0], schedule_id))
            fired.append(run_id)
    return fired
