"""Sensor alerts over HTTP: events (open, ended, all), the rules in force, acknowledgement.

Events and rules are public, like the assets they are about; who acknowledged an event is
shown to staff only. Acknowledging needs an operator role and is audited.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import psycopg
from flask import Blueprint, jsonify, request

from gisapp.alerts import events, rules
from gisapp.audit import audit
from gisapp.auth import current_levels, current_user, require_role
from gisapp.context import engine
from gisapp.errors import BadRequest
from gisapp.sta.entities import iso
from layers import Access

bp = Blueprint("alerts", __name__, url_prefix="/api/alerts")
OPERATOR_ROLES = ("planner", "etl_operator", "admin")
MAX_LIMIT = 1000


@contextmanager
def _db() -> Iterator[psycopg.Connection]:
    """A pooled connection's psycopg handle inside one transaction (committed on success)."""
    with engine().begin() as conn:
        yield conn.connection.driver_connection


def _event_json(row: dict) -> dict:
    staff = Access.STAFF in current_levels()
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
    if not text.isdigit() or not low <= int(text) <= high:
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
