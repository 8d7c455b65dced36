"""Permit pre-checks and their rules: run, save, read, list, print, export, override."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, render_template, request

from gisapp.audit import audit
from gisapp.auth import current_user, require_role
from gisapp.context import engine, settings
from gisapp.errors import BadRequest
from gisapp.json_input import text_member
from gisapp.permits.checks import run_check
from gisapp.permits.rules import add_rule_version, check_rule_id, list_rules, set_rule_enabled
from gisapp.permits.sitemodel import Proposal
from gisapp.permits.store import (CheckQuery, add_override, check_geojson, get_check,
                                  list_checks, save_check)
from gisapp.reports.svg_map import from_wgs84, render_svg

bp = Blueprint("permits", __name__, url_prefix="/api/permits")
OFFICERS = ("permit_officer", "admin")
FORMATS = ("json", "html", "geojson")


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object body (Content-Type: application/json)")
    return body


@bp.post("/checks")
@require_role(*OFFICERS)
def create_check():
    """Run a pre-check of a proposed building on a parcel and save it (201)."""
    proposal = Proposal.parse(_body())
    with engine().begin() as conn:
        outcome = run_check(conn, proposal, settings().data_dir)
        check_id = save_check(conn, outcome, current_user())
        audit("permit_check.create", f"permit_check:{check_id}",
              {"parcel_uid": proposal.parcel_uid, "verdict": outcome["verdict"]}, conn=conn)
        doc = get_check(conn, check_id)
    return jsonify(doc), 201, {"Location": f"/api/permits/checks/{check_id}"}


@bp.get("/checks")
@require_role(*OFFICERS)
def checks_list():
    """Saved checks, newest first; filter by parcel_uid, officer, verdict."""
    q = CheckQuery.parse(request.args)
    with engine().connect() as conn:
        rows, total = list_checks(conn, q)
    return jsonify({"checks": rows, "numberMatched": total, "numberReturned": len(rows),
                    "limit": q.limit, "offset": q.offset})


@bp.get("/checks/<int:check_id>")
@require_role(*OFFICERS)
def check_detail(check_id: int):
    """One check: JSON, ?f=html (printable, with a small map) or ?f=geojson (overlaps)."""
    fmt = request.args.get("f", "json")
    if fmt not in FORMATS:
        raise BadRequest(f"f={fmt!r}; use one of {', '.join(FORMATS)}")
    with engine().connect() as conn:
        if fmt == "geojson":
            fc = check_geojson(conn, check_id)
            return jsonify(fc), 200, {"Content-Type": "application/geo+json"}
        doc = get_check(conn, check_id)
        if fmt == "json":
            return jsonify(doc)
        fc = check_geojson(conn, check_id)
    shapes = [(f["properties"]["kind"], from_wgs84(f["geometry"])) for f in fc["features"]]
    return render_template("permits/check.html", check=doc, svg=render_svg(shapes))


@bp.post("/checks/<int:check_id>/overrides")
@require_role(*OFFICERS)
def check_override(check_id: int):
    """Override a rule's outcome or add a constraint, with a reason; audited."""
    body = _body()
    with engine().begin() as conn:
        doc = add_override(conn, check_id, body, current_user())
        audit("permit_check.override", f"permit_check:{check_id}", doc["overrides"][-1],
              conn=conn)
    return jsonify(doc)


@bp.get("/rules")
@require_role("planner", *OFFICERS)
def rules_list():
    """Every version of every rule (or ?rule_id=…)."""
    with engine().connect() as conn:
        rules = list_rules(conn, request.args.get("rule_id") or None)
    return jsonify({"rules": [r.as_dict() for r in rules]})


@bp.post("/rules/<rule_id>/versions")
@require_role("admin")
def rules_add_version(rule_id: str):
    """Add a rule version: {params, source, valid_from (YYYY-MM-DD), note?, enabled?}; audited."""
    check_rule_id(rule_id)
    body = _body()
    try:
        valid_from = date.fromisoformat(body.get("valid_from") or "")
    except (TypeError, ValueError):
        raise BadRequest("valid_from must be a date, YYYY-MM-DD") from None
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BadRequest("enabled must be true or false")
    with engine().begin() as conn:
        rule = add_rule_version(conn, rule_id, body.get("params"),
                                text_member(body, "source") or "", valid_from, current_user(),
                                text_member(body, "note"), enabled)
        audit("permit_rule.add_version", f"permit_rule:{rule_id}:{rule.version}",
              rule.as_dict(), conn=conn)
    return jsonify(rule.as_dict()), 201


@bp.patch("/rules/<rule_id>/versions/<int:version>")
@require_role("admin")
def rules_set_enabled(rule_id: str, version: int):
    """Enable or disable a rule version: {enabled: true|false}; audited."""
    enabled = _body().get("enabled")
    if not isinstance(enabled, bool):
        raise BadRequest("enabled must be true or false")
    with engine().begin() as conn:
        rule = set_rule_enabled(conn, rule_id, version, enabled)
        audit("permit_rule.set_enabled", f"permit_rule:{rule_id}:{version}",
              {"enabled": enabled}, conn=conn)
    return jsonify(rule.as_dict())
