"""The web map in headless Chromium: renders every layer, identify, toggles, measure,
coordinates, shareable URL, language switch, no personal data, accessibility."""
from __future__ import annotations

import json

import pytest
from pyproj import Geod, Transformer

from layers import LAYERS
from layers.city import CITY
from layers.vocabulary import UNITS, value_name
from tests.gisapp.web.conftest import ALL_THEMES, HALF, MAP_BUILT, MAP_IDLE, known_value

ZOOM = max(layer.minzoom for layer in LAYERS.values()) + 1.5
# Ready, or failed visibly (so a broken map fails the test with its message, not a timeout).
READY = f"() => ({MAP_BUILT}) || !document.getElementById('map-error').hidden"


def open_map(session, city, fragment: str = "", query: str = "") -> None:
    lon, lat = city.middle()
    fragment = fragment or f"map={ZOOM}/{lat}/{lon}&themes={ALL_THEMES}"
    session.page.goto(f"/map{query}#{fragment}")
    session.page.wait_for_function(READY, timeout=30_000)
    assert session.page.is_hidden("#map-error"), (session.page.inner_text("#map-error"),
                                                   session.console_errors)
    session.page.evaluate(MAP_IDLE)


def features_of(session, layer_id: str, lon: float, lat: float) -> list[dict]:
    """Rendered features of one registry layer around a known feature (their properties).

    A box reaching just past the feature's edge, not a point, so polygons drawn only as
    outlines (wards) are found too, whatever the zoom.
    """
    return session.page.evaluate(
        """([id, lon, lat, half]) => { const p = map.project([lon, lat]);
             const r = Math.abs(map.project([lon + half, lat]).x - p.x) + 10;
             return map.queryRenderedFeatures([[p.x - r, p.y - r], [p.x + r, p.y + r]])
               .filter((f) => f.sourceLayer === id).map((f) => f.properties); }""",
        [layer_id, lon, lat, HALF])


def screen_point(session, lon: float, lat: float) -> dict:
    """Page pixel of a map position (for real mouse clicks)."""
    return session.page.evaluate(
        """([lon, lat]) => { const p = map.project([lon, lat]);
             const r = map.getCanvas().getBoundingClientRect();
             return {x: r.left + p.x, y: r.top + p.y}; }""", [lon, lat])


def test_map_draws_every_layer_with_no_console_errors(session, city):
    open_map(session, city)
    missing = [lid for lid in LAYERS if not features_of(session, lid, *city.centre(lid))]
    session.screenshot("map_vi")
    assert missing == []
    assert session.console_errors == []


def test_layer_panel_groups_registry_layers_by_theme(session, city):
    open_map(session, city)
    for layer in LAYERS.values():
        group = session.page.locator(f"fieldset[data-theme='{layer.theme}']")
        assert group.locator(f"label[for='toggle-{layer.id}']").inner_text() == layer.title["vi"]
        note = group.locator(f"[data-layer='{layer.id}'] small.zoom-note").inner_text()
        assert note.startswith(f"Hiện từ mức thu phóng {layer.minzoom}")
        if layer.feature_minzoom is not None:  # manholes and inlets only from z15: said so
            held = layer.feature_minzoom
            names = ", ".join(value_name(held.field, v)["vi"] for v in held.values)
            assert note.endswith(f"; {names}: từ mức {held.minzoom}"), note


def test_clicking_a_parcel_shows_its_fields_labelled_in_vietnamese(session, city):
    open_map(session, city)
    parcels = LAYERS["parcels"]
    point = screen_point(session, *city.centre("parcels"))
    session.page.mouse.click(point["x"], point["y"])
    popup = session.page.locator(".identify-feature[data-layer='parcels']")
    popup.wait_for()
    text = popup.inner_text()
    assert parcels.title["vi"] in text
    assert parcels.field("parcel_no").label["vi"] in text
    assert popup.locator("dd[data-field='parcel_no']").inner_text() == "7"
    assert popup.locator("dd[data-field='legal_area']").inner_text() == "12,5 m²"
    session.screenshot("map_identify")
    assert session.console_errors == []



def test_the_parcel_comes_before_the_zone_it_lies_in(session, city):
    open_map(session, city)
    point = screen_point(session, *city.centre("parcels"))
    session.page.mouse.click(point["x"], point["y"])
    session.page.locator(".identify-feature").first.wait_for()
    order = session.page.eval_on_selector_all(
        ".identify-feature", "(sections) => sections.map((s) => s.dataset.layer)")
    assert order[0] == "parcels" and "zoning" in order[1:], order  # the zone covers every cell


def test_coded_values_show_by_their_names_in_the_popup_and_the_legend(session, city):
    open_map(session, city)
    lights = LAYERS["street_lights"]
    status = known_value(lights, "status")  # the known light's status, a declared choice
    point = screen_point(session, *city.centre("street_lights"))
    session.page.mouse.click(point["x"], point["y"])
    popup = session.page.locator(".identify-feature[data-layer='street_lights']")
    popup.wait_for()
    assert popup.locator("dd[data-field='status']").inner_text() == \
        value_name("status", status)["vi"]
    field, pairs = LAYERS["parcels"].style.by
    legend = session.page.locator(".layer-row[data-layer='parcels'] .legend li")
    assert legend.nth(0).inner_text().strip() == value_name(field, pairs[0][0])["vi"]
    assert session.console_errors == []

def identify(session, city, layer_id: str):
    """Click the known feature of a layer; its popup section."""
    point = screen_point(session, *city.centre(layer_id))
    session.page.mouse.click(point["x"], point["y"])
    section = session.page.locator(f".identify-feature[data-layer='{layer_id}']")
    section.wait_for()
    return section


@pytest.mark.parametrize("lang, legal_area", [("vi", "12,5 m²"), ("en", "12.5 m²")])
def test_identify_writes_values_in_the_language(session, city, live_server, lang, legal_area):
    session.sign_in(live_server.database_url, "planner")  # years installed are staff fields
    open_map(session, city, query=f"?lang={lang}")
    parcel = identify(session, city, "parcels")
    code = known_value(LAYERS["parcels"], "land_use")
    assert parcel.locator("dd[data-field='land_use']").inner_text() == \
        f"{value_name('land_use', code)[lang]} ({code})"
    assert parcel.locator("dd[data-field='legal_area']").inner_text() == legal_area
    flood = identify(session, city, "flood_zones")
    years = UNITS[LAYERS["flood_zones"].field("return_period").unit][lang]
    assert flood.locator("dd[data-field='return_period']").inner_text() == f"7 {years}"
    pipe = identify(session, city, "drainage_pipes")
    assert pipe.locator("dd[data-field='install_year']").inner_text() == "2015"
    assert pipe.locator("dd[data-field='material']").inner_text() == \
        value_name("material", known_value(LAYERS["drainage_pipes"], "material"))[lang]
    assert session.console_errors == []


def test_a_parcels_identify_links_to_its_record_on_the_desk(session, city):
    open_map(session, city)
    link = identify(session, city, "parcels").locator("a.record-link")
    href = link.get_attribute("href")
    assert href.startswith("/parcel-desk#parcel=")
    uid = href.split("#parcel=")[1]
    assert uid == "ward_code-1-former_ward_code-1-7-7"
    assert identify(session, city, "zoning").locator("a.record-link").count() == 0
    link = identify(session, city, "parcels").locator("a.record-link")
    link.click()
    session.page.wait_for_function(
        f"() => document.getElementById('desk-app')?.dataset.parcel === '{uid}'", timeout=30_000)
    assert session.console_errors == []


def test_searching_without_diacritics_flies_to_the_parcel(session, city):
    open_map(session, city, fragment="map=13/16.07/108.20")
    session.page.fill("#search-q", "bach dang")
    session.page.press("#search-q", "Enter")
    session.page.wait_for_selector("#search[data-shown]")
    lon, lat = city.centre("parcels")
    centre = session.page.evaluate("map.getCenter().toArray()")
    assert centre == [pytest.approx(lon, abs=1e-4), pytest.approx(lat, abs=1e-4)]
    assert session.page.evaluate(
        "map.querySourceFeatures('gisapp-highlight').length") >= 1
    session.screenshot("map_search")
    assert session.console_errors == []


def test_unticking_a_layer_hides_it_and_ticking_shows_it_again(session, city):
    open_map(session, city)
    where = city.centre("parcels")
    assert features_of(session, "parcels", *where)
    session.page.uncheck("#toggle-parcels")
    session.page.evaluate(MAP_IDLE)
    assert features_of(session, "parcels", *where) == []
    assert "parcels" not in session.page.evaluate("location.hash").split("layers=")[1].split(",")
    session.page.check("#toggle-parcels")
    session.page.evaluate(MAP_IDLE)
    assert features_of(session, "parcels", *where)


def test_shared_url_restores_view_and_open_layers(session, city):
    lon, lat = city.middle()
    open_map(session, city, fragment=f"map=17.5/{lat}/{lon}&layers=parcels,roads")
    assert session.page.evaluate("map.getZoom()") == pytest.approx(17.5)
    assert session.page.is_checked("#toggle-parcels")
    assert session.page.is_checked("#toggle-roads")
    assert not session.page.is_checked("#toggle-buildings")
    assert features_of(session, "buildings", *city.centre("buildings")) == []
    assert features_of(session, "roads", *city.centre("roads"))


@pytest.mark.parametrize("mode", ["distance", "area"])
def test_measure_agrees_with_the_geodesic_within_one_percent(session, city, mode):
    open_map(session, city)
    corners = [city.centre(lid) for lid in ("wards", "buildings", "heritage_areas")]
    corners.append((corners[0][0], corners[2][1]))
    lons, lats = [c[0] for c in corners], [c[1] for c in corners]
    session.page.evaluate("(b) => map.fitBounds(b, {padding: 80, duration: 0})",
                          [[min(lons), min(lats)], [max(lons), max(lats)]])
    session.page.click(f"#measure-{mode}")
    clicked = []
    for lon, lat in corners:
        point = screen_point(session, lon, lat)
        session.page.mouse.click(point["x"], point["y"])
        session.page.wait_for_timeout(350)  # two clicks this close would be a double-click
        clicked.append(session.page.evaluate(
            "([x, y]) => { const r = map.getCanvas().getBoundingClientRect();"
            " const p = map.unproject([x - r.left, y - r.top]); return [p.lng, p.lat]; }",
            [point["x"], point["y"]]))
    session.page.keyboard.press("Enter")
    measured = float(session.page.get_attribute("#measure-result", "data-metres"))
    lons, lats = [p[0] for p in clicked], [p[1] for p in clicked]
    geod = Geod(ellps="WGS84")
    expected = abs(geod.polygon_area_perimeter(lons, lats)[0]) if mode == "area" \
        else geod.line_length(lons, lats)
    assert measured == pytest.approx(expected, rel=0.01)
    assert session.page.inner_text("#measure-result") != ""
    session.screenshot(f"map_measure_{mode}")


def test_vn2000_coordinates_match_pyproj_at_the_dragon_bridge(session, city):
    open_map(session, city)
    lon, lat = 108.22705602, 16.06114045
    shown = session.page.evaluate(
        "async ([lon, lat]) => (await import('/static/js/vn2000.js')).toVn2000Tm3(lon, lat)",
        [lon, lat])
    expected = Transformer.from_crs(4326, CITY.metric_srid, always_xy=True).transform(lon, lat)
    assert shown[0] == pytest.approx(expected[0], abs=0.01)
    assert shown[1] == pytest.approx(expected[1], abs=0.01)
    session.page.evaluate("([lon, lat]) => map.jumpTo({center: [lon, lat], zoom: 21})", [lon, lat])
    point = screen_point(session, lon, lat)
    session.page.mouse.move(point["x"], point["y"])
    text = session.page.inner_text("#coord-vn2000")  # Vietnamese: "E 550.846,11 m, N …"
    easting, northing = (float(part.split()[1].replace(".", "").replace(",", "."))
                         for part in text.split(", "))
    assert easting == pytest.approx(expected[0], abs=0.1)  # a pixel is 0.07 m at zoom 21
    assert northing == pytest.approx(expected[1], abs=0.1)


def test_language_switch_relabels_the_page_and_is_remembered(session, city):
    open_map(session, city)
    session.page.click("a[data-lang-switch='en']")
    parcels = LAYERS["parcels"]
    # The English dictionary is fetched on the first switch: wait until the panel is redrawn.
    session.page.wait_for_function(
        "(title) => document.querySelector(\"label[for='toggle-parcels']\")?.innerText === title",
        arg=parcels.title["en"], timeout=10_000)
    assert session.page.get_attribute("html", "lang") == "en"
    assert session.page.inner_text("#measure-distance") == "Measure distance"
    session.page.reload()
    session.page.wait_for_function(READY)
    assert session.page.get_attribute("html", "lang") == "en"
    assert session.page.inner_text("label[for='toggle-parcels']") == parcels.title["en"]
    session.page.evaluate(MAP_IDLE)
    session.screenshot("map_en")
    session.page.goto("/")
    assert session.page.inner_text("h1") == "Loaded data"


def test_a_public_user_never_receives_an_owners_name(session, city):
    open_map(session, city)
    point = screen_point(session, *city.centre("parcels"))
    session.page.mouse.click(point["x"], point["y"])
    session.page.locator(".identify-feature[data-layer='parcels']").wait_for()
    assert city.owner_name not in session.page.content()
    leaked = [url for url, body in session.responses if city.owner_name.encode() in body]
    assert leaked == []
    assert len(session.responses) > 5


@pytest.mark.parametrize("path", ["/map", "/", "/login"])
def test_pages_have_no_serious_accessibility_violations(session, city, path):
    if path == "/map":
        open_map(session, city)
    else:
        session.page.goto(path)
    violations = session.axe_violations()
    assert [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations] == []
    if path != "/map":
        session.screenshot({"/": "home", "/login": "login"}[path])


def test_layer_catalogue_only_lists_fields_a_public_caller_may_read(live_server):
    client = live_server.app.test_client()
    catalogue = json.loads(client.get("/api/layers").data)
    parcels = next(layer for layer in catalogue["layers"] if layer["id"] == "parcels")
    names = {f["name"] for f in parcels["fields"]}
    assert "parcel_no" in names
    assert "certificate_no" not in names
    assert [t["id"] for t in catalogue["themes"]][:2] == ["base", "land"]
