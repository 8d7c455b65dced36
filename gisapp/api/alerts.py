"""Sensor alerts over HTTP: events (open, ended, all), the rules in force, acknowledgement.

Events and rules are public, like the assets they are about; who acknowledged an event is
shown to staff only. Acknowledging needs an operator role and is audited.
"""
from __future__ import annotations

import json
import re
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import psycopg
from psycopg import sql
from flask import Blueprint, Response, current_app, jsonify, request

from gisapp.alerts import events, rules
from gisapp.audit import audit
from gisapp.auth import current_levels, current_user, require_role
from gisapp.context import engine, settings
from gisapp.db.provision import libpq_url
from gisapp.errors import BadRequest
from gisapp.process_stop import STOPPING
from gisapp.sta.entities import iso
from layers import Access

bp = Blueprint("alerts", __name__, url_prefix="/api/alerts")
OPERATOR_ROLES = ("planner", "etl_operator", "admin")
MAX_LIMIT = 1000
# Server-sent events: each stream holds a server thread and a database connection, so a
# process serves GISAPP_ALERT_STREAMS at once (under gunicorn threads - 1, so a thread stays
# free for the map's other requests) and each ends after STREAM_SECONDS (browsers reconnect).
STREAM_SECONDS = 300
HEARTBEAT_SECONDS = 15
WAKE_SECONDS = 1.0  # how soon a stream sees its process stopping (gisapp/process_stop.py)


def _stream_slots() -> threading.BoundedSemaphore:
    """This app's alert-stream slots (one semaphore per app, sized by the setting)."""
    return current_app.extensions.setdefault(
        "alert_streams", threading.BoundedSemaphore(settings().alert_streams))


@contextmanager
def _db() -> Iterator[psycopg.Connection]:
    """A pooled connection's psycopg handle inside one transaction (committed on success)."""
    with engine().begin() as conn:
        yield conn.connection.driver_connection


def _event_json(row: dict, staff: bool | None = None) -> dict:
    staff = Access.STAFF in current_levels() if staff is None else staff
    return {"id": row["id"], "rule": {"id": row["rule_id"], "version": row["rule_version"],
                                      "kind": row["kind"], "title": row["title"]},
            "thing": {"id": row["thing_id"], "code": row["thing_code"], "name": row["thing_name"],
                      "kind": row["thing_kind"], "layer": row["layer"],
                      "feature_key": row["feature_key"]},
            "started_at": iso(row["started_at"]), "ended_at": iso(row["ended_at"]),
            "open": row["ended_at"] is None, "details": row["details"],
            "acknowledged_at": iso(row["acknowledged_at"]),
            "acknowledged_by": row["acknowledged_by"] if staff else None}


def _whole(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name, str(default))
    if not re.fullmatch(r"[0-9]{1,12}", text) or not low <= int(text) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}, not {text!r}")
    return int(text)


@bp.get("")
def list_alerts():
    """Alert events, newest first: ?state=open|ended|all (default open), limit, offset."""
    state = request.args.get("state", "open")
    if state not in ("open", "ended", "all"):
        raise BadRequest(f"state must be open, ended or all, not {state!r}")
    limit = _whole("limit", 100, 1, MAX_LIMIT)
    offset = _whole("offset", 0, 0, 10**9)
    with _db() as conn:
        rows = events.list_events(conn, state, limit, offset)
    return jsonify({"state": state, "events": [_event_json(r) for r in rows]})


@bp.get("/rules")
def list_rules():
    """The alert rules in force (the highest enabled version of each)."""
    with _db() as conn:
        found = rules.rules_in_force(conn)
    return jsonify({"rules": [{"id": r.rule_id, "version": r.version, "kind": r.kind,
                               "thing_kind": r.thing_kind, "params": r.params,
                               "title": r.title} for r in found]})


@bp.post("/<int:event_id>/acknowledge")
@require_role(*OPERATOR_ROLES)
def acknowledge(event_id: int):
    """An operator acknowledges an event (audited); 409 when it already was."""
    with _db() as conn:
        row = events.acknowledge(conn, event_id, current_user(), datetime.now(timezone.utc))
    audit("alerts.acknowledge", f"alert_event:{event_id}",
          {"rule": row["rule_id"], "thing": row["thing_code"]})
    return jsonify(_event_json(row))


def _sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@bp.get("/stream")
def stream():
    """Server-sent events: `open` (the open events now), then `alert` for every event opened,
    ended or acknowledged, as it happens; a comment every 15 s keeps proxies from closing it.
    It ends within a second of its process being told to stop (gisapp/process_stop.py).

    The slot and the LISTEN connection are taken when the client starts reading, so an
    answer nobody reads holds nothing; with every slot taken the stream says `busy` and ends
    (EventSource retries after `retry`).
    """
    staff = Access.STAFF in current_levels()
    url = libpq_url(settings().database_url)
    slots, most = _stream_slots(), settings().alert_streams

    def generate() -> Iterator[str]:
        yield "retry: 2000\n\n"
        if not slots.acquire(blocking=False):
            yield _sse("busy", {"message": f"{most} alert streams are open in this "
                                           "process; retrying"})
            return
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(events.ALERTS_CHANNEL)))
                first = events.list_events(conn, "open", MAX_LIMIT, 0)
                yield _sse("open", [_event_json(r, staff) for r in first])
                ends = time.monotonic() + STREAM_SECONDS
                beat = time.monotonic() + HEARTBEAT_SECONDS
                while time.monotonic() < ends and not STOPPING.is_set():
                    ids = [event_id for note in conn.notifies(timeout=WAKE_SECONDS,
                                                              stop_after=1)
                           for event_id in json.loads(note.payload)["events"]]
                    if ids:
                        for row in events.events_by_id(conn, ids):
                            yield _sse("alert", _event_json(row, staff))
                    elif time.monotonic() >= beat:
                        yield ": keep-alive\n\n"
                    else:
                        continue
                    beat = time.monotonic() + HEARTBEAT_SECONDS
        finally:
            slots.release()

    return Response(generate(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
