"""owslib's OGC API – Features client (a client we did not write) against a live server."""
from __future__ import annotations

import threading

import pytest
from owslib.ogcapi.features import Features
from werkzeug.serving import make_server

from gisapp import create_app
from layers import LAYERS
from tests.gisapp.features.conftest import BRIDGE_LONLAT, N_LIGHTS



def serve(database_url: str, data_dir):
    """The database served over HTTP on a free port of 127.0.0.1, in a thread, by an app
    whose public URL is that address."""
    made: list = []
    server = make_server("127.0.0.1", 0, lambda environ, start: made[0](environ, start),
                         threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": data_dir, "PUBLIC_URL": url})
    made.append(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url + "/"
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["engine"].dispose()


@pytest.fixture()
def live_url(lights_url, tmp_path):
    yield from serve(lights_url, tmp_path / "live")


@pytest.fixture()
def history_url(history_app, scratch_url, tmp_path):
    yield from serve(scratch_url, tmp_path / "history")


def test_owslib_lists_every_collection(live_url):
    api = Features(live_url)
    assert api.conformance()["conformsTo"]
    assert sorted(api.feature_collections()) == sorted(LAYERS)
    assert api.collection("street_lights")["title"] == LAYERS["street_lights"].title["en"]
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


def test_owslib_reads_queryables_and_filters_by_them(live_url):
    api = Features(live_url)
    queryables = api.collection_queryables("street_lights")["properties"]
    assert queryables["wattage"]["type"] == "integer" and queryables["street"]["type"] == "string"
    cabinet = api.collection_items("street_lights", cabinet_id="C1", limit=100)
    assert cabinet["numberMatched"] == N_LIGHTS // 2
    assert {f["properties"]["cabinet_id"] for f in cabinet["features"]} == {"C1"}


def test_owslib_sorts_items(live_url):
    api = Features(live_url)
    page = api.collection_items("street_lights", sortby=("wattage", "desc"), limit=100)
    watts = [f["properties"]["wattage"] for f in page["features"]]
    assert watts == sorted(watts, reverse=True) and watts[0] == 200
    page = api.collection_items("street_lights", sortby=("light_id", "asc"), limit=3)
    assert [f["properties"]["light_id"] for f in page["features"]] == ["L000", "L001", "L002"]


def test_owslib_filters_with_cql2_text_and_accenti(live_url):
    api = Features(live_url)
    found = api.collection_items("street_lights", filter="ACCENTI(street) = ACCENTI('Bach Dang') "
                                 "AND wattage IN (50, 100) AND pole_height BETWEEN 6 AND 8")
    assert found["numberMatched"] > 0
    assert {f["properties"]["street"] for f in found["features"]} == {"Bạch Đằng"}


def test_owslib_reads_parcels_as_they_were_at_a_datetime(history_url):
    api = Features(history_url)
    interval = api.collection("parcels")["extent"]["temporal"]["interval"][0]
    assert interval == ["2023-12-31T17:00:00Z", None]  # 2024-01-01 +07, still valid
    before = api.collection_items("parcels", datetime_="2024-05-01T00:00:00Z")
    assert [(f["id"], f["properties"]["land_use"]) for f in before["features"]] == [(1, "ODT")]
    after = api.collection_items("parcels", datetime_="2024-09-01T00:00:00+07:00")
    assert sorted((f["id"], f["properties"]["land_use"]) for f in after["features"]) == [
        (1, "TMD"), (2, "ODT")]
    during = api.collection_items("parcels", datetime_="2024-02-01T00:00:00Z/..")
    assert sorted((f["id"], f["properties"]["land_use"]) for f in during["features"]) == [
        (1, "TMD"), (2, "ODT")]  # a feature's latest version within the interval
    none = api.collection_items("parcels", datetime_="../2023-06-01")
    assert none["features"] == []
