"""The map on the demo city (`gisapp demo load` into the test database): infrastructure
drawn, a diacritic-free search, and no holder's name reaching a public browser."""
from __future__ import annotations

import unicodedata

import psycopg
import pytest
from psycopg import sql

from layers import LAYERS, TABLES
from tests.gisapp.web.conftest import ALL_THEMES, MAP_IDLE, MAP_READY

MUST_DRAW = ("parcels", "drainage_pipes", "street_lights", "wifi_aps")
ZOOM = 16.5


@pytest.fixture(scope="module")
def busy_corner(test_url: str) -> tuple[float, float]:
    """A Wi-Fi access point (the sparsest layer) that stands among the demo city's parcels."""
    aps, parcels = (sql.Identifier(LAYERS[i].table) for i in ("wifi_aps", "parcels"))
    with psycopg.connect(test_url) as conn:
        row = conn.execute(sql.SQL(
            "SELECT ST_X(a.geom), ST_Y(a.geom) FROM {aps} a WHERE EXISTS (SELECT 1 FROM {p} p"
            " WHERE ST_DWithin(p.geom, a.geom, 0.0005)) ORDER BY a.id LIMIT 1").format(
                aps=aps, p=parcels)).fetchone()
    assert row is not None, "the test database has no demo city: run `gisapp demo load`"
    return row


def holder_names(test_url: str, bounds: list[float]) -> list[str]:
    """Names of the holders of every parcel inside these bounds (west, south, east, north)."""
    parcels, rights, parties = (sql.Identifier(i) for i in (
        LAYERS["parcels"].table, TABLES["rights"].table, TABLES["parties"].table))
    with psycopg.connect(test_url) as conn:
        return [r[0] for r in conn.execute(sql.SQL(
            "SELECT DISTINCT o.name FROM {p} p JOIN {r} r USING (parcel_uid)"
            " JOIN {o} o USING (party_id)"
            " WHERE p.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)").format(
                p=parcels, r=rights, o=parties), bounds)]


def open_demo_map(demo_session, lon: float, lat: float) -> None:
    demo_session.page.goto(f"/map#map={ZOOM}/{lat}/{lon}&themes={ALL_THEMES}")
    demo_session.page.wait_for_function(MAP_READY, timeout=30_000)
    demo_session.page.evaluate(MAP_IDLE)


def test_the_demo_city_draws_parcels_pipes_lights_and_access_points(demo_session, busy_corner):
    open_demo_map(demo_session, *busy_corner)
    counts = demo_session.page.evaluate(
        """(ids) => Object.fromEntries(ids.map((id) => [id,
             map.queryRenderedFeatures().filter((f) => f.sourceLayer === id).length]))""",
        list(MUST_DRAW))
    demo_session.screenshot("demo_map")
    assert all(counts[i] > 0 for i in MUST_DRAW), counts
    assert demo_session.console_errors == []


def test_a_public_search_without_diacritics_finds_demo_parcels_and_no_holder_leaks(
        demo_session, busy_corner, test_url):
    open_demo_map(demo_session, *busy_corner)
    with psycopg.connect(test_url) as conn:
        street = conn.execute(sql.SQL("SELECT street FROM {} WHERE street IS NOT NULL"
                                      " ORDER BY id LIMIT 1").format(
            sql.Identifier(LAYERS["parcels"].table))).fetchone()[0]
    plain = "".join(c for c in unicodedata.normalize("NFD", street.replace("Đ", "D").replace("đ", "d"))
                    if unicodedata.category(c) != "Mn")
    assert plain != street
    demo_session.page.fill("#search-q", plain.lower())
    demo_session.page.press("#search-q", "Enter")
    first = demo_session.page.locator(".search-results button").first
    first.wait_for()
    assert street in first.inner_text()
    uid = first.get_attribute("data-parcel")
    first.click()
    demo_session.page.wait_for_selector(f"#search[data-shown='{uid}']")
    west, south, east, north = demo_session.page.evaluate(
        "map.getSource('gisapp-highlight').serialize().data.geometry.coordinates.flat(3)"
        ".reduce(([w, s, e, n], v, i) => i % 2 ? [w, Math.min(s, v), e, Math.max(n, v)]"
        " : [Math.min(w, v), s, Math.max(e, v), n], [180, 90, -180, -90])")
    lon, lat = demo_session.page.evaluate("map.getCenter().toArray()")
    assert west <= lon <= east and south <= lat <= north
    demo_session.page.mouse.click(790, 420)  # identify whatever is in the middle of the map
    demo_session.page.wait_for_timeout(500)
    demo_session.screenshot("demo_search")
    bounds = demo_session.page.evaluate("map.getBounds().toArray().flat()")
    names = holder_names(test_url, bounds)
    assert len(names) > 5
    bodies = [body.decode("utf-8", "replace") for _, body in demo_session.responses]
    page = demo_session.page.content()
    assert [n for n in names if n in page or any(n in b for b in bodies)] == []
