"""The parcel report on the known site (conftest.py, known_site.add_services)."""
import psycopg
import pytest

from gisapp.reports.parcel import parcel_report
from layers import levels_for
from layers.city import CITY
from tests.auth_helpers import auth_headers
from tests.gisapp.permits.known_site import PARCEL_UID, add_services, write_flood_depth


@pytest.fixture(scope="module")
def build_report_site(build_site):
    """The known site plus the services around it (known_site.add_services)."""
    def build(url: str) -> None:
        build_site(url)
        with psycopg.connect(url) as c:
            add_services(c)
    return build


@pytest.fixture()
def scratch_url(kept_world, build_report_site) -> str:
    return kept_world(build_report_site)


@pytest.fixture()
def report_url(site_url):
    return site_url


@pytest.fixture()
def report(report_url, site_engine, tmp_path):
    with site_engine.connect() as conn:
        return parcel_report(conn, PARCEL_UID, levels_for("public"), tmp_path)


def test_constraints_touching_the_parcel_with_area_and_share(report):
    c = report["constraints"]
    assert [(r["reserve_id"], r["overlap_m2"], r["overlap_pct"]) for r in c["road_reserves"]] \
        == [("R1", 20.0, 10.0)]
    assert [(r["zone_id"], r["overlap_m2"], r["overlap_pct"]) for r in c["flood_zones"]] \
        == [("F1", 50.0, 25.0)]
    assert [(r["heritage_id"], r["overlap_m2"]) for r in c["heritage_areas"]] == [("H1", 10.0)]
    # P1's corridor (x 10..14) only touches the parcel's edge; P2's takes x 8.5..10
    assert [(r["pipe_id"], r["overlap_m2"], r["overlap_pct"]) for r in c["drainage_corridors"]] \
        == [("P2", 30.0, 15.0)]


def test_zone_rules_and_qcvn_coverage_for_the_lot(report):
    assert report["zoning"]["zone"]["zone_code"] == "Z1"
    # as the pre-check measures it: the lot net of the road reserve, 200 − 20 = 180 m² → 74 %
    assert report["zoning"]["lot_area_m2"] == pytest.approx(180.0, abs=0.01)
    assert report["zoning"]["qcvn_max_coverage_pct"] == 74.0


def test_terrain_statistics_over_the_parcel(report):
    elevation = report["rasters"]["elevation"]
    assert (elevation["min"], elevation["max"]) == (pytest.approx(1.8), pytest.approx(3.0))
    # 200 one-metre pixels: 50 at 1.8 m (x 0..10, y 0..5), 150 at 3.0 m → mean 2.7 m
    assert (elevation["pixels"], elevation["mean"]) == (200, pytest.approx(2.7))
    assert report["rasters"]["flood_depth"] is None  # no such raster registered


def test_flood_depth_statistics_over_the_parcel(report_url, site_engine, tmp_path):
    tif = tmp_path / "flood_depth.tif"
    write_flood_depth(tif)
    with psycopg.connect(report_url) as c:
        c.execute("INSERT INTO rasters (name, path, crs, width, height, nodata, unit) "
                  "VALUES ('flood_depth', %s, %s, 40, 60, -9999, 'm')", (str(tif), CITY.metric_crs))
    with site_engine.connect() as conn:
        depth = parcel_report(conn, PARCEL_UID, levels_for("public"), tmp_path)["rasters"]
    # 0.4 m over F1's 50 m² of the parcel (x 5..10, y 10..20), dry elsewhere: mean 0.1 m
    assert depth["flood_depth"]["min"] == 0.0
    assert depth["flood_depth"]["mean"] == pytest.approx(0.1)
    assert depth["flood_depth"]["max"] == pytest.approx(0.4)


def test_nearest_manhole_ignores_other_node_kinds(report):
    assert report["nearest_manhole"] == {"node_id": "M1", "distance_m": 5.0}


def test_lighting_around_the_parcel(report):
    lighting = report["lighting"]
    assert lighting["nearest_working_light"] == {"light_id": "L1", "distance_m": 5.0}
    assert lighting["lights_by_status"] == {"working": 1, "out_of_service": 1}
    assert lighting["working_watts"] == 100 and lighting["lit"] is True


def test_wifi_coverage_counts_online_access_points_only(report):
    wifi = report["wifi"]
    assert wifi["access_points"] == ["W1"]
    assert wifi["covered_m2"] == pytest.approx(78.54, rel=5e-4)  # a 256-gon disc
    assert wifi["covered_pct"] == pytest.approx(39.27, rel=5e-4)


def test_public_land_record_hides_staff_fields(report):
    record = report["land_record"]
    assert record["legal_area"] == 200.0 and record["computed_area_m2"] == 200.0
    assert "certificate_no" not in record
    assert record["land_uses"] == [{"land_use": "CLN", "area_m2": 50.0},
                                   {"land_use": "ODT", "area_m2": 150.0}]


def test_report_endpoint_serves_json_and_a_printable_page(scratch_app, report_url):
    client = scratch_app.test_client()
    headers = auth_headers(report_url, "planner")
    doc = client.get(f"/api/parcels/{PARCEL_UID}/report", headers=headers).json
    assert doc["nearest_manhole"]["node_id"] == "M1"
    page = client.get(f"/api/parcels/{PARCEL_UID}/report?f=html")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<svg" in html and 'class="parcel"' in html and 'class="manhole"' in html
    assert "78.5" in html and "M1, 5.0 m" in html


def test_unknown_parcel_report_is_404(scratch_app, report_url):
    resp = scratch_app.test_client().get("/api/parcels/1-2-3-4/report")
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
