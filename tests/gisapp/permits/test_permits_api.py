"""The permit API: officers run, read, list, print, export and override checks; admins add rules."""
import psycopg
import pytest

from layers.city import CITY
from tests.auth_helpers import auth_headers
from tests.gisapp.permits.known_site import PARCEL_UID, footprint

BODY = {"parcel_uid": PARCEL_UID, "use": "residential", "floors": 5, "height_m": 21.0,
        "footprint": footprint(1, 5, 9, 19), "footprint_crs": CITY.metric_crs}


@pytest.fixture()
def officer(site_url):
    return auth_headers(site_url, "permit_officer")


@pytest.fixture()
def api(scratch_app, site_url):
    return scratch_app.test_client()


def test_officer_runs_a_check_and_it_is_saved_with_inputs_and_rule_versions(api, officer,
                                                                            site_url):
    resp = api.post("/api/permits/checks", json=BODY, headers=officer)
    assert resp.status_code == 201, resp.json
    check = resp.json
    assert check["verdict"] == "needs_review" and check["officer"] == "test-permit_officer"
    assert check["inputs"]["floors"] == 5 and check["rule_versions"]["net_coverage"] == 1
    again = api.get(resp.headers["Location"], headers=officer).json
    assert again["results"] == check["results"]
    with psycopg.connect(site_url) as c:
        action, target = c.execute("SELECT action, target FROM audit_log").fetchone()
        area = c.execute("SELECT round(ST_Area(ST_Transform(footprint, %s))::numeric, 2) "
                         "FROM permit_checks", (CITY.metric_srid,)).fetchone()[0]
    assert (action, target) == ("permit_check.create", f"permit_check:{check['id']}")
    assert float(area) == 112.0


@pytest.mark.parametrize("role, status", [("public", 401), ("planner", 403)])
def test_only_officers_may_run_checks(api, site_url, role, status):
    resp = api.post("/api/permits/checks", json=BODY, headers=auth_headers(site_url, role))
    assert resp.status_code == status


def test_bad_input_is_a_400_naming_the_field(api, officer):
    resp = api.post("/api/permits/checks", json={**BODY, "floors": "five"}, headers=officer)
    assert resp.status_code == 400 and "floors" in resp.json["error"]["message"]


def test_checks_are_listed_newest_first_and_filtered(api, officer):
    first = api.post("/api/permits/checks", json=BODY, headers=officer).json["id"]
    second = api.post("/api/permits/checks", json={**BODY, "height_m": 23.0},
                      headers=officer).json["id"]
    listing = api.get("/api/permits/checks", headers=officer).json
    assert [c["id"] for c in listing["checks"]] == [second, first]
    failed = api.get("/api/permits/checks?verdict=fail", headers=officer).json
    assert [c["id"] for c in failed["checks"]] == [second]


def test_geojson_export_holds_footprint_and_overlaps(api, officer):
    check_id = api.post("/api/permits/checks", json={**BODY, "footprint": footprint(1, 1, 9, 19)},
                        headers=officer).json["id"]
    fc = api.get(f"/api/permits/checks/{check_id}?f=geojson", headers=officer).json
    areas = {(f["properties"]["kind"], f["properties"].get("id")): f["properties"]["area_m2"]
             for f in fc["features"]}
    assert areas[("footprint", None)] == 144.0
    assert areas[("road_reserve", "R1")] == 8.0
    assert areas[("flood_zone", "F1")] == 50.0 and areas[("heritage_area", "H1")] == 10.0
    assert fc["properties"]["verdict"] == "fail"


def test_printable_page_renders_the_results_and_a_map(api, officer):
    check_id = api.post("/api/permits/checks", json=BODY, headers=officer).json["id"]
    resp = api.get(f"/api/permits/checks/{check_id}?f=html", headers=officer)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "<svg" in html and 'class="footprint"' in html and 'class="road_reserve"' not in html
    assert "Mật độ xây dựng thuần tối đa" in html and "62.22" in html


def test_override_changes_the_verdict_and_is_audited(api, officer, site_url):
    check_id = api.post("/api/permits/checks", json={**BODY, "height_m": 23.0},
                        headers=officer).json["id"]
    url = f"/api/permits/checks/{check_id}/overrides"
    for rule_id in ("height", "street_setback", "flood_zone", "ground_elevation", "heritage"):
        resp = api.post(url, json={"rule_id": rule_id, "status": "pass",
                                   "reason": "Approved variance, decision 12/QĐ-UBND"},
                        headers=officer)
        assert resp.status_code == 200, resp.json
    assert resp.json["verdict"] == "pass" and resp.json["computed_verdict"] == "fail"
    height = next(r for r in resp.json["results"] if r["rule_id"] == "height")
    assert (height["status"], height["computed_status"]) == ("pass", "fail")
    added = api.post(url, json={"constraint": "Tuyến cáp ngầm 22 kV", "status": "needs_review",
                                "reason": "Cable route on the utility map"}, headers=officer)
    assert added.json["verdict"] == "needs_review"
    with psycopg.connect(site_url) as c:
        n = c.execute("SELECT count(*) FROM audit_log WHERE action = 'permit_check.override'")
        assert n.fetchone()[0] == 6


def test_override_without_a_reason_is_refused(api, officer):
    check_id = api.post("/api/permits/checks", json=BODY, headers=officer).json["id"]
    resp = api.post(f"/api/permits/checks/{check_id}/overrides",
                    json={"rule_id": "height", "status": "pass"}, headers=officer)
    assert resp.status_code == 400 and "reason" in resp.json["error"]["message"]


def test_admin_adds_a_rule_version_that_later_checks_use(api, site_url, officer):
    admin = auth_headers(site_url, "admin")
    resp = api.post("/api/permits/rules/floors/versions",
                    json={"params": {}, "source": "test decision", "valid_from": "2022-01-01"},
                    headers=admin)
    assert resp.status_code == 201 and resp.json["version"] == 2
    assert api.post("/api/permits/rules/floors/versions", json={}, headers=officer)\
        .status_code == 403
    check = api.post("/api/permits/checks", json=BODY, headers=officer).json
    assert check["rule_versions"]["floors"] == 2
    listed = api.get("/api/permits/rules?rule_id=floors", headers=officer).json["rules"]
    assert [r["version"] for r in listed] == [1, 2]


def test_admin_disables_a_version_and_the_previous_one_applies_again(api, site_url, officer):
    admin = auth_headers(site_url, "admin")
    api.post("/api/permits/rules/floors/versions",
             json={"params": {}, "source": "test decision", "valid_from": "2022-01-01"},
             headers=admin)
    resp = api.patch("/api/permits/rules/floors/versions/2", json={"enabled": False},
                     headers=admin)
    assert resp.status_code == 200 and resp.json["enabled"] is False
    check = api.post("/api/permits/checks", json=BODY, headers=officer).json
    assert check["rule_versions"]["floors"] == 1
    assert api.patch("/api/permits/rules/floors/versions/9", json={"enabled": True},
                     headers=admin).status_code == 404
    with psycopg.connect(site_url) as c:
        n = c.execute("SELECT count(*) FROM audit_log WHERE action = 'permit_rule.set_enabled'")
        assert n.fetchone()[0] == 1
