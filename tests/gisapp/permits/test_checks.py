"""Every rule's measured value and verdict on the known site, against hand-computed figures.

The site is described in conftest.py. The base proposal: a residential house of 5 floors,
21 m high, footprint x 1..9, y 5..19 (8 × 14 = 112 m²).
"""
import psycopg
import pytest
from pyproj import Transformer

from gisapp.errors import BadRequest, NotFound
from gisapp.permits.checks import run_check
from gisapp.permits.sitemodel import Proposal
from layers.city import CITY
from tests.gisapp.permits.known_site import (PARCEL_UID, footprint, rect, to_4326,
                                            write_flood_depth)

BASE = {"parcel_uid": PARCEL_UID, "use": "residential", "floors": 5, "height_m": 21.0,
        "footprint": footprint(1, 5, 9, 19), "footprint_crs": CITY.metric_crs}


def check(engine, tmp_path, **changes) -> dict:
    body = {**BASE, **changes}
    with engine.connect() as conn:
        return run_check(conn, Proposal.parse(body), tmp_path)


def by_rule(out: dict) -> dict:
    return {r["rule_id"]: r for r in out["results"]}


def test_base_proposal_measures_every_rule(site_engine, tmp_path):
    out = check(site_engine, tmp_path)
    r = by_rule(out)
    assert out["site"]["parcel_area_m2"] == pytest.approx(200.0, abs=0.01)
    assert out["site"]["lot_area_m2"] == pytest.approx(180.0, abs=0.01)  # 20 m² in the reserve
    assert r["land_use"]["status"] == "pass"
    # 112 / 180 = 62.22 %; QCVN at 180 m²: 90 − 20 × 0.8 = 74 %, stricter than the zone's 80 %
    assert (r["net_coverage"]["measured"], r["net_coverage"]["limit"]) == (62.22, 74.0)
    assert r["net_coverage"]["evidence"]["governing"] == "qcvn"
    assert r["net_coverage"]["status"] == "pass"
    assert (r["floors"]["measured"], r["floors"]["limit"], r["floors"]["status"]) == (5, 5, "pass")
    assert (r["height"]["measured"], r["height"]["limit"], r["height"]["status"]) == (21, 22, "pass")
    assert (r["inside_parcel"]["measured"], r["inside_parcel"]["status"]) == (0.0, "pass")
    assert (r["red_line"]["measured"], r["red_line"]["status"]) == (0.0, "pass")
    # red line at y = 2, footprint from y = 5: 3 m; 14 m street, 21 m high → column 22 m → 3 m
    assert (r["street_setback"]["measured"], r["street_setback"]["limit"]) == (3.0, 3.0)
    assert r["street_setback"]["status"] == "pass"
    pipe = r["drainage_corridor"]["evidence"]["pipes"][0]
    assert (pipe["pipe_id"], pipe["corridor_m"], pipe["distance_m"], pipe["overlap_m2"]) == \
        ("P1", 2.0, 3.0, 0.0)
    assert r["drainage_corridor"]["status"] == "pass"
    zone = r["flood_zone"]["evidence"]["flood_zones"][0]
    assert (zone["overlap_m2"], zone["overlap_pct"]) == (50.0, 25.0)
    assert r["flood_zone"]["status"] == "needs_review"
    assert (r["ground_elevation"]["measured"], r["ground_elevation"]["status"]) == \
        (pytest.approx(1.8), "needs_review")
    assert r["ground_elevation"]["evidence"]["elevation"]["max"] == pytest.approx(3.0)
    area = r["heritage"]["evidence"]["areas"][0]
    assert (area["overlap_m2"], area["overlap_pct"], r["heritage"]["status"]) == \
        (10.0, 5.0, "needs_review")
    assert out["verdict"] == "needs_review"
    assert out["rule_versions"]["net_coverage"] == 1


def test_every_result_cites_its_source_and_explains_in_both_languages(site_engine, tmp_path):
    for result in check(site_engine, tmp_path)["results"]:
        assert result["source"] and result["explanation_vi"] and result["explanation_en"]
        assert result["status"] in ("pass", "fail", "needs_review", "not_applicable")


def test_footprint_across_the_red_line_fails_red_line_setback_and_coverage(site_engine, tmp_path):
    r = by_rule(check(site_engine, tmp_path, footprint=footprint(1, 1, 9, 19)))
    assert (r["red_line"]["measured"], r["red_line"]["status"]) == (8.0, "fail")  # 8 × 1
    assert (r["street_setback"]["measured"], r["street_setback"]["status"]) == (0.0, "fail")
    assert (r["net_coverage"]["measured"], r["net_coverage"]["status"]) == (80.0, "fail")  # 144/180


def test_taller_building_needs_the_wider_setback_and_breaks_the_height_cap(site_engine, tmp_path):
    out = check(site_engine, tmp_path, height_m=23.0)
    r = by_rule(out)
    assert (r["street_setback"]["measured"], r["street_setback"]["limit"]) == (3.0, 4.0)
    assert r["street_setback"]["status"] == "fail"
    assert (r["height"]["measured"], r["height"]["status"]) == (23.0, "fail")
    assert out["verdict"] == "fail"


def test_footprint_outside_the_parcel_and_in_the_pipe_corridor_fails(site_engine, tmp_path):
    # x 1..11, y 5..19: 1 × 14 = 14 m² beyond x = 10; corridor x 10..14 takes the same 14 m²
    r = by_rule(check(site_engine, tmp_path, footprint=footprint(1, 5, 11, 19)))
    assert (r["inside_parcel"]["measured"], r["inside_parcel"]["status"]) == (14.0, "fail")
    assert (r["drainage_corridor"]["measured"], r["drainage_corridor"]["status"]) == (14.0, "fail")


def test_zone_cap_governs_coverage_when_stricter(site_engine, site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("UPDATE zoning SET max_coverage = 60")
    r = by_rule(check(site_engine, tmp_path))["net_coverage"]
    assert (r["measured"], r["limit"], r["status"]) == (62.22, 60.0, "fail")
    assert r["evidence"]["governing"] == "zone"


def test_planned_building_line_replaces_the_qcvn_setback(site_engine, site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("UPDATE zoning SET min_setback_m = 5")
    r = by_rule(check(site_engine, tmp_path))["street_setback"]
    assert (r["measured"], r["limit"], r["status"]) == (3.0, 5.0, "fail")
    assert r["evidence"]["frontages"][0]["basis"] == "zone building line"


def test_use_outside_the_zone_fails_land_use(site_engine, tmp_path):
    r = by_rule(check(site_engine, tmp_path, use="commercial"))["land_use"]
    assert (r["status"], r["measured"], r["limit"]) == ("fail", "commercial", ["residential"])


def test_zone_allowed_uses_override_the_category_default(site_engine, site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("UPDATE zoning SET allowed_uses = 'residential, commercial'")
    r = by_rule(check(site_engine, tmp_path, use="commercial"))["land_use"]
    assert (r["status"], r["evidence"]["basis"]) == ("pass", "allowed_uses")


@pytest.mark.parametrize("allowed, use, status", [
    ("ODT;CLN;TMD", "residential", "pass"), ("ODT;CLN;TMD", "mixed", "pass"),
    ("ODT;CLN;TMD", "industrial", "fail"), ("TMD", "mixed", "fail"),
    ("DGD;DYT;TSC", "public", "pass"), ("DGD;DYT;TSC", "residential", "fail"),
])
def test_zone_land_use_codes_admit_the_uses_that_need_them(site_engine, site_url, tmp_path,
                                                           allowed, use, status):
    with psycopg.connect(site_url) as c:
        c.execute("UPDATE zoning SET allowed_uses = %s", (allowed,))
    r = by_rule(check(site_engine, tmp_path, use=use))["land_use"]
    assert (r["status"], r["version"]) == (status, 2)


def test_clear_site_passes_with_negative_findings(site_engine, site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("DELETE FROM flood_zones; DELETE FROM heritage_areas")
        c.execute("UPDATE permit_rules SET params = jsonb_set(params, '{min_ground_level_m}', "
                  "'1.5') WHERE rule_id = 'ground_elevation'")
    out = check(site_engine, tmp_path)
    r = by_rule(out)
    assert r["flood_zone"]["explanation_en"] == "The parcel is not in a flood zone."
    assert r["heritage"]["explanation_en"] == "No heritage area touches the parcel."
    assert r["ground_elevation"]["status"] == "pass"  # lowest 1.8 m ≥ 1.5 m
    assert out["verdict"] == "pass"


def test_protection_zone_one_fails_heritage(site_engine, site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("UPDATE heritage_areas SET protection_zone = 'I'")
    assert by_rule(check(site_engine, tmp_path))["heritage"]["status"] == "fail"


def test_missing_elevation_raster_needs_review(site_engine, site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("DELETE FROM rasters")
    r = by_rule(check(site_engine, tmp_path))["ground_elevation"]
    assert r["status"] == "needs_review" and "not registered" in r["explanation_en"]


def test_footprint_area_alone_judges_coverage_and_leaves_geometry_rules_for_review(
        site_engine, tmp_path):
    r = by_rule(check(site_engine, tmp_path, footprint=None, footprint_area_m2=150.0))
    assert (r["net_coverage"]["measured"], r["net_coverage"]["status"]) == (83.33, "fail")
    for rid in ("inside_parcel", "red_line", "street_setback", "drainage_corridor"):
        assert r[rid]["status"] == "needs_review", rid


def test_wgs84_footprint_measures_like_its_vn2000_original(site_engine, tmp_path):
    to_wgs = Transformer.from_crs(CITY.metric_srid, 4326, always_xy=True)
    ring = footprint(1, 5, 9, 19)["coordinates"][0]
    wgs = {"type": "Polygon", "coordinates": [[list(to_wgs.transform(x, y)) for x, y in ring]]}
    r = by_rule(check(site_engine, tmp_path, footprint=wgs, footprint_crs=None))
    assert r["net_coverage"]["measured"] == 62.22
    assert r["street_setback"]["measured"] == 3.0


def test_unknown_parcel_is_not_found(site_engine, tmp_path):
    with pytest.raises(NotFound, match="no parcel"):
        check(site_engine, tmp_path, parcel_uid="1-2-3-4")


@pytest.mark.parametrize("changes, message", [
    ({"use": "casino"}, "use 'casino'"),
    ({"floors": 0}, "floors"),
    ({"height_m": -3}, "height_m"),
    ({"footprint_area_m2": 100.0}, "exactly one"),
    ({"footprint_crs": "EPSG:3857"}, "not accepted"),
    ({"footprint": {"type": "Point", "coordinates": [550801, 1776401]}}, "Polygon"),
])
def test_bad_proposals_are_refused_with_the_reason(site_engine, tmp_path, changes, message):
    with pytest.raises(BadRequest, match=message):
        check(site_engine, tmp_path, **changes)


def test_more_floors_than_the_zone_allows_fails_floors(site_engine, tmp_path):
    out = check(site_engine, tmp_path, floors=6)
    r = by_rule(out)["floors"]
    assert (r["measured"], r["limit"], r["unit"], r["status"]) == (6, 5, "floors", "fail")
    assert out["verdict"] == "fail"


def test_zone_without_caps_leaves_floors_and_height_for_review(site_engine, site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("UPDATE zoning SET max_floors = NULL, max_height_m = NULL")
    r = by_rule(check(site_engine, tmp_path))
    assert (r["floors"]["measured"], r["floors"]["limit"], r["floors"]["status"]) == \
        (5, None, "needs_review")
    assert (r["height"]["measured"], r["height"]["status"]) == (21.0, "needs_review")
    assert r["height"]["explanation_en"] == "The zone sets no maximum height."


def test_parcel_in_no_zone_judges_coverage_by_qcvn_alone(site_engine, site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("DELETE FROM zoning")
    out = check(site_engine, tmp_path)
    r = by_rule(out)
    for rid in ("land_use", "floors", "height"):
        assert r[rid]["status"] == "needs_review", rid
    # no zone cap: QCVN's 74 % at 180 m² governs; 62.22 % passes
    assert (r["net_coverage"]["limit"], r["net_coverage"]["status"]) == (74.0, "pass")
    assert r["net_coverage"]["evidence"]["governing"] == "qcvn"
    assert out["site"]["zones"] == []


def test_parcel_facing_no_reserve_has_no_setback_or_red_line_to_meet(site_engine, site_url,
                                                                     tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("DELETE FROM road_reserves")
    out = check(site_engine, tmp_path)
    r = by_rule(out)
    assert r["street_setback"]["status"] == "not_applicable"
    assert r["street_setback"]["evidence"] == {"frontages": []}
    assert (r["red_line"]["measured"], r["red_line"]["status"]) == (0.0, "pass")
    # the whole 200 m² is lot now: QCVN 70 % at 200 m², 112/200 = 56 %
    assert (r["net_coverage"]["measured"], r["net_coverage"]["limit"]) == (56.0, 70.0)
    assert out["site"]["lot_area_m2"] == pytest.approx(200.0, abs=0.01)


def test_a_rule_with_no_version_in_force_needs_review_by_hand(site_engine, site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("UPDATE permit_rules SET enabled = false WHERE rule_id = 'heritage'")
    out = check(site_engine, tmp_path)
    r = by_rule(out)["heritage"]
    assert (r["status"], r["version"], r["source"]) == ("needs_review", None, None)
    assert r["explanation_en"] == "No version of this rule is in force; check by hand."
    assert "heritage" not in out["rule_versions"]


def test_flood_zone_result_carries_the_depth_raster_figures(site_engine, site_url, tmp_path):
    tif = tmp_path / "flood_depth.tif"
    write_flood_depth(tif)
    with psycopg.connect(site_url) as c:
        c.execute("INSERT INTO rasters (name, path, crs, width, height, nodata, unit) "
                  "VALUES ('flood_depth', %s, %s, 40, 60, -9999, 'm')", (str(tif), CITY.metric_crs))
    depth = by_rule(check(site_engine, tmp_path))["flood_zone"]["evidence"]["flood_depth"]
    # 50 of the parcel's 200 one-metre pixels at 0.4 m, the rest 0: mean 0.1 m
    assert (depth["pixels"], depth["min"], depth["max"]) == (200, 0.0, pytest.approx(0.4))
    assert depth["mean"] == pytest.approx(0.1)



def test_crossing_reserves_at_a_corner_lot_are_subtracted_once(site_engine, site_url, tmp_path):
    # R2 (x -20..1) crosses R1 (y -12..2): 20 + 20 m² of the parcel, 2 m² (x 0..1, y 0..2) in both
    with psycopg.connect(site_url) as c:
        c.execute("INSERT INTO road_reserves (reserve_id, road_name, reserve_width_m, geom) "
                  "VALUES ('R2', 'Trần Phú', 21.0, " + to_4326("%s") + ")",
                  (rect(-20, -50, 1, 50),))
    out = check(site_engine, tmp_path)
    r = by_rule(out)["net_coverage"]
    assert out["site"]["lot_area_m2"] == pytest.approx(162.0, abs=0.01)
    assert r["evidence"]["road_reserve_in_parcel_m2"] == pytest.approx(38.0, abs=0.01)
    # 112 / 162 = 69.14 %; QCVN at 162 m²: 90 − 20 × 0.62 = 77.6 %
    assert (r["measured"], r["limit"], r["status"]) == (69.14, 77.6, "pass")


def test_parcel_wholly_in_the_road_reserve_fails_coverage_instead_of_erroring(site_engine,
                                                                              site_url, tmp_path):
    with psycopg.connect(site_url) as c:
        c.execute("UPDATE road_reserves SET geom = " + to_4326("%s"), (rect(-20, -12, 30, 40),))
    out = check(site_engine, tmp_path)
    r = by_rule(out)
    assert (r["net_coverage"]["status"], r["net_coverage"]["measured"]) == ("fail", None)
    assert r["net_coverage"]["evidence"]["lot_area_m2"] == pytest.approx(0.0, abs=0.01)
    assert (r["red_line"]["measured"], r["red_line"]["status"]) == (112.0, "fail")
    assert out["verdict"] == "fail"
