"""Run a permit pre-check: every rule in force, one result each, and the verdict."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from gisapp.permits.evaluators import EVALUATORS
from gisapp.permits.overlaps import overlap_shapes
from gisapp.permits.rules import RULES, active_rules
from gisapp.permits.sitemodel import Proposal, Site, gather_site
from gisapp.spatial import to_feature_collection
from gisapp.words import phrase

OUTCOMES = ("pass", "fail", "needs_review", "not_applicable")


def verdict(results: list[dict]) -> str:
    """fail if any result fails, else needs_review if any needs it, else pass."""
    statuses = {r["status"] for r in results}
    if "fail" in statuses:
        return "fail"
    if "needs_review" in statuses:
        return "needs_review"
    return "pass"


def _missing_rule(rule_id: str) -> dict:
    title, text = phrase(f"rule.{rule_id}"), phrase("rule.no_version")
    return {"rule_id": rule_id, "version": None, "title_vi": title["vi"], "title_en": title["en"],
            "status": "needs_review", "measured": None, "limit": None, "unit": None,
            "source": None, "evidence": {},
            "explanation_vi": text["vi"], "explanation_en": text["en"]}


def evaluate(site: Site, proposal: Proposal, rules: dict) -> list[dict]:
    """One result per known rule, in the catalogue's order."""
    return [EVALUATORS[rid](rules[rid], site, proposal) if rid in rules else _missing_rule(rid)
            for rid in RULES]


def run_check(conn: Connection, proposal: Proposal, data_dir: Path,
              on: date | None = None) -> dict:
    """Measure and judge a proposal with the rules in force on `on` (today by default).

    Returns inputs, rule versions, results, verdict, site figures, the overlaps as a WGS 84
    FeatureCollection and the footprint in 5899 (`footprint_5899`, shapely, for storage);
    nothing is written.
    """
    rules = active_rules(conn, on)
    site = gather_site(conn, proposal, rules, data_dir)
    results = evaluate(site, proposal, rules)
    return {
        "parcel_uid": proposal.parcel_uid,
        "inputs": proposal.as_dict(),
        "rule_versions": {rid: r.version for rid, r in rules.items()},
        "results": results,
        "verdict": verdict(results),
        "site": {"parcel_area_m2": round(site.lot_area, 2),
                 "lot_area_m2": round(site.net_lot_area, 2),
                 "footprint_area_m2": round(site.footprint_area, 2), "zones": site.zones},
        "overlaps": to_feature_collection(conn, overlap_shapes(site, rules)),
        "footprint_5899": site.footprint,
    }
