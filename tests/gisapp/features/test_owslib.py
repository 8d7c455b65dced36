"""owslib's OGC API – Features client (a client we did not write) against a live server."""
from __future__ import annotations

import threading

import pytest
from owslib.ogcapi.features import Features
from werkzeug.serving import make_server

from gisapp import create_app
from layers import LAYERS
from tests.gisapp.features.conftest import BRIDGE_LONLAT, N_LIGHTS



@pytest.fixture()
def live_url(lights_app, scratch_url, tmp_path):
    """The lights' database served over HTTP on a free port of 127.0.0.1, in a thread, for
    one test, by an app whose public URL is that address."""
    made: list = []
    server = make_server("127.0.0.1", 0, lambda environ, start: made[0](environ, start),
                         threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path / "live", "PUBLIC_URL": url})
    made.append(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url + "/"
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["engine"].dispose()


def test_owslib_lists_every_collection(live_url):
    api = Features(live_url)
    assert api.conformance()["conformsTo"]
    assert sorted(api.feature_collections()) == sorted(LAYERS)
    assert api.collection("street_lights")["title"] == LAYERS["street_lights"].title_en
    assert "wattage" in api.collection_queryables("street_lights")["properties"]


def test_owslib_fetches_items_with_bbox_and_filter(live_url):
    api = Features(live_url)
    lon, lat = BRIDGE_LONLAT
    everything = api.collection_items("street_lights", limit=100)
    assert everything["numberMatched"] == N_LIGHTS
    box = [lon - .002, lat - .002, lon + .002, lat + .002]
    near = api.collection_items("street_lights", bbox=box)
    assert [f["properties"]["light_id"] for f in near["features"]] == [
        "L000", "L001", "L002", "L003", "L004"]
    led = api.collection_items("street_lights", bbox=box, filter="lamp_type = 'LED'")
    assert [f["properties"]["light_id"] for f in led["features"]] == ["L000", "L003"]
    one = api.collection_item("street_lights", "2")
    assert one["properties"]["light_id"] == "L001"
