"""Alert events: opened when a rule's condition starts to hold at a thing, ended when it clears.

`evaluate_alerts` runs every rule in force once (the worker does it every tick; `gisapp
sensors alerts` on demand). Every change (opened, ended, acknowledged) is NOTIFYed on
ALERTS_CHANNEL at commit, which /api/alerts/stream pushes to the map as server-sent events. One transaction-scoped advisory lock keeps two evaluations from
opening the same event twice; the partial unique index on open events backs it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gisapp.alerts.rules import firing, rules_in_force
from gisapp.errors import Conflict, NotFound

LOCK = 15_004  # pg_advisory_xact_lock key of alert evaluation
ALERTS_CHANNEL = "gisapp_alert_events"  # NOTIFY payload: {"events": [ids changed]}


@dataclass(frozen=True)
class Evaluation:
    """Events opened and ended by one evaluation: (rule id, thing id) pairs."""

    opened: list[tuple[str, int]]
    ended: list[tuple[str, int]]


def evaluate_alerts(conn: psycopg.Connection, now: datetime) -> Evaluation:
    """Open events for conditions that started, end those that cleared, in one transaction."""
    opened, ended, changed = [], [], []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        rules = rules_in_force(conn)
        for rule in rules:
            now_firing = firing(conn, rule, now)
            open_now = {r[0]: r[1] for r in conn.execute(
                "SELECT thing_id, id FROM alert_events WHERE rule_id = %s AND ended_at IS NULL",
                (rule.rule_id,))}
            for thing_id, details in now_firing.items():
                if thing_id in open_now:
                    conn.execute("UPDATE alert_events SET details = %s WHERE id = %s",
                                 (Jsonb(details), open_now[thing_id]))
                    continue
                changed.append(conn.execute(
                    "INSERT INTO alert_events (rule_id, rule_version, thing_id, started_at,"
                    " details) VALUES (%s, %s, %s, %s, %s) RETURNING id",
                    (rule.rule_id, rule.version, thing_id, now, Jsonb(details))).fetchone()[0])
                opened.append((rule.rule_id, thing_id))
            for thing_id, event_id in open_now.items():
                if thing_id not in now_firing:
                    conn.execute("UPDATE alert_events SET ended_at = %s WHERE id = %s",
                                 (now, event_id))
                    ended.append((rule.rule_id, thing_id))
                    changed.append(event_id)
        in_force = [r.rule_id for r in rules]
        for rule_id, thing_id, event_id in conn.execute(  # rules disabled since: they end
                "UPDATE alert_events SET ended_at = %s WHERE ended_at IS NULL"
                " AND NOT (rule_id = ANY(%s)) RETURNING rule_id, thing_id, id", (now, in_force)):
            ended.append((rule_id, thing_id))
            changed.append(event_id)
        notify_changed(conn, changed)
    return Evaluation(opened, ended)


def notify_changed(conn: psycopg.Connection, event_ids: list[int]) -> None:
    """NOTIFY the alerts channel of changed events; delivered when the transaction commits."""
    if event_ids:
        conn.execute("SELECT pg_notify(%s, %s)",
                     (ALERTS_CHANNEL, json.dumps({"events": event_ids})))


EVENT_COLUMNS = """
SELECT e.id, e.rule_id, e.rule_version, r.title, r.kind, e.thing_id, t.code AS thing_code,
       t.name AS thing_name, t.kind AS thing_kind, t.layer, t.feature_key, e.started_at,
       e.ended_at, e.details, e.acknowledged_at, e.acknowledged_by
FROM alert_events e JOIN things t ON t.id = e.thing_id
LEFT JOIN alert_rules r ON (r.rule_id, r.version) = (e.rule_id, e.rule_version)
"""


def list_events(conn: psycopg.Connection, state: str, limit: int, offset: int) -> list[dict]:
    """Events, newest first; `state` is open, ended or all."""
    query = EVENT_COLUMNS + {"open": " WHERE e.ended_at IS NULL",
                             "ended": " WHERE e.ended_at IS NOT NULL",
                             "all": ""}[state]
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query + " ORDER BY e.started_at DESC, e.id DESC LIMIT %s OFFSET %s",
                           (limit, offset)).fetchall()


def get_event(conn: psycopg.Connection, event_id: int) -> dict:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(EVENT_COLUMNS + " WHERE e.id = %s", (event_id,)).fetchone()
    if row is None:
        raise NotFound(f"no alert event {event_id}")
    return row


def acknowledge(conn: psycopg.Connection, event_id: int, by: str, now: datetime) -> dict:
    """Mark an event acknowledged by an operator; 409 when it already was."""
    event = get_event(conn, event_id)
    if event["acknowledged_at"] is not None:
        raise Conflict(f"alert event {event_id} was acknowledged by "
                       f"{event['acknowledged_by']} at {event['acknowledged_at'].isoformat()}")
    conn.execute("UPDATE alert_events SET acknowledged_at = %s, acknowledged_by = %s"
                 " WHERE id = %s", (now, by, event_id))
    notify_changed(conn, [event_id])
    return get_event(conn, event_id)


def events_by_id(conn: psycopg.Connection, event_ids: list[int]) -> list[dict]:
    """The events with these ids, by id."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(EVENT_COLUMNS + " WHERE e.id = ANY(%s) ORDER BY e.id",
                           (event_ids,)).fetchall()
