"""The flood now-cast on the map in Chromium: after the known storm, the wet ward's street
and parcels are drawn by risk, the panel gives the inputs and the disclaimer, a click
explains a parcel, and the horizon selector asks again."""
from __future__ import annotations

from typing import Iterator

import pytest
from pyproj import Transformer

from layers.city import CITY
from tests.gisapp.nowcast.known_storm import E0, N0, SCENARIOS, build_site, write_elevation
from tests.gisapp.web.conftest import MAP_IDLE, MAP_READY, LiveServer, browse, serve

TO_LONLAT = Transformer.from_crs(CITY.metric_srid, 4326, always_xy=True).transform
READY = "() => ['ready', 'error'].includes(document.getElementById('map-app').dataset.nowcast)"


@pytest.fixture(scope="module")
def storm_server(own_database, tmp_path_factory, map_assets) -> Iterator[LiveServer]:
    url = own_database("nowcast_map")
    data_dir = tmp_path_factory.mktemp("data")
    write_elevation(data_dir / "elevation.tif")
    build_site(url, data_dir / "elevation.tif")
    with serve(url, data_dir, map_assets) as server:
        yield server


def _drawn(page) -> list[dict]:
    return page.evaluate("map.queryRenderedFeatures({layers: ['nowcast-parcels', "
                         "'nowcast-streets']}).map((f) => ({kind: f.properties.kind, "
                         "risk: f.properties.risk}))")


def test_the_nowcast_layer_shows_the_storm_and_explains_it(browser, storm_server):
    lon, lat = TO_LONLAT(E0 + 150, N0 + 220)
    with browse(browser, storm_server) as session:
        page = session.page
        page.goto(f"/map#map=17/{lat}/{lon}")
        page.wait_for_function(MAP_READY, timeout=30_000)
        toggle = page.locator("fieldset.theme[data-theme='hazards'] #toggle-nowcast")
        assert toggle.is_visible() and not toggle.is_checked()
        assert page.locator("label[for='toggle-nowcast']").inner_text() == "Dự báo ngập"
        page.evaluate("(iso) => import('/static/js/map/nowcast.js')"
                      ".then((m) => m.setNowcastTime(iso))", SCENARIOS["storm"].isoformat())
        toggle.check()
        page.wait_for_function(READY, timeout=30_000)
        page.evaluate(MAP_IDLE)
        status = page.locator(".nowcast-status").inner_text()
        assert status == "Nguy cơ cao: 5, trung bình: 0, thấp: 0"
        assert "TB-W1" in page.locator(".nowcast-inputs").inner_text()
        assert "không phải mô hình thủy lực" in page.locator(".nowcast-disclaimer").inner_text()
        drawn = _drawn(page)
        assert {d["kind"] for d in drawn} == {"street", "parcel"}
        assert {d["risk"] for d in drawn} == {"high"}
        # a click on parcel W1-W1-1-1 (x 40..60, y 215..245) explains it
        x, y = page.evaluate("([lon, lat]) => { const p = map.project([lon, lat]); "
                             "return [p.x, p.y]; }", list(TO_LONLAT(E0 + 50, N0 + 240)))
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + y)
        explain = page.locator(".maplibregl-popup .nowcast-explain").first
        explain.wait_for()
        text = explain.inner_text()
        assert "Trạm bơm TB-W1 dừng" in text and "Điểm trũng" in text and "FZ-W" in text
        session.screenshot("map_nowcast_storm")
        page.click("a[data-lang-switch='en']")  # the popup is written again in English
        page.wait_for_function("() => document.querySelector('.maplibregl-popup "
                               ".nowcast-explain')?.innerText.includes('Low point')",
                               timeout=10_000)
        assert "Pump station TB-W1" in page.locator(".maplibregl-popup .nowcast-explain")\
            .first.inner_text()
        page.click("a[data-lang-switch='vi']")
        page.wait_for_function("() => document.querySelector('.maplibregl-popup "
                               ".nowcast-explain')?.innerText.includes('Điểm trũng')",
                               timeout=10_000)
        page.select_option("#nowcast-horizon", "2")
        page.wait_for_function(READY, timeout=30_000)
        assert page.locator(".nowcast-status").inner_text().startswith("Nguy cơ cao: 5")
        requested = [u for u, _ in session.responses if "/api/nowcast" in u]
        assert any("horizon=2" in u for u in requested)
        assert all("bbox=" in u for u in requested)  # only what the view shows
        assert session.console_errors == []


def test_no_rain_draws_nothing_and_says_so(browser, storm_server):
    lon, lat = TO_LONLAT(E0 + 150, N0 + 220)
    with browse(browser, storm_server) as session:
        page = session.page
        page.goto(f"/map?lang=en#map=17/{lat}/{lon}")
        page.wait_for_function(MAP_READY, timeout=30_000)
        page.evaluate("(iso) => import('/static/js/map/nowcast.js')"
                      ".then((m) => m.setNowcastTime(iso))", SCENARIOS["dry"].isoformat())
        page.locator("#toggle-nowcast").check()
        page.wait_for_function(READY, timeout=30_000)
        assert page.locator(".nowcast-status").inner_text() == "No street or parcel at risk"
        assert _drawn(page) == []
        assert session.console_errors == []
