"""Permit rules as data: versioned rows of `permit_rules`, read and added here.

A rule's code (what it measures) lives in checks.py; its figures, classes and source
citation live in the table, so an administrator corrects a figure by adding a version.
The version a check uses is the highest enabled one whose valid_from is on or before the
check's date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import distinct_on

from gisapp.db.tables import permit_rules
from gisapp.errors import BadRequest, NotFound
from gisapp.words import phrase

# rule id -> the parameter keys a version must carry; its title is `rule.<id>` in the
# dictionaries (static/i18n/)
RULES: dict[str, tuple[str, ...]] = {
    "land_use": ("category_uses", "review_categories", "use_codes"),
    "net_coverage": ("breakpoints",),
    "floors": (),
    "height": (),
    "inside_parcel": ("tolerance_m2",),
    "red_line": ("tolerance_m2",),
    "street_setback": ("frontage_search_m", "height_columns_m", "rows"),
    "drainage_corridor": ("classes", "unknown_diameter_buffer_m", "tolerance_m2"),
    "flood_zone": ("flood_depth_raster",),
    "ground_elevation": ("elevation_raster", "min_ground_level_m"),
    "heritage": ("fail_zones",),
}


@dataclass(frozen=True)
class Rule:
    """One version of one rule."""

    rule_id: str
    version: int
    params: dict[str, Any]
    source: str
    valid_from: date
    enabled: bool
    note: str | None = None

    @property
    def title(self) -> dict[str, str]:
        """The rule's title in every language."""
        return phrase(f"rule.{self.rule_id}")

    @property
    def title_vi(self) -> str:
        return self.title["vi"]

    @property
    def title_en(self) -> str:
        return self.title["en"]

    def as_dict(self) -> dict:
        return {"rule_id": self.rule_id, "version": self.version, "params": self.params,
                "source": self.source, "valid_from": self.valid_from.isoformat(),
                "enabled": self.enabled, "note": self.note, "title_vi": self.title_vi,
                "title_en": self.title_en}


def _rule(row) -> Rule:
    return Rule(row.rule_id, row.version, row.params, row.source, row.valid_from,
                row.enabled, row.note)


def active_rules(conn: Connection, on: date | None = None) -> dict[str, Rule]:
    """For each rule id, the version in force on `on` (today by default); missing ids absent."""
    on = on or date.today()
    rows = conn.execute(
        select(permit_rules)
        .where(permit_rules.c.enabled, permit_rules.c.valid_from <= on)
        .order_by(permit_rules.c.rule_id, permit_rules.c.version.desc())
        .ext(distinct_on(permit_rules.c.rule_id)))
    return {r.rule_id: _rule(r) for r in rows if r.rule_id in RULES}


def list_rules(conn: Connection, rule_id: str | None = None) -> list[Rule]:
    """Every version of every rule (or of one), by rule then version."""
    q = select(permit_rules).order_by(permit_rules.c.rule_id, permit_rules.c.version)
    if rule_id is not None:
        check_rule_id(rule_id)
        q = q.where(permit_rules.c.rule_id == rule_id)
    return [_rule(r) for r in conn.execute(q)]


def check_rule_id(rule_id: str) -> str:
    """The id, if it names a rule the engine evaluates."""
    if rule_id not in RULES:
        raise NotFound(f"unknown rule {rule_id!r}; rules: {', '.join(RULES)}")
    return rule_id


def add_rule_version(conn: Connection, rule_id: str, params: dict, source: str,
                     valid_from: date, created_by: str | None, note: str | None = None,
                     enabled: bool = True) -> Rule:
    """Store the next version of a rule after checking its parameters; returns it."""
    check_rule_id(rule_id)
    if not isinstance(params, dict):
        raise BadRequest("params must be a JSON object")
    missing = [k for k in RULES[rule_id] if k not in params]
    if missing:
        raise BadRequest(f"rule {rule_id} needs params {', '.join(RULES[rule_id])}; "
                         f"missing {', '.join(missing)}")
    if not source or not source.strip():
        raise BadRequest("source must cite the regulation or decision the figures come from")
    if rule_id == "net_coverage":
        _check_breakpoints(params["breakpoints"])
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(rule_id))))
    last = conn.execute(select(func.max(permit_rules.c.version))
                        .where(permit_rules.c.rule_id == rule_id)).scalar()
    version = (last or 0) + 1
    conn.execute(permit_rules.insert().values(
        rule_id=rule_id, version=version, params=params, source=source.strip(), note=note,
        valid_from=valid_from, enabled=enabled, created_by=created_by))
    return Rule(rule_id, version, params, source.strip(), valid_from, enabled, note)


def _check_breakpoints(points: Any) -> None:
    ok = (isinstance(points, list) and len(points) >= 2
          and all(isinstance(p, list) and len(p) == 2
                  and all(isinstance(v, (int, float)) for v in p) for p in points))
    if not ok:
        raise BadRequest("breakpoints must be a list of at least two [lot area m², coverage %] "
                         "pairs")
    areas = [p[0] for p in points]
    if areas != sorted(areas) or len(set(areas)) != len(areas):
        raise BadRequest("breakpoints must be in strictly increasing lot area")


def set_rule_enabled(conn: Connection, rule_id: str, version: int, enabled: bool) -> Rule:
    """Enable or disable one stored version (versions are never edited or deleted)."""
    check_rule_id(rule_id)
    row = conn.execute(permit_rules.update()
                       .where(permit_rules.c.rule_id == rule_id, permit_rules.c.version == version)
                       .values(enabled=enabled).returning(permit_rules)).first()
    if row is None:
        raise NotFound(f"rule {rule_id} has no version {version}")
    return _rule(row)
