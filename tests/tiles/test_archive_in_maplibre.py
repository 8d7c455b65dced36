"""An exported PMTiles archive opens in MapLibre GL JS (headless Chromium, pmtiles protocol)."""
import json
import threading
from pathlib import Path

import pytest
from flask import Flask, send_file
from werkzeug.serving import make_server

from layers import LAYERS, ROLES
from tiles.style import build_style

from .conftest import CENTER

MODULES = Path(__file__).resolve().parents[2] / "static" / "node_modules"
BBOX = (CENTER[0] - 0.002, CENTER[1] - 0.002, CENTER[0] + 0.004, CENTER[1] + 0.002)
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script src="/maplibre-gl.js"></script><script src="/pmtiles.js"></script></head>
<body style="margin:0"><div id="map" style="width:800px;height:600px"></div><script>
const protocol = new pmtiles.Protocol();
maplibregl.addProtocol("pmtiles", protocol.tile);
const style = STYLE;
for (const source of Object.values(style.sources)) {  // the app's style, read from the archive
  delete source.tiles;
  source.url = "pmtiles://" + location.origin + "/city.pmtiles";
}
window.map = new maplibregl.Map({container: "map", style: style, center: CENTER, zoom: 16});
window.errors = [];
map.on("error", (e) => window.errors.push(String(e.error && e.error.message)));
map.once("idle", () => { window.idle = true; });
</script></body></html>"""


def archive_server(archive: Path, style: dict) -> tuple:
    """A little site serving MapLibre, the pmtiles reader, a page and the archive (ranges)."""
    site = Flask(__name__)
    page = PAGE.replace("STYLE", json.dumps(style)).replace("CENTER", json.dumps(list(CENTER)))
    site.add_url_rule("/", "page", lambda: page)
    site.add_url_rule("/maplibre-gl.js", "maplibre", lambda: send_file(
        MODULES / "maplibre-gl/dist/maplibre-gl.js"))
    site.add_url_rule("/pmtiles.js", "pmtiles", lambda: send_file(
        MODULES / "pmtiles/dist/pmtiles.js"))
    site.add_url_rule("/city.pmtiles", "archive", lambda: send_file(archive, conditional=True))
    server = make_server("127.0.0.1", 0, site, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture()
def exported(runner, city_url, tmp_path) -> Path:
    out = tmp_path / "city.pmtiles"
    result = runner("tiles", "export", "all", str(out), "--zoom", "14-16",
                    "--bbox", ",".join(map(str, BBOX)), env={"DATABASE_URL": city_url})
    assert result.exit_code == 0, result.output
    return out


def test_maplibre_draws_every_layer_from_an_exported_pmtiles(exported, browser):
    style = build_style("default", ROLES["public"], "http://unused/{z}/{x}/{y}.mvt")
    server, origin = archive_server(exported, style)
    page = browser.new_page()
    try:
        page.goto(origin + "/")
        page.wait_for_function("window.idle === true", timeout=60_000)
        drawn = page.evaluate("[...new Set(map.queryRenderedFeatures()"
                              ".map((f) => f.sourceLayer))]")
        errors = page.evaluate("window.errors")
    finally:
        page.close()
        server.shutdown()
    assert not errors
    assert set(drawn) == set(LAYERS)
