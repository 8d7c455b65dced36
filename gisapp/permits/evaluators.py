"""One function per rule: measure the proposal on its site and judge it against the rule.

Each returns a result: status (pass / fail / needs_review / not_applicable), the measured
value and the limit with their unit, the rule's version and source, an explanation in every
language (its words are `rule.*` keys of the dictionaries in static/i18n/), and `evidence`
(the raw intersections behind the figure).
Areas in m² and distances in m, all measured in EPSG:5899.
"""
from __future__ import annotations

import re
from typing import Any, Callable


from gisapp.permits.coverage import max_net_coverage, min_street_setback, pipe_corridor
from gisapp.permits.rules import Rule
from gisapp.permits.sitemodel import Proposal, Site
from gisapp.words import phrase

EPS = 1e-6
MIN_LOT_M2 = 0.01  # below this the parcel is wholly in the reserve (survey rounding)


def _result(rule: Rule, status: str, text: dict[str, str], measured: Any = None,
            limit: Any = None, unit: str | None = None, evidence: dict | None = None) -> dict:
    return {"rule_id": rule.rule_id, "version": rule.version, "title_vi": rule.title_vi,
            "title_en": rule.title_en, "status": status, "measured": measured, "limit": limit,
            "unit": unit, "source": rule.source, "explanation_vi": text["vi"],
            "explanation_en": text["en"], "evidence": evidence or {}}


def _no_zone(rule: Rule) -> dict:
    return _result(rule, "needs_review", phrase("rule.no_zone"))


def _no_footprint(rule: Rule) -> dict:
    return _result(rule, "needs_review", phrase("rule.no_footprint"))


def _use_allowed(use: str, tokens: list[str], use_codes: dict) -> bool:
    """A zone's allowed_uses (use words or land-use codes) admit the use."""
    if use in tokens:
        return True
    codes = {t.upper() for t in tokens}
    return any(all(c in codes for c in alt) for alt in use_codes.get(use, []))


def check_land_use(rule: Rule, site: Site, p: Proposal) -> dict:
    """The proposed use against the zone's allowed uses (codes or words) or its category."""
    if site.zone is None:
        return _no_zone(rule)
    z = site.zone.attrs
    if z.get("allowed_uses"):
        tokens = [u.strip() for u in re.split(r"[,;]", z["allowed_uses"]) if u.strip()]
        allowed = tokens
        ok = _use_allowed(p.use, [t.lower() for t in tokens], rule.params.get("use_codes", {}))
        basis = "allowed_uses"
    else:
        allowed = list(rule.params["category_uses"].get(z["category"], []))
        ok = p.use in allowed
        basis = "category"
    ev = {"zone_code": z["zone_code"], "category": z["category"], "basis": basis}
    if not ok:
        listed = ", ".join(allowed) or phrase("rule.land_use.none_allowed")
        return _result(rule, "fail", phrase("rule.land_use.fail", use=p.use, zone=z["zone_code"],
                                            allowed=listed), p.use, allowed, None, ev)
    if z["category"] in rule.params["review_categories"]:
        return _result(rule, "needs_review", phrase("rule.land_use.review", zone=z["zone_code"],
                                                    category=z["category"]),
                       p.use, allowed, None, ev)
    return _result(rule, "pass", phrase("rule.land_use.pass", use=p.use, zone=z["zone_code"]),
                   p.use, allowed, None, ev)


def check_net_coverage(rule: Rule, site: Site, p: Proposal) -> dict:
    """Footprint ÷ lot net of road reserve against the stricter of QCVN Table 2.8 and the zone."""
    lot = site.net_lot_area
    if lot < MIN_LOT_M2:
        return _result(rule, "fail", phrase("rule.net_coverage.no_lot"), None, None, "%", {"lot_area_m2": round(lot, 2),
                                         "parcel_area_m2": round(site.lot_area, 2)})
    qcvn = round(max_net_coverage(lot, rule.params["breakpoints"]), 2)
    zone_cap = site.zone.attrs.get("max_coverage") if site.zone else None
    limit = qcvn if zone_cap is None else min(qcvn, float(zone_cap))
    measured = round(100.0 * site.footprint_area / lot, 2)
    ev = {"lot_area_m2": round(lot, 2), "parcel_area_m2": round(site.lot_area, 2),
          "legal_area_m2": site.parcel.attrs.get("legal_area"),
          "road_reserve_in_parcel_m2": round(site.lot_area - lot, 2),
          "footprint_area_m2": round(site.footprint_area, 2), "qcvn_limit_pct": qcvn,
          "zone_limit_pct": zone_cap,
          "governing": "qcvn" if zone_cap is None or qcvn <= zone_cap else "zone"}
    ok = site.footprint_area / lot * 100.0 <= limit + EPS
    status = "pass" if ok else "fail"
    return _result(rule, status, phrase(f"rule.net_coverage.{status}", measured=measured,
                                        limit=limit, lot=lot), measured, limit, "%", ev)


def _zone_limit(rule: Rule, site: Site, field: str, value: float, unit: str) -> dict:
    """A proposed figure against the zone's maximum; words are `rule.<rule id>.*`."""
    if site.zone is None:
        return _no_zone(rule)
    cap = site.zone.attrs.get(field)
    ev = {"zone_code": site.zone.attrs["zone_code"], "plan_ref": site.zone.attrs.get("plan_ref")}
    if cap is None:
        return _result(rule, "needs_review", phrase(f"rule.{rule.rule_id}.none"),
                       value, None, unit, ev)
    status = "pass" if value <= cap + EPS else "fail"
    return _result(rule, status, phrase(f"rule.{rule.rule_id}.{status}", value=value, cap=cap,
                                        zone=ev["zone_code"]), value, cap, unit, ev)


def check_floors(rule: Rule, site: Site, p: Proposal) -> dict:
    """Proposed floors against the zone's maximum."""
    return _zone_limit(rule, site, "max_floors", p.floors, "floors")


def check_height(rule: Rule, site: Site, p: Proposal) -> dict:
    """Proposed height against the zone's maximum."""
    return _zone_limit(rule, site, "max_height_m", p.height_m, "m")


def check_inside_parcel(rule: Rule, site: Site, p: Proposal) -> dict:
    """Footprint area outside the parcel boundary."""
    if site.footprint is None:
        return _no_footprint(rule)
    outside = round(site.footprint.difference(site.parcel.geom).area, 2)
    ok = outside <= rule.params["tolerance_m2"]
    status = "pass" if ok else "fail"
    return _result(rule, status, phrase(f"rule.inside_parcel.{status}", outside=outside),
                   outside, rule.params["tolerance_m2"], "m²", {"outside_m2": outside})


def check_red_line(rule: Rule, site: Site, p: Proposal) -> dict:
    """Footprint area inside any road reserve (beyond the red line)."""
    if site.footprint is None:
        return _no_footprint(rule)
    overlaps = [{"reserve_id": r.attrs["reserve_id"], "road_name": r.attrs.get("road_name"),
                 "overlap_m2": round(site.footprint.intersection(r.geom).area, 2)}
                for r in site.reserves]
    total = round(sum(o["overlap_m2"] for o in overlaps), 2)
    ok = total <= rule.params["tolerance_m2"]
    status = "pass" if ok else "fail"
    return _result(rule, status, phrase(f"rule.red_line.{status}", total=total),
                   total, rule.params["tolerance_m2"], "m²", {"reserves": overlaps})


def check_street_setback(rule: Rule, site: Site, p: Proposal) -> dict:
    """Distance from the footprint to each fronting road reserve against its minimum setback."""
    if site.footprint is None:
        return _no_footprint(rule)
    search = rule.params["frontage_search_m"]
    planned = site.zone.attrs.get("min_setback_m") if site.zone else None
    fronts = []
    for r in site.reserves:
        if site.parcel.geom.distance(r.geom) > search:
            continue
        width = r.attrs.get("reserve_width_m") or 0.0
        limit = float(planned) if planned is not None else min_street_setback(
            width, p.height_m, rule.params)
        fronts.append({"reserve_id": r.attrs["reserve_id"], "reserve_width_m": width,
                       "setback_m": round(site.footprint.distance(r.geom), 2), "limit_m": limit,
                       "basis": "zone building line" if planned is not None else "QCVN table"})
    if not fronts:
        return _result(rule, "not_applicable",
                       phrase("rule.street_setback.no_frontage", search=search),
                       evidence={"frontages": []})
    worst = min(fronts, key=lambda f: f["setback_m"] - f["limit_m"])
    ok = all(f["setback_m"] + EPS >= f["limit_m"] for f in fronts)
    basis = (phrase("rule.street_setback.plan") if planned is not None else
             phrase("rule.street_setback.qcvn", width=worst["reserve_width_m"],
                    height=p.height_m))
    status = "pass" if ok else "fail"
    return _result(rule, status, phrase(f"rule.street_setback.{status}",
                                        setback=worst["setback_m"], limit=worst["limit_m"],
                                        basis=basis),
                   worst["setback_m"], worst["limit_m"], "m",
                   {"frontages": fronts})


def check_drainage_corridor(rule: Rule, site: Site, p: Proposal) -> dict:
    """Footprint area inside each nearby pipe's protection corridor."""
    if site.footprint is None:
        return _no_footprint(rule)
    pipes = []
    for pipe in site.pipes:
        width, corridor = pipe_corridor(pipe, rule.params)
        pipes.append({"pipe_id": pipe.attrs["pipe_id"], "diameter_mm": pipe.attrs.get("diameter_mm"),
                      "corridor_m": width, "distance_m": round(site.footprint.distance(pipe.geom), 2),
                      "overlap_m2": round(site.footprint.intersection(corridor).area, 2)})
    hits = [x for x in pipes if x["overlap_m2"] > 0]
    total = round(sum((x["overlap_m2"] for x in pipes), 0.0), 2)
    ok = total <= rule.params["tolerance_m2"]
    status = "pass" if ok else "fail"
    return _result(rule, status, phrase(f"rule.drainage_corridor.{status}", total=total,
                                        pipes=", ".join(h["pipe_id"] for h in hits)),
                   total, rule.params["tolerance_m2"], "m²", {"pipes": pipes})


def _overlaps(site: Site, features: list, key: str, extra: tuple[str, ...]) -> list[dict]:
    lot = site.parcel.geom
    out = []
    for f in features:
        area = lot.intersection(f.geom).area
        if area > 0:
            out.append({key: f.attrs[key], **{k: f.attrs.get(k) for k in extra},
                        "overlap_m2": round(area, 2), "overlap_pct": round(100 * area / lot.area, 2)})
    return out


def check_flood_zone(rule: Rule, site: Site, p: Proposal) -> dict:
    """Parcel area in flood zones, with the flood-depth raster's figures."""
    zones = _overlaps(site, site.floods, "zone_id", ("risk", "typical_depth_m", "return_period"))
    ev = {"flood_zones": zones, "flood_depth": site.flood_depth}
    if not zones:
        return _result(rule, "pass", phrase("rule.flood_zone.pass"), 0.0, None, "m²", ev)
    area = round(sum(z["overlap_m2"] for z in zones), 2)
    worst = max(zones, key=lambda z: ("low", "medium", "high").index(z["risk"]))
    return _result(rule, "needs_review",
                   phrase("rule.flood_zone.review", area=area, risk=worst["risk"],
                          depth=worst["typical_depth_m"]), area, None, "m²", ev)


def check_ground_elevation(rule: Rule, site: Site, p: Proposal) -> dict:
    """Lowest ground over the parcel against the minimum level."""
    stats, level = site.elevation, rule.params["min_ground_level_m"]
    name = rule.params["elevation_raster"]
    if stats is None or stats["pixels"] == 0:
        why = "not_registered" if stats is None else "no_data"
        return _result(rule, "needs_review", phrase(f"rule.ground_elevation.{why}", name=name),
                       None, level, "m", {"elevation": stats})
    status = "pass" if stats["min"] >= level else "needs_review"
    words = "pass" if status == "pass" else "review"
    return _result(rule, status, phrase(f"rule.ground_elevation.{words}", lowest=stats["min"],
                                        level=level), stats["min"], level, "m",
                   {"elevation": stats})


def check_heritage(rule: Rule, site: Site, p: Proposal) -> dict:
    """Parcel area in heritage protection zones; zone I fails, zone II needs review."""
    areas = _overlaps(site, site.heritage, "heritage_id", ("name", "protection_zone", "decision"))
    if not areas:
        return _result(rule, "pass", phrase("rule.heritage.pass"), 0.0, None, "m²",
                       {"areas": []})
    area = round(sum(a["overlap_m2"] for a in areas), 2)
    names = ", ".join(a["name"] for a in areas)
    if any(a["protection_zone"] in rule.params["fail_zones"] for a in areas):
        return _result(rule, "fail", phrase("rule.heritage.fail", names=names), area, None,
                       "m²", {"areas": areas})
    return _result(rule, "needs_review", phrase("rule.heritage.review", names=names), area,
                   None, "m²", {"areas": areas})


EVALUATORS: dict[str, Callable[[Rule, Site, Proposal], dict]] = {
    "land_use": check_land_use, "net_coverage": check_net_coverage, "floors": check_floors,
    "height": check_height, "inside_parcel": check_inside_parcel, "red_line": check_red_line,
    "street_setback": check_street_setback, "drainage_corridor": check_drainage_corridor,
    "flood_zone": check_flood_zone, "ground_elevation": check_ground_elevation,
    "heritage": check_heritage,
}
