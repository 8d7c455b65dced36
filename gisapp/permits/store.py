"""Saved permit checks: store, read (with overrides applied), list, override, export."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import shapely
from sqlalchemy import Connection, bindparam, func, select

from gisapp.db.tables import permit_checks
from gisapp.errors import BadRequest, NotFound
from gisapp.json_input import text_member
from gisapp.permits.checks import OUTCOMES, verdict
from gisapp.permits.rules import RULES
from gisapp.query_args import bounded_int
from gisapp.spatial import METRIC_SRID

MAX_PAGE = 200
MIN_REASON = 10


def save_check(conn: Connection, outcome: dict, officer: str | None) -> int:
    """Store a run_check outcome; returns the check's id."""
    fp = outcome["footprint_5899"]
    geom = None
    if fp is not None:
        wkb = bindparam("fp", shapely.to_wkb(fp), unique=True)
        geom = func.ST_Multi(func.ST_Transform(func.ST_GeomFromWKB(wkb, METRIC_SRID), 4326))
    return conn.execute(permit_checks.insert().values(
        parcel_uid=outcome["parcel_uid"], inputs=outcome["inputs"],
        rule_versions=outcome["rule_versions"],
        results={"results": outcome["results"], "site": outcome["site"]},
        verdict=outcome["verdict"], officer=officer, footprint=geom,
        overlaps=outcome["overlaps"]).returning(permit_checks.c.id)).scalar_one()


def effective_results(results: list[dict], overrides: list[dict]) -> list[dict]:
    """The results with each rule's latest override applied, then the added constraints."""
    out = []
    latest = {o["rule_id"]: o for o in overrides if o.get("rule_id")}
    for r in results:
        o = latest.get(r["rule_id"])
        out.append(r | {"status": o["status"], "computed_status": r["status"], "override": o}
                   if o else r)
    for o in overrides:
        if o.get("constraint"):
            out.append({"rule_id": None, "constraint": o["constraint"], "status": o["status"],
                        "title_vi": o["constraint"], "title_en": o["constraint"],
                        "explanation_vi": o["reason"], "explanation_en": o["reason"],
                        "measured": None, "limit": None, "unit": None, "source": None,
                        "evidence": {}, "override": o})
    return out


def _document(row) -> dict:
    stored = row.results
    results = effective_results(stored["results"], row.overrides)
    return {"id": row.id, "parcel_uid": row.parcel_uid, "inputs": row.inputs,
            "rule_versions": row.rule_versions, "site": stored["site"], "results": results,
            "computed_verdict": verdict(stored["results"]), "verdict": row.verdict,
            "overrides": row.overrides, "officer": row.officer,
            "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}


def get_check(conn: Connection, check_id: int) -> dict:
    """One saved check, overrides applied; NotFound if there is none with this id."""
    row = conn.execute(select(permit_checks).where(permit_checks.c.id == check_id)).first()
    if row is None:
        raise NotFound(f"no permit check {check_id}")
    return _document(row)


@dataclass(frozen=True)
class CheckQuery:
    """Filters for listing checks: parcel, officer, verdict, one page."""

    parcel_uid: str | None = None
    officer: str | None = None
    verdict: str | None = None
    limit: int = 50
    offset: int = 0

    @classmethod
    def parse(cls, args: Any) -> "CheckQuery":
        """From query-string arguments; BadRequest naming the bad one."""
        v = args.get("verdict") or None
        if v is not None and v not in ("pass", "fail", "needs_review"):
            raise BadRequest(f"verdict={v!r}; use pass, fail or needs_review")
        limit = bounded_int(args.get("limit"), "limit", 50, 1, MAX_PAGE)
        offset = bounded_int(args.get("offset"), "offset", 0, 0, None)
        return cls(args.get("parcel_uid") or None, args.get("officer") or None, v, limit, offset)


def list_checks(conn: Connection, q: CheckQuery) -> tuple[list[dict], int]:
    """Matching checks, newest first (summary fields), and the total count."""
    t = permit_checks
    conds = []
    if q.parcel_uid:
        conds.append(t.c.parcel_uid == q.parcel_uid)
    if q.officer:
        conds.append(t.c.officer == q.officer)
    if q.verdict:
        conds.append(t.c.verdict == q.verdict)
    total = conn.execute(select(func.count()).select_from(t).where(*conds)).scalar_one()
    rows = conn.execute(select(t.c.id, t.c.parcel_uid, t.c.verdict, t.c.officer, t.c.inputs,
                               t.c.created_at).where(*conds)
                        .order_by(t.c.created_at.desc(), t.c.id.desc())
                        .limit(q.limit).offset(q.offset))
    return [{"id": r.id, "parcel_uid": r.parcel_uid, "verdict": r.verdict, "officer": r.officer,
             "use": r.inputs.get("use"), "floors": r.inputs.get("floors"),
             "created_at": r.created_at.isoformat()} for r in rows], total


def add_override(conn: Connection, check_id: int, body: Any, officer: str | None) -> dict:
    """Override one rule's outcome, or add a constraint, with a reason; returns the check.

    `body`: {"rule_id", "status", "reason"} or {"constraint", "status", "reason"}. The
    verdict is recomputed from the results with every override applied.
    """
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    rule_id, constraint = text_member(body, "rule_id"), text_member(body, "constraint")
    status, reason = text_member(body, "status"), (text_member(body, "reason") or "").strip()
    if (rule_id is None) == (constraint is None):
        raise BadRequest("give exactly one of rule_id (to override) or constraint (to add)")
    if rule_id is not None and rule_id not in RULES:
        raise BadRequest(f"rule_id {rule_id!r} is not one of {', '.join(RULES)}")
    if constraint is not None and (not isinstance(constraint, str) or not constraint.strip()):
        raise BadRequest("constraint must be a non-empty text naming the added constraint")
    if status not in OUTCOMES:
        raise BadRequest(f"status {status!r} is not one of {', '.join(OUTCOMES)}")
    if len(reason) < MIN_REASON:
        raise BadRequest(f"reason must explain the override in at least {MIN_REASON} characters")
    row = conn.execute(select(permit_checks).where(permit_checks.c.id == check_id)
                       .with_for_update()).first()
    if row is None:
        raise NotFound(f"no permit check {check_id}")
    entry = {"rule_id": rule_id, "constraint": constraint and constraint.strip(),
             "status": status, "reason": reason, "officer": officer,
             "at": datetime.now(timezone.utc).isoformat()}
    overrides = [*row.overrides, entry]
    new_verdict = verdict(effective_results(row.results["results"], overrides))
    conn.execute(permit_checks.update().where(permit_checks.c.id == check_id)
                 .values(overrides=overrides, verdict=new_verdict, updated_at=func.now()))
    return get_check(conn, check_id)


def check_geojson(conn: Connection, check_id: int) -> dict:
    """The check's footprint, parcel and constraint overlaps as a FeatureCollection."""
    row = conn.execute(select(permit_checks.c.overlaps, permit_checks.c.verdict)
                       .where(permit_checks.c.id == check_id)).first()
    if row is None:
        raise NotFound(f"no permit check {check_id}")
    return {**row.overlaps, "properties": {"check_id": check_id, "verdict": row.verdict}}
