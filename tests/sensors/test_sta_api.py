"""SensorThings API 1.1 reads: paths, $filter, $select, $expand, $orderby, paging, errors."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import psycopg
import pytest

from gisapp import create_app
from store.observations import ObservationRow, write_observations

START = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
READINGS = 30  # per flow datastream, every 5 minutes from START


@pytest.fixture(scope="module")
def client(sensor_url, streams, tmp_path_factory):
    rows = []
    for code in ("pump_station/TB-1/flow", "pump_station/TB-2/flow"):
        base = 100.0 if code.endswith("TB-1/flow") else 500.0
        rows += [ObservationRow(streams[code], START + timedelta(minutes=5 * k), base + k)
                 for k in range(READINGS)]
    running = streams["pump_station/TB-1/running"]
    rows += [ObservationRow(running, START + timedelta(minutes=k), k % 2 == 0) for k in range(4)]
    with psycopg.connect(sensor_url) as conn:
        write_observations(conn, rows)
    app = create_app({"DATABASE_URL": sensor_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path_factory.mktemp("sta"),
                      "PUBLIC_URL": "http://localhost"})
    yield app.test_client()
    app.extensions["engine"].dispose()


def _get(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _path(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_the_service_root_lists_every_entity_set(client):
    names = [s["name"] for s in _get(client, "/sta/v1.1/")["value"]]
    assert names == ["Things", "Locations", "HistoricalLocations", "Sensors",
                     "ObservedProperties", "Datastreams", "Observations", "FeaturesOfInterest"]


def test_an_entity_has_its_id_self_link_and_navigation_links(client, streams):
    ds = streams["pump_station/TB-1/flow"]
    doc = _get(client, f"/sta/v1.1/Datastreams({ds})")
    assert doc["@iot.id"] == ds
    assert doc["@iot.selfLink"] == f"http://localhost/sta/v1.1/Datastreams({ds})"
    assert doc["Observations@iot.navigationLink"].endswith(f"Datastreams({ds})/Observations")
    assert doc["unitOfMeasurement"]["symbol"] == "m3/h"
    assert doc["observationType"].endswith("OM_Measurement")
    first, last = doc["phenomenonTime"].split("/")
    assert first == START.isoformat().replace("+00:00", "Z")
    assert last == (START + timedelta(minutes=5 * (READINGS - 1))).isoformat().replace(
        "+00:00", "Z")
    thing = _get(client, _path(doc["Thing@iot.navigationLink"]))
    assert thing["name"] == "TB-1"


def test_navigation_reaches_observations_and_back(client, streams):
    ds = streams["pump_station/TB-1/flow"]
    page = _get(client, f"/sta/v1.1/Datastreams({ds})/Observations?$top=1"
                        "&$orderby=phenomenonTime desc")
    (obs,) = page["value"]
    assert obs["result"] == 100.0 + READINGS - 1
    again = _get(client, _path(obs["@iot.selfLink"]))
    assert again["phenomenonTime"] == obs["phenomenonTime"]
    back = _get(client, _path(obs["@iot.selfLink"]) + "/Datastream")
    assert back["@iot.id"] == ds
    foi = _get(client, _path(obs["FeatureOfInterest@iot.navigationLink"]))
    assert foi["feature"]["type"] == "Point" and foi["name"] == "TB-1"
    locations = _get(client, f"/sta/v1.1/Datastreams({ds})/Thing/Locations")["value"]
    assert locations[0]["location"]["type"] == "Point"


def test_paging_follows_next_links_to_the_end_and_counts(client, streams):
    ds = streams["pump_station/TB-2/flow"]
    url = f"/sta/v1.1/Datastreams({ds})/Observations?$top=7&$count=true&$select=result"
    results, pages = [], 0
    while url:
        page = _get(client, url)
        assert page["@iot.count"] == READINGS
        results += [o["result"] for o in page["value"]]
        url = _path(page["@iot.nextLink"]) if "@iot.nextLink" in page else None
        pages += 1
    assert results == [500.0 + k for k in range(READINGS)] and pages == 5


@pytest.mark.parametrize("flt, expected", [
    ("result gt 125", [126.0, 127.0, 128.0, 129.0]),
    ("result ge 127 and result lt 129", [127.0, 128.0]),
    ("not (result lt 128)", [128.0, 129.0]),
    ("result eq 100 or result eq 129", [100.0, 129.0]),
    ("result sub 100 mul 2 eq 40", []),
    ("(result sub 100) mul 2 eq 40", [120.0]),
    ("result mod 10 eq 3 and result div 2 gt 60", [123.0]),
    ("result div 0 gt 1 or result mod 0 eq 0", []),
    ("round(result div 3) eq 43 and floor(result) eq ceiling(result)", [128.0, 129.0]),
    ("phenomenonTime ge {t0} and phenomenonTime lt {t2}", [100.0, 101.0]),
    ("hour(phenomenonTime) eq {h} and minute(phenomenonTime) eq 5", [101.0]),
    ("Datastream/Thing/name eq 'TB-1' and result lt 102", [100.0, 101.0]),
])
def test_filters_select_the_expected_observations(client, streams, flt, expected):
    ds = streams["pump_station/TB-1/flow"]
    flt = flt.format(t0=START.isoformat().replace("+00:00", "Z"),
                     t2=(START + timedelta(minutes=10)).isoformat().replace("+00:00", "Z"),
                     h=START.hour)
    page = _get(client, f"/sta/v1.1/Observations?$filter=Datastream/id eq {ds} and ({flt})"
                        "&$orderby=result&$top=100")
    assert [o["result"] for o in page["value"]] == expected


def test_truth_results_read_and_filter_as_true_and_false(client, streams):
    ds = streams["pump_station/TB-1/running"]
    page = _get(client, f"/sta/v1.1/Datastreams({ds})/Observations?$orderby=phenomenonTime")
    assert [o["result"] for o in page["value"]] == [True, False, True, False]
    running = _get(client, f"/sta/v1.1/Datastreams({ds})/Observations?$filter=result eq true")
    assert len(running["value"]) == 2


@pytest.mark.parametrize("flt, names", [
    ("substringof('TB', name)", ["TB-1", "TB-2"]),
    ("startswith(name, 'Trạm') and endswith(name, 'Khê')", ["Trạm đo mưa Thanh Khê"]),
    ("tolower(name) eq 'tb-2'", ["TB-2"]),
    ("length(name) eq 4 and indexof(name, '-') eq 2", ["TB-1", "TB-2"]),
    ("substring(name, 1, 2) eq 'B-' and substring(name, 999999999999) eq ''", ["TB-1", "TB-2"]),
    ("contains(description, 'Lighting') or concat(name, '!') eq 'HO-1!'", ["Tủ Bạch Đằng 1"]),
])
def test_text_functions_filter_things(client, flt, names):
    page = _get(client, f"/sta/v1.1/Things?$filter={flt}&$orderby=name")
    assert [t["name"] for t in page["value"]] == names


def test_a_spatial_filter_finds_locations_inside_a_polygon(client):
    box = "POLYGON((108.2185 16.0585, 108.2215 16.0585, 108.2215 16.0615, 108.2185 16.0615, " \
          "108.2185 16.0585))"
    page = _get(client, f"/sta/v1.1/Locations?$filter=st_within(location, geography'{box}')"
                        "&$select=name&$orderby=name")
    assert [loc["name"] for loc in page["value"]] == ["TB-1", "TB-2", "Trạm đo mưa Hải Châu"]


def test_select_returns_only_the_named_properties(client):
    page = _get(client, "/sta/v1.1/Sensors?$select=name,id&$top=1")
    assert set(page["value"][0]) == {"@iot.id", "@iot.selfLink", "name"}


def test_expand_nests_entities_with_their_own_options(client):
    doc = _get(client, "/sta/v1.1/Things?$filter=name eq 'TB-1'&$expand=Datastreams("
                       "$select=name;$filter=name eq 'TB-1: Flow';$expand=Observations("
                       "$top=2;$orderby=phenomenonTime desc;$select=result),ObservedProperty)")
    (thing,) = doc["value"]
    (stream,) = thing["Datastreams"]
    assert stream["name"] == "TB-1: Flow"
    assert [o["result"] for o in stream["Observations"]] == [129.0, 128.0]
    assert stream["ObservedProperty"]["name"] == "Flow"
    path = _get(client, "/sta/v1.1/Things?$filter=name eq 'HO-1'&$expand=Datastreams/Sensor")
    assert path["value"] == []
    lake = _get(client, "/sta/v1.1/Things?$filter=name eq 'Hồ Thạc Gián'"
                        "&$expand=Datastreams/Sensor,Locations")["value"][0]
    assert {d["Sensor"]["name"] for d in lake["Datastreams"]} == {
        "multi-parameter water quality sonde"}
    assert len(lake["Locations"]) == 1


def test_orderby_sorts_descending_and_by_several_keys(client):
    names = [d["name"] for d in _get(
        client, "/sta/v1.1/Datastreams?$orderby=observationType desc,name asc&$top=3"
                "&$select=name")["value"]]
    assert names == ["TB-1: Pump running", "TB-2: Pump running", "Tủ Bạch Đằng 1: Fault"]


@pytest.mark.parametrize("url, status, words", [
    ("/sta/v1.1/Thingz", 404, "unknown entity set 'Thingz'"),
    ("/sta/v1.1/Things(999999)", 404, "no Thing at Things(999999)"),
    ("/sta/v1.1/Things(1)/Sensors", 404, "no navigation property 'Sensors'"),
    ("/sta/v1.1/Observations('x')", 400, "must be '<datastream id>-<microseconds>'"),
    ("/sta/v1.1/Things?$top=-1", 400, "$top must be a whole number"),
    ("/sta/v1.1/Things?$top=100000", 400, "over the limit"),
    ("/sta/v1.1/Things?$filter=nmae eq 'x'", 400, "Things have no property 'nmae'"),
    ("/sta/v1.1/Things?$filter=name eq 3", 400, "cannot compare text with number"),
    ("/sta/v1.1/Things?$filter=name eq 'x' or", 400, "$filter: expected more"),
    ("/sta/v1.1/Things?$filter=frobnicate(name)", 400, "unknown function frobnicate()"),
    ("/sta/v1.1/Things?$filter=name", 400, "$filter must be a condition"),
    ("/sta/v1.1/Things?$select=colour", 400, "no property 'colour'"),
    ("/sta/v1.1/Things?$expand=Sensors", 400, "no navigation property 'Sensors'"),
    ("/sta/v1.1/Things?$expand=Datastreams($top=x)", 400, "$top must be a whole number"),
    ("/sta/v1.1/Things?$orderby=properties", 400, "cannot order by a json value"),
    ("/sta/v1.1/Things?$count=yes", 400, "$count must be true or false"),
    ("/sta/v1.1/Things?$format=x&$frobnicate=1", 400, "unknown query option $frobnicate"),
    ("/sta/v1.1/Things?$filter=name eq 'it''s", 400, "cannot read"),
    ("/sta/v1.1/Things?$top=%C2%B2", 400, "$top must be a whole number"),
    ("/sta/v1.1/Things?$skip=99999999999999999999", 400, "$skip must be a whole number"),
    ("/sta/v1.1/Things(%C2%B2)", 404, "cannot read the path segment"),
    ("/sta/v1.1/Things(99999999999999999999)", 404, "cannot read the path segment"),
    ("/sta/v1.1/Observations('1--99999999999999999')", 400, "out of range"),
    ("/sta/v1.1/Things?$filter=id eq 99999999999999999999", 400, "is beyond"),
    ("/sta/v1.1/Observations?$filter=phenomenonTime gt 2026-13-45T99:99Z", 400,
     "not a valid date-time"),
])
def test_bad_requests_say_what_is_wrong(client, url, status, words):
    error = _get(client, url, status)["error"]
    assert words in error["message"], error
