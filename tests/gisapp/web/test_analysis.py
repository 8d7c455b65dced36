"""Planner tools on the map: an area query over a drawn polygon and a drainage trace."""
from __future__ import annotations

import math

import psycopg
from psycopg import sql

from layers import LAYERS
from tests.gisapp.web.conftest import ALL_THEMES, MAP_IDLE, MAP_READY

COUNTED = "street_lights"
MARGIN_M = 10  # the distance asked is the nearest light's from the parcel, plus this


def open_map_as_planner(session, city, live_server) -> None:
    session.sign_in(live_server.database_url, "planner")
    session.page.goto("/")  # leave /map, so the next visit loads it afresh
    lon, lat = city.middle()
    session.page.goto(f"/map#map=16.5/{lat}/{lon}&themes={ALL_THEMES}")
    session.page.wait_for_function(MAP_READY, timeout=30_000)
    session.page.evaluate(MAP_IDLE)


def click_at(session, lon: float, lat: float) -> None:
    point = session.page.evaluate(
        """([lon, lat]) => { const p = map.project([lon, lat]);
             const r = map.getCanvas().getBoundingClientRect();
             return [r.left + p.x, r.top + p.y]; }""", [lon, lat])
    session.page.mouse.click(*point)
    session.page.wait_for_timeout(350)  # keep clicks apart: two close ones are a double-click


def test_a_planners_area_query_lists_the_features_in_the_drawn_polygon(session, city,
                                                                       live_server):
    open_map_as_planner(session, city, live_server)
    session.page.select_option("#aq-layer", COUNTED)
    session.page.select_option("#aq-group", "status")
    session.page.click("#aq-draw")
    west, south = city.centre("wards")
    east, north = city.centre("heritage_areas")
    corners = [(west - 0.0002, south - 0.0002), (east + 0.0014, south - 0.0002),
               (east + 0.0014, north + 0.0002), (west - 0.0002, north + 0.0002)]
    for lon, lat in corners:
        click_at(session, lon, lat)
    session.page.keyboard.press("Enter")
    count = session.page.locator("#aq-result strong[data-count]")
    count.wait_for()
    session.screenshot("map_area_query")
    ring = corners + corners[:1]
    with psycopg.connect(live_server.database_url) as conn:
        expected = conn.execute(sql.SQL(
            "SELECT count(*) FROM {} WHERE ST_Intersects(geom, ST_GeomFromText(%s, 4326))").format(
                sql.Identifier(LAYERS[COUNTED].table)),
            ("POLYGON((" + ", ".join(f"{x} {y}" for x, y in ring) + "))",)).fetchone()[0]
    assert expected >= 1
    assert int(count.get_attribute("data-count")) == expected
    assert session.page.locator("#aq-result table.features tbody tr").count() == expected
    assert session.page.locator("#aq-result table.groups tbody tr").count() >= 1
    assert session.page.evaluate(
        "map.getSource('gisapp-analysis').serialize().data.features.length") == expected
    session.screenshot("map_area_query")
    assert session.console_errors == []


def test_a_planners_query_near_a_picked_parcel_counts_the_features_within_the_distance(
        session, city, live_server):
    # The known city's cells follow the registry's order, so a new layer moves the light:
    # ask for the distance at which the nearest one is found.
    tables = {"c": sql.Identifier(LAYERS[COUNTED].table),
              "p": sql.Identifier(LAYERS["parcels"].table)}
    with psycopg.connect(live_server.database_url) as conn:
        nearest = conn.execute(sql.SQL(
            "SELECT min(ST_Distance(c.geom::geography, p.geom::geography)) FROM {c} c, {p} p")
            .format(**tables)).fetchone()[0]
    near_m = math.ceil(nearest) + MARGIN_M
    open_map_as_planner(session, city, live_server)
    session.page.select_option("#aq-layer", COUNTED)
    session.page.fill("#aq-distance", str(near_m))
    session.page.click("#aq-pick")
    click_at(session, *city.centre("parcels"))
    count = session.page.locator("#aq-result strong[data-count]")
    count.wait_for()
    with psycopg.connect(live_server.database_url) as conn:
        expected = conn.execute(sql.SQL(
            "SELECT count(*) FROM {c} c, {p} p WHERE ST_DWithin(c.geom::geography,"
            " p.geom::geography, %s)").format(**tables), (near_m,)).fetchone()[0]
    assert expected >= 1
    assert int(count.get_attribute("data-count")) == expected
    assert session.page.evaluate(
        "map.getSource('gisapp-analysis').serialize().data.features.length") == expected
    assert session.page.locator(".identify-feature").count() == 0  # the pick is not an identify
    assert session.console_errors == []


def test_a_drainage_trace_from_a_clicked_node_is_drawn_with_its_summary(session, city,
                                                                       live_server):
    open_map_as_planner(session, city, live_server)
    session.page.click("#trace-pick")
    click_at(session, *city.centre("drainage_nodes"))
    summary = session.page.locator("#trace-result dl[data-pipes]")
    summary.wait_for()
    assert summary.get_attribute("data-pipes") == "1"
    drawn = session.page.evaluate(
        "map.getSource('gisapp-analysis').serialize().data.features.map((f) => f.geometry.type)")
    assert set(drawn) == {LAYERS[i].geometry_type for i in ("drainage_pipes", "drainage_nodes")}
    session.screenshot("map_drainage_trace")
    assert session.console_errors == []


def test_a_public_visitor_gets_no_analysis_tools(session, city):
    lon, lat = city.middle()
    session.page.goto(f"/map#map=16/{lat}/{lon}")
    session.page.wait_for_function(MAP_READY, timeout=30_000)
    assert session.page.locator("#analysis").count() == 0


def test_the_planners_map_has_no_serious_accessibility_violations(session, city, live_server):
    open_map_as_planner(session, city, live_server)
    violations = session.axe_violations()
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def test_on_a_tablet_the_panel_folds_away_and_the_map_fills_the_screen(session, city):
    session.page.set_viewport_size({"width": 768, "height": 1024})
    lon, lat = city.middle()
    session.page.goto(f"/map#map=16/{lat}/{lon}")
    session.page.wait_for_function(MAP_READY, timeout=30_000)
    assert session.page.get_attribute("#panel-toggle", "aria-expanded") == "false"
    assert session.page.is_hidden("#panel")
    width = session.page.evaluate("map.getCanvas().getBoundingClientRect().width")
    assert width >= 760
    session.page.click("#panel-toggle")
    assert session.page.is_visible("#panel")
    session.page.evaluate(MAP_IDLE)
    session.screenshot("map_tablet")
