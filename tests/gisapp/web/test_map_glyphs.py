"""Labels drawn with our own glyphs: Vietnamese capitals with two diacritics come from the
7680-7935 range; a glyph set without them (as a Latin-only build serves) draws nothing."""
from __future__ import annotations

from rasterio.io import MemoryFile

from tests.gisapp.web.conftest import MAP_IDLE, browse
from tiles.glyph_pbf import encode_range
from tests.gisapp.web.test_map import open_map

STACKED = "Ệ Ở Ữ Ặ Ậ"  # capitals with two diacritics, all in U+1E00-U+1EFF only
PROBE = """([lon, lat, text]) => {
  map.addSource('probe', {type: 'geojson', data: {type: 'Feature', properties: {},
    geometry: {type: 'Point', coordinates: [lon, lat]}}});
  map.addLayer({id: 'probe', type: 'symbol', source: 'probe', layout: {
    'text-field': text, 'text-font': ['Noto Sans Bold'], 'text-size': 40,
    'text-allow-overlap': true, 'text-ignore-placement': true},
    paint: {'text-color': '#ff00ff'}});
}"""


def magenta_pixels(png: bytes) -> int:
    """Pixels of the probe label's colour in a screenshot."""
    with MemoryFile(png) as memory, memory.open() as image:
        red, green, blue = (image.read(i).astype(int) for i in (1, 2, 3))
    return int(((red > 200) & (green < 80) & (blue > 200)).sum())


def draw_probe(session, city) -> tuple[int, int]:
    """Rendered features of the probe label, and its magenta pixels."""
    open_map(session, city)
    lon, lat = city.middle()
    session.page.evaluate(PROBE, [lon, lat, STACKED])
    session.page.evaluate(MAP_IDLE)
    session.page.wait_for_timeout(300)  # a symbol fades in after placement
    features = session.page.evaluate("map.queryRenderedFeatures({layers: ['probe']}).length")
    return features, magenta_pixels(session.page.locator("#map canvas").screenshot())


def test_vietnamese_diacritics_draw_only_with_the_glyph_range(browser, live_server, city):
    with browse(browser, live_server) as session:
        with_range = draw_probe(session, city)
        fetched = [url for url, _ in session.responses if "/fonts/Noto%20Sans%20Bold/" in url]
        session.screenshot("glyphs_with_range")
    with browse(browser, live_server) as session:
        empty = encode_range("Noto Sans Bold", 7680, [])  # the range, with no glyph in it
        session.page.route("**/7680-7935.pbf", lambda route: route.fulfill(
            status=200, body=empty, content_type="application/x-protobuf"))
        without_range = draw_probe(session, city)
        session.screenshot("glyphs_without_range")
    assert any(url.endswith("/7680-7935.pbf") for url in fetched)
    assert with_range[0] == 1 and with_range[1] > 1500  # five 40 px capitals drawn
    assert without_range[0] == 1  # placed, but with no glyph to draw
    assert without_range[1] < with_range[1] / 20
