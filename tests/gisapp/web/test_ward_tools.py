"""Planner ward tools in Chromium: unlit street stretches and Wi-Fi coverage drawn over the
map with their figures, and the ward summary.

The known city's ward gets a street across it with one working light near its west end and an
online Wi-Fi access point in its middle, so each tool has something to find."""
from __future__ import annotations

import math

import pytest
from pyproj import Transformer
from shapely import wkt as shapely_wkt
from shapely.geometry import LineString, Point
from shapely.ops import transform

from gisapp.analysis.lighting import WORKING
from gisapp.analysis.wifi import ONLINE
from layers import LAYERS
from layers.city import CITY
from tests.gisapp.web.conftest import (HALF, MAP_IDLE, MAP_READY, add_feature, known_value,
                                       known_wkt)

REACH_M = 25  # how far a light reaches along the street (the form's default)
AP_RANGE_M = 20
TO_METRES = Transformer.from_crs(4326, CITY.metric_srid, always_xy=True).transform


@pytest.fixture(scope="module")
def lit_ward(live_server, city) -> dict:
    """The street, light and access point added to the known ward; the expected figures."""
    x, y = city.centre("wards")
    street = LineString([(x - HALF, y), (x + HALF, y)])
    light, ap = Point(x - HALF * 0.9, y), Point(x, y)  # the light a little inside the ward
    add_feature(live_server.database_url, "roads", street.wkt)
    add_feature(live_server.database_url, "street_lights", light.wkt, status=WORKING)
    add_feature(live_server.database_url, "wifi_aps", ap.wkt, status=ONLINE, range_m=AP_RANGE_M)
    ward = transform(TO_METRES, shapely_wkt.loads(known_wkt(LAYERS["wards"])))
    dark = transform(TO_METRES, street).difference(transform(TO_METRES, light).buffer(REACH_M))
    return {"code": known_value(LAYERS["wards"], "code"), "unlit_m": dark.length,
            "covered_pct": 100 * math.pi * AP_RANGE_M ** 2 / ward.area}


def open_map_as_planner(session, city, live_server) -> None:
    session.sign_in(live_server.database_url, "planner")
    session.page.goto("/")
    lon, lat = city.middle()
    session.page.goto(f"/map#map=16.5/{lat}/{lon}")
    session.page.wait_for_function(MAP_READY, timeout=30_000)
    session.page.evaluate(MAP_IDLE)


def overlay(session) -> list[dict]:
    return session.page.evaluate(
        "map.getSource('gisapp-ward-overlay').serialize().data.features"
        ".map((f) => ({type: f.geometry.type, feature: f.properties.feature}))")


def test_a_planner_sees_a_wards_unlit_street_stretches_drawn(session, city, live_server,
                                                              lit_ward):
    open_map_as_planner(session, city, live_server)
    assert session.page.input_value("#ward-code") == lit_ward["code"]
    session.page.fill("#ward-distance", str(REACH_M))
    session.page.click("#ward-unlit")
    figures = session.page.locator("#ward-result dl[data-tool='unlit']")
    figures.wait_for()
    assert figures.get_attribute("data-stretches") == "1"
    assert float(figures.get_attribute("data-metres")) == pytest.approx(lit_ward["unlit_m"], rel=0.01)
    assert [f["type"] for f in overlay(session)] == ["LineString"]
    session.page.evaluate(MAP_IDLE)
    session.page.locator("#ward-result").scroll_into_view_if_needed()
    session.screenshot("map_lighting_gaps")
    session.page.click("#ward-clear")
    assert overlay(session) == []
    assert session.console_errors == []


def test_a_planner_sees_a_wards_wifi_coverage_drawn(session, city, live_server, lit_ward):
    open_map_as_planner(session, city, live_server)
    session.page.click("#ward-wifi")
    figures = session.page.locator("#ward-result dl[data-tool='coverage']")
    figures.wait_for()
    covered = float(figures.get_attribute("data-covered-pct"))
    assert covered == pytest.approx(lit_ward["covered_pct"], rel=0.02)
    assert "coverage" in [f["feature"] for f in overlay(session)]
    session.page.evaluate(MAP_IDLE)
    session.page.locator("#ward-result").scroll_into_view_if_needed()
    session.screenshot("map_wifi_coverage")
    assert session.console_errors == []


def test_a_planner_reads_the_ward_summary_in_english(session, city, live_server, lit_ward):
    open_map_as_planner(session, city, live_server)
    session.page.click("#ward-summary")
    summary = session.page.locator(f"#ward-result .ward-summary[data-ward='{lit_ward['code']}']")
    summary.wait_for()
    lights = summary.locator("table.lights tbody tr")
    assert [lights.nth(i).inner_text().split("\t") for i in range(lights.count())] == [[WORKING, "1"]]
    session.page.click("a[data-lang-switch='en']")
    session.page.wait_for_function(
        "() => document.querySelector('#ward-result table.lights caption')?.textContent"
        " === 'Street lights by status'")
    session.page.locator("#ward-result").scroll_into_view_if_needed()
    session.screenshot("map_ward_summary")
    assert session.console_errors == []


def test_the_ward_tools_have_no_serious_accessibility_violations(session, city, live_server,
                                                                  lit_ward):
    open_map_as_planner(session, city, live_server)
    session.page.click("#ward-summary")
    session.page.locator("#ward-result .ward-summary").wait_for()
    violations = session.axe_violations()
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
