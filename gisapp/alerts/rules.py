"""Alert rules: versioned rows of `alert_rules` and the SQL each kind of rule evaluates.

A rule's figures (thresholds, windows, hours) live in the table, so an operator changes a
threshold by adding a version (and switches a rule off with a disabled version); the latest
version of each rule is in force unless it is disabled. The
kinds are fixed here: each is one SQL statement returning the things whose condition holds
at a time, with the inputs that made it hold (so an event explains itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gisapp.errors import BadRequest

# Rainfall summed over a window at each gauge above a threshold (mm in 1 h or 3 h).
WINDOW_SUM = """
SELECT d.thing_id, jsonb_build_object('datastream_id', d.id, 'sum', sum(o.result),
       'readings', count(*), 'window_minutes', %(window_minutes)s::int, 'above', %(above)s::float8)
FROM datastreams d JOIN things t ON t.id = d.thing_id
JOIN sensor_observations o ON o.datastream_id = d.id
 AND o.phenomenon_time > %(now)s::timestamptz - make_interval(mins => %(window_minutes)s::int)
 AND o.phenomenon_time <= %(now)s::timestamptz
WHERE t.kind = %(thing_kind)s::text AND d.kind = %(datastream)s::text
GROUP BY d.thing_id, d.id HAVING sum(o.result) > %(above)s::float8
"""

# The latest reading above a level: the thing's own `warning_level_m` property, else the rule's.
LATEST_ABOVE = """
SELECT d.thing_id, jsonb_build_object('datastream_id', d.id, 'value', o.result,
       'at', o.phenomenon_time, 'above', lim.level)
FROM datastreams d JOIN things t ON t.id = d.thing_id
CROSS JOIN LATERAL (SELECT coalesce((t.properties->>'warning_level_m')::float8,
                                    %(above)s::float8) AS level) lim
CROSS JOIN LATERAL (SELECT result, phenomenon_time FROM sensor_observations
                    WHERE datastream_id = d.id AND phenomenon_time <= %(now)s::timestamptz
                    ORDER BY phenomenon_time DESC LIMIT 1) o
WHERE t.kind = %(thing_kind)s::text AND d.kind = %(datastream)s::text
  AND o.phenomenon_time > %(now)s::timestamptz - make_interval(mins => %(max_age_minutes)s::int)
  AND o.result > lim.level
"""

# A pump reported stopped while its wet-well level rose over the window.
STOPPED_WHILE_RISING = """
SELECT t.id, jsonb_build_object('state_datastream_id', ds.id, 'stopped_at', s.phenomenon_time,
       'level_datastream_id', dl.id, 'level_first', w.first, 'level_last', w.last,
       'rise_m', w.last - w.first, 'rise_above_m', %(rise_above_m)s::float8,
       'window_minutes', %(window_minutes)s::int)
FROM things t
JOIN datastreams ds ON ds.thing_id = t.id AND ds.kind = %(state)s::text
JOIN datastreams dl ON dl.thing_id = t.id AND dl.kind = %(level)s::text
CROSS JOIN LATERAL (SELECT result, phenomenon_time FROM sensor_observations
                    WHERE datastream_id = ds.id AND phenomenon_time <= %(now)s::timestamptz
                    ORDER BY phenomenon_time DESC LIMIT 1) s
CROSS JOIN LATERAL (SELECT (array_agg(result ORDER BY phenomenon_time))[1] AS first,
                           (array_agg(result ORDER BY phenomenon_time DESC))[1] AS last
                    FROM sensor_observations WHERE datastream_id = dl.id
                    AND phenomenon_time > %(now)s::timestamptz
                                          - make_interval(mins => %(window_minutes)s::int)
                    AND phenomenon_time <= %(now)s::timestamptz) w
WHERE t.kind = %(thing_kind)s::text AND s.result = 0
  AND s.phenomenon_time > %(now)s::timestamptz - make_interval(mins => %(window_minutes)s::int)
  AND w.last - w.first > %(rise_above_m)s::float8
"""

# A cabinet whose latest state is off in the hours it should be on (they cross midnight).
OFF_BETWEEN = """
SELECT d.thing_id, jsonb_build_object('datastream_id', d.id, 'off_since', o.phenomenon_time,
       'local_time', to_char(%(now)s::timestamptz AT TIME ZONE %(timezone)s::text, 'HH24:MI'),
       'on_from', %(from)s::text, 'on_until', %(until)s::text)
FROM datastreams d JOIN things t ON t.id = d.thing_id
CROSS JOIN LATERAL (SELECT result, phenomenon_time FROM sensor_observations
                    WHERE datastream_id = d.id AND phenomenon_time <= %(now)s::timestamptz
                    ORDER BY phenomenon_time DESC LIMIT 1) o
CROSS JOIN LATERAL (SELECT (%(now)s::timestamptz AT TIME ZONE %(timezone)s::text)::time AS t) lt
WHERE t.kind = %(thing_kind)s::text AND d.kind = %(datastream)s::text AND o.result = 0
  AND o.phenomenon_time > %(now)s::timestamptz - make_interval(mins => %(max_age_minutes)s::int)
  AND CASE WHEN %(from)s::time > %(until)s::time
           THEN lt.t >= %(from)s::time OR lt.t < %(until)s::time
           ELSE lt.t >= %(from)s::time AND lt.t < %(until)s::time END
"""

# kind -> (statement, the parameters a version must carry)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "window_sum": (WINDOW_SUM, ("datastream", "window_minutes", "above")),
    "latest_above": (LATEST_ABOVE, ("datastream", "above", "max_age_minutes")),
    "stopped_while_rising": (STOPPED_WHILE_RISING,
                             ("state", "level", "window_minutes", "rise_above_m")),
    "off_between": (OFF_BETWEEN, ("datastream", "from", "until", "timezone",
                                  "max_age_minutes")),
}


@dataclass(frozen=True)
class AlertRule:
    """One version of one alert rule."""

    rule_id: str
    version: int
    kind: str
    thing_kind: str
    params: dict[str, Any]
    title: dict[str, str]
    enabled: bool = True


def check_rule(rule: AlertRule) -> None:
    """BadRequest when a rule's kind is unknown or its parameters are incomplete."""
    if rule.kind not in KINDS:
        raise BadRequest(f"alert rule kind {rule.kind!r} is unknown; kinds: {', '.join(KINDS)}")
    missing = [p for p in KINDS[rule.kind][1] if p not in rule.params]
    if missing:
        raise BadRequest(f"alert rule {rule.rule_id} ({rule.kind}) needs {', '.join(missing)}")


def rules_in_force(conn: psycopg.Connection) -> list[AlertRule]:
    """The latest version of every rule, by rule id, unless that version is disabled."""
    rows = conn.execute(
        "SELECT DISTINCT ON (rule_id) rule_id, version, kind, thing_kind, params, title, enabled"
        " FROM alert_rules ORDER BY rule_id, version DESC").fetchall()
    return [AlertRule(*row) for row in rows if row[-1]]


def add_version(conn: psycopg.Connection, rule: AlertRule, by: str | None) -> int:
    """Store a new version of a rule (the next number); returns it."""
    check_rule(rule)
    return conn.execute(
        "INSERT INTO alert_rules (rule_id, version, kind, thing_kind, params, title, enabled,"
        " created_by) SELECT %s, coalesce(max(version), 0) + 1, %s, %s, %s, %s, %s, %s"
        " FROM alert_rules WHERE rule_id = %s RETURNING version",
        (rule.rule_id, rule.kind, rule.thing_kind, Jsonb(rule.params), Jsonb(rule.title),
         rule.enabled, by, rule.rule_id)).fetchone()[0]


def firing(conn: psycopg.Connection, rule: AlertRule, now: datetime) -> dict[int, dict]:
    """{thing id: the inputs} of the things whose condition holds at `now`."""
    check_rule(rule)
    statement, _ = KINDS[rule.kind]
    params = {**rule.params, "now": now, "thing_kind": rule.thing_kind}
    return dict(conn.execute(statement, params).fetchall())
