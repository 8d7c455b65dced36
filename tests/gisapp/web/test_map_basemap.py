"""The map on the demo city as a planner sees it: a labelled base map (street and ward
names, icons), the default view of base map + land use + planning, themes turned on as a
group and kept in the URL, map themes (light, dark, cadastral) to switch; and screenshots
of the default view at z13, z15 and z18 in both languages and every map theme."""
from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from layers import DEFAULT_THEMES, LAYERS, THEMES
from layers.sources import OPENSTREETMAP, WARD_BOUNDARIES
from tests.gisapp.web.conftest import MAP_IDLE, MAP_READY
from tiles.palettes import PALETTES

CENTRE = (108.2208, 16.0678)  # the map's opening view over central Da Nang
FADE_MS = 400  # symbols fade in after placement


def open_view(session, zoom: float, lon: float, lat: float, extra: str = "",
              query: str = "") -> None:
    session.page.goto(f"/map{query}#map={zoom}/{lat}/{lon}{extra}")
    session.page.wait_for_function(MAP_READY, timeout=30_000)
    assert session.page.is_hidden("#map-error"), session.page.inner_text("#map-error")
    session.page.evaluate(MAP_IDLE)
    session.page.wait_for_timeout(FADE_MS)


def rendered(session, style_layer: str, field: str) -> list:
    """A property of every rendered feature of one style layer."""
    return session.page.evaluate(
        "([id, field]) => map.queryRenderedFeatures({layers: [id]}).map((f) => f.properties[field])",
        [style_layer, field])


def one_point(test_url: str, layer_id: str, where: str, value: str) -> tuple[float, float]:
    table = sql.Identifier(LAYERS[layer_id].table)
    with psycopg.connect(test_url) as conn:
        row = conn.execute(sql.SQL(
            "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM {}"
            " WHERE {} = %s ORDER BY id LIMIT 1").format(table, sql.Identifier(where)),
            (value,)).fetchone()
    assert row is not None, f"the demo city has no {layer_id} with {where} = {value}"
    return row


def test_street_and_ward_names_are_drawn_in_vietnamese(demo_session):
    open_view(demo_session, 16, *CENTRE)
    streets = [n for n in rendered(demo_session, "roads-label", "name") if n]
    demo_session.screenshot("labels_streets_z16")
    open_view(demo_session, 13, *CENTRE)
    wards = [n for n in rendered(demo_session, "wards-label", "name") if n]
    assert len(set(streets)) >= 3 and any(not s.isascii() for s in streets), streets
    assert wards and all(not w.isascii() for w in wards), wards
    assert demo_session.console_errors == []


def test_ward_names_follow_the_language(demo_session, test_url):
    open_view(demo_session, 13, *CENTRE, query="?lang=en")
    layout = demo_session.page.evaluate("map.getLayoutProperty('wards-label', 'text-field')")
    assert layout == "{name_en}"
    assert rendered(demo_session, "wards-label", "name_en")


def test_the_default_view_is_base_map_land_use_and_planning(demo_session):
    demo_session.page.goto("/map")
    demo_session.page.wait_for_function(MAP_READY, timeout=30_000)
    for layer in LAYERS.values():
        checked = demo_session.page.is_checked(f"#toggle-{layer.id}")
        assert checked == (layer.theme in DEFAULT_THEMES), layer.id
    themes = demo_session.page.evaluate("location.hash").split("themes=")[1].split("&")[0]
    assert themes.split(",") == [t for t in THEMES if t in DEFAULT_THEMES]


def test_a_theme_opens_as_a_group_and_the_link_keeps_it(demo_session):
    open_view(demo_session, 16, *CENTRE)
    demo_session.page.check("#theme-drainage")
    members = [lid for lid, layer in LAYERS.items() if layer.theme == "drainage"]
    assert all(demo_session.page.is_checked(f"#toggle-{lid}") for lid in members)
    link = demo_session.page.evaluate("location.href")
    assert "drainage" in link.split("themes=")[1].split("&")[0].split(",")
    demo_session.page.goto("/")
    demo_session.page.goto(link)
    demo_session.page.wait_for_function(MAP_READY, timeout=30_000)
    assert all(demo_session.page.is_checked(f"#toggle-{lid}") for lid in members)
    assert not demo_session.page.is_checked("#theme-lighting")
    demo_session.page.uncheck(f"#toggle-{members[0]}")  # one layer off: the theme is mixed
    assert demo_session.page.evaluate("document.getElementById('theme-drainage').indeterminate")


def test_switching_the_map_theme_keeps_the_open_layers(demo_session):
    open_view(demo_session, 16, *CENTRE, extra="&themes=base,land,drainage")
    demo_session.page.select_option("#palette", "dark")
    demo_session.page.wait_for_function("() => location.hash.includes('palette=dark')")
    demo_session.page.evaluate(MAP_IDLE)
    background = demo_session.page.evaluate(
        "map.getPaintProperty('background', 'background-color')")
    assert background == PALETTES["dark"].background
    assert demo_session.page.is_checked("#toggle-drainage_pipes")
    assert not demo_session.page.is_checked("#toggle-zoning")
    demo_session.page.reload()
    demo_session.page.wait_for_function(MAP_READY, timeout=30_000)
    assert demo_session.page.input_value("#palette") == "dark"
    assert demo_session.console_errors == []


def test_the_high_contrast_theme_is_chosen_in_the_map_and_stays_accessible(demo_session):
    open_view(demo_session, 15, *CENTRE, query="?lang=en")
    options = demo_session.page.eval_on_selector_all(
        "#palette option", "(options) => options.map((o) => o.textContent)")
    assert PALETTES["contrast"].title["en"] in options
    demo_session.page.select_option("#palette", "contrast")
    demo_session.page.wait_for_function("() => location.hash.includes('palette=contrast')")
    demo_session.page.evaluate(MAP_IDLE)
    paint = demo_session.page.evaluate(
        "[map.getPaintProperty('background', 'background-color'),"
        " map.getPaintProperty('parcels-outline', 'line-color')]")
    assert paint == [PALETTES["contrast"].background, "#000000"]
    violations = demo_session.axe_violations()
    assert [(v["id"], v["help"]) for v in violations] == []
    assert demo_session.console_errors == []


@pytest.mark.parametrize("kind, icon", [("pump_station", "pump"), ("outfall", "outfall")])
def test_drainage_structures_are_drawn_with_their_icons(demo_session, test_url, kind, icon):
    lon, lat = one_point(test_url, "drainage_nodes", "kind", kind)
    open_view(demo_session, 18, lon, lat, extra="&themes=base,drainage")
    kinds = rendered(demo_session, "drainage_nodes-icon", "kind")
    images = demo_session.page.evaluate("map.listImages()")
    demo_session.screenshot(f"icon_{icon}_z18")
    assert kind in kinds and icon in images


@pytest.mark.parametrize("kind, icon", [("school", "school"), ("hospital", "hospital")])
def test_schools_and_hospitals_are_drawn_with_their_icons_and_names(demo_session, test_url,
                                                                    kind, icon):
    lon, lat = one_point(test_url, "facilities", "kind", kind)
    open_view(demo_session, 17, lon, lat)
    assert kind in rendered(demo_session, "facilities-icon", "kind")
    assert icon in demo_session.page.evaluate("map.listImages()")
    names = [n for n in rendered(demo_session, "facilities-label", "name") if n]
    demo_session.screenshot(f"facility_{kind}_z17")
    assert names, f"no {kind} name drawn"
    # parcels carry no icons: a school is a facility, not a land-use code
    assert demo_session.page.evaluate("map.getLayer('parcels-icon') === undefined")


VIEWS = {13: CENTRE, 15: CENTRE, 18: (108.2172, 16.0562)}  # z18: Hoàng Diệu, in the OSM block


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_screenshots_of_the_default_view(demo_session, lang):
    """The default view at z13, z15 and z18 in every map theme, for the reviewer's eyes."""
    for palette in PALETTES:
        for zoom, (lon, lat) in VIEWS.items():
            open_view(demo_session, zoom, lon, lat, extra=f"&palette={palette}",
                      query=f"?lang={lang}")
            assert demo_session.page.input_value("#palette") == palette
            demo_session.screenshot(f"default_z{zoom}_{palette}_{lang}")
    assert demo_session.console_errors == []


def test_the_attribution_control_credits_each_layers_source(demo_session):
    open_view(demo_session, 13, *CENTRE)
    assert demo_session.page.is_hidden(".maplibregl-ctrl-attrib-inner")  # folded: (i) opens it
    demo_session.page.click(".maplibregl-ctrl-attrib-button")
    credits = demo_session.page.inner_text(".maplibregl-ctrl-attrib-inner")
    for source in {layer.source for layer in LAYERS.values()}:
        assert source.attribution in credits


def _credits(session) -> str:
    return session.page.evaluate(
        "document.querySelector('.maplibregl-ctrl-attrib-inner').textContent")


def test_the_credits_follow_the_layers_shown(demo_session):
    open_view(demo_session, 13, *CENTRE)
    assert OPENSTREETMAP.attribution in _credits(demo_session)  # facilities, from z13
    demo_session.page.uncheck("#theme-base")
    demo_session.page.evaluate(MAP_IDLE)
    credits = _credits(demo_session)
    assert WARD_BOUNDARIES.attribution not in credits
    # parcels are laid out on the real streets of the OSM block: they credit OSM themselves
    assert LAYERS["parcels"].source.attribution in credits
    assert OPENSTREETMAP.attribution in LAYERS["parcels"].source.attribution
    demo_session.page.check("#theme-base")
    demo_session.page.evaluate("map.jumpTo({zoom: 12})")
    demo_session.page.evaluate(MAP_IDLE)
    credits = _credits(demo_session)
    assert WARD_BOUNDARIES.attribution in credits  # wards draw from z8, facilities from z13
    assert OPENSTREETMAP.attribution in credits  # roads (from z10) hold the extract's streets
    assert demo_session.console_errors == []


def test_the_print_layout_keeps_the_map_theme_of_the_link(demo_session):
    lon, lat = CENTRE
    demo_session.page.goto(f"/map/print#map=16/{lat}/{lon}&themes=base,land&palette=cadastral")
    demo_session.page.wait_for_function(
        "() => document.getElementById('print-app').dataset.ready === 'true'", timeout=30_000)
    background = demo_session.page.evaluate(
        "map.getPaintProperty('background', 'background-color')")
    assert background == PALETTES["cadastral"].background
    demo_session.screenshot("print_cadastral_z16")
