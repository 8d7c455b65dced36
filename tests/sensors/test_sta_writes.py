"""Creating observations over the SensorThings API: roles, device tokens, CreateObservations."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from gisapp import create_app
from gisapp.db.engine import make_engine
from gisapp.devices import issue_device_token
from tests.auth_helpers import make_token

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def app(sensor_url, tmp_path_factory):
    app = create_app({"DATABASE_URL": sensor_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path_factory.mktemp("sta"),
                      "PUBLIC_URL": "http://localhost"})
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture(scope="module")
def tokens(sensor_url) -> dict[str, str]:
    engine = make_engine(sensor_url, pool_size=1, max_overflow=0)
    with engine.begin() as conn:
        _, _, device = issue_device_token(conn, "pump_station/TB-1")
    engine.dispose()
    return {"etl_operator": make_token(sensor_url, "etl_operator"),
            "planner": make_token(sensor_url, "planner"),
            "device": device,
            "unbound_device": make_token(sensor_url, "device", "device-nowhere")}


def _post(app, path: str, body, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().post(f"/sta/v1.1/{path}", json=body, headers=headers)


def _stored(url: str, ds: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT phenomenon_time, result FROM sensor_observations"
                            " WHERE datastream_id = %s ORDER BY 1", (ds,)).fetchall()


def test_an_operator_creates_an_observation_and_gets_its_location(app, tokens, streams,
                                                                   sensor_url):
    ds = streams["lake/HO-1/ph"]
    body = {"phenomenonTime": _iso(NOW - timedelta(minutes=1)), "result": 7.4,
            "Datastream": {"@iot.id": ds}}
    response = _post(app, "Observations", body, tokens["etl_operator"])
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"] == response.get_json()["@iot.selfLink"]
    assert response.get_json()["result"] == 7.4
    again = _post(app, "Observations", {**body, "result": 9.9}, tokens["etl_operator"])
    assert again.status_code == 200 and again.get_json()["result"] == 7.4  # first write wins
    assert _stored(sensor_url, ds) == [(NOW - timedelta(minutes=1), 7.4)]


def test_posting_under_a_datastream_links_it(app, tokens, streams, sensor_url):
    ds = streams["lake/HO-1/turbidity"]
    response = _post(app, f"Datastreams({ds})/Observations",
                     {"phenomenonTime": _iso(NOW - timedelta(minutes=2)), "result": 12},
                     tokens["etl_operator"])
    assert response.status_code == 201
    assert _stored(sensor_url, ds) == [(NOW - timedelta(minutes=2), 12.0)]


@pytest.mark.parametrize("role, status, code", [
    (None, 401, "unauthorized"), ("planner", 403, "forbidden"),
    ("unbound_device", 403, "forbidden")])
def test_only_writers_may_post(app, tokens, streams, role, status, code):
    body = {"phenomenonTime": _iso(NOW), "result": 1.0,
            "Datastream": {"@iot.id": streams["pump_station/TB-1/flow"]}}
    response = _post(app, "Observations", body, tokens.get(role))
    assert response.status_code == status and response.get_json()["error"]["code"] == code


def test_a_device_writes_to_its_own_things_datastreams_only(app, tokens, streams, sensor_url):
    own, other = streams["pump_station/TB-1/wet_well_level"], streams["pump_station/TB-2/flow"]
    ok = _post(app, f"Datastreams({own})/Observations",
               {"phenomenonTime": _iso(NOW - timedelta(minutes=3)), "result": 1.2},
               tokens["device"])
    assert ok.status_code == 201
    refused = _post(app, f"Datastreams({other})/Observations",
                    {"phenomenonTime": _iso(NOW - timedelta(minutes=3)), "result": 1.2},
                    tokens["device"])
    assert refused.status_code == 403
    assert f"not to datastream(s) {other}" in refused.get_json()["error"]["message"]
    assert _stored(sensor_url, other) == []


@pytest.mark.parametrize("body, words", [
    ({"result": 1.0, "Datastream": {"@iot.id": 1}}, "phenomenonTime is missing"),
    ({"phenomenonTime": "2026-12-07T10:00:00Z", "Datastream": {"@iot.id": 1}},
     "result is missing"),
    ({"phenomenonTime": "yesterday", "result": 1, "Datastream": {"@iot.id": 1}},
     "is not an ISO 8601 date-time"),
    ({"phenomenonTime": "2026-12-07T10:00:00", "result": 1, "Datastream": {"@iot.id": 1}},
     "needs a timezone"),
    ({"phenomenonTime": "2026-12-07T10:00:00Z/2026-12-07T11:00:00Z", "result": 1,
      "Datastream": {"@iot.id": 1}}, "only instants are accepted"),
    ({"phenomenonTime": "2026-12-07T10:00:00Z", "result": 1}, "Datastream is missing"),
    ({"phenomenonTime": "2026-12-07T10:00:00Z", "result": 1, "Datastream": 3},
     "Datastream must be an object with an integer @iot.id"),
    ([1, 2], "an observation must be a JSON object"),
])
def test_malformed_observations_are_400_naming_the_member(app, tokens, body, words):
    response = _post(app, "Observations", body, tokens["etl_operator"])
    assert response.status_code == 400 and words in response.get_json()["error"]["message"]


def test_an_implausible_reading_is_400_with_the_reason(app, tokens, streams):
    body = {"phenomenonTime": _iso(NOW), "result": 22.0,
            "Datastream": {"@iot.id": streams["lake/HO-1/ph"]}}
    response = _post(app, "Observations", body, tokens["etl_operator"])
    assert response.status_code == 400
    assert "outside the plausible range 0.0 to 14.0" in response.get_json()["error"]["message"]


def test_create_observations_answers_row_by_row(app, tokens, streams, sensor_url):
    level = streams["lake/HO-1/water_level"]
    oxygen = streams["lake/HO-1/dissolved_oxygen"]
    times = [_iso(NOW - timedelta(minutes=15 * k)) for k in range(4)]
    body = [
        {"Datastream": {"@iot.id": level}, "components": ["phenomenonTime", "result"],
         "dataArray@iot.count": 4,
         "dataArray": [[times[0], 1.5], [times[1], 1.4], [times[1], 1.4], [times[2]]]},
        {"Datastream": {"@iot.id": oxygen}, "components": ["result", "phenomenonTime"],
         "dataArray": [[6.1, times[3]], ["low", times[2]]]},
    ]
    response = _post(app, "CreateObservations", body, tokens["etl_operator"])
    assert response.status_code == 201
    answer = response.get_json()
    assert answer[0].startswith("http://localhost/sta/v1.1/Observations('")
    assert answer[1].startswith("http://localhost/sta/v1.1/Observations('")
    assert answer[2] == answer[1]  # the same reading twice: stored once, the same entity
    assert answer[3] == "error: a dataArray row must list 2 values"
    assert answer[4].startswith("http://localhost/sta/v1.1/Observations('")
    assert answer[5] == "error: result 'low' must be a finite number for a measurement"
    assert [r for _, r in _stored(sensor_url, level)] == [1.4, 1.5]
    with psycopg.connect(sensor_url) as conn:
        audit = conn.execute("SELECT details FROM audit_log WHERE action ="
                             " 'sta.create_observations' ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert audit == {"inserted": 3, "duplicates": 1, "refused": 2}


@pytest.mark.parametrize("body, words", [
    ({"dataArray": []}, "takes a JSON array"),
    ([{"Datastream": {"@iot.id": 1}, "components": ["colour"], "dataArray": []}],
     "components must be a list of"),
    ([{"Datastream": {"@iot.id": 1}, "components": ["result"], "dataArray": 3}],
     "dataArray must be a list of rows"),
])
def test_a_malformed_create_observations_body_is_400(app, tokens, body, words):
    response = _post(app, "CreateObservations", body, tokens["etl_operator"])
    assert response.status_code == 400 and words in response.get_json()["error"]["message"]


def test_a_device_may_not_batch_into_another_things_datastream(app, tokens, streams):
    body = [{"Datastream": {"@iot.id": streams["lake/HO-1/ph"]},
             "components": ["phenomenonTime", "result"], "dataArray": [[_iso(NOW), 7.0]]}]
    response = _post(app, "CreateObservations", body, tokens["device"])
    assert response.status_code == 403
