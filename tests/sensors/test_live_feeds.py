"""The live map's feeds: every thing's state now and at a past time (replay), and a
datastream's chart series at a resolution chosen by its span."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import requests

from gisapp import create_app
from gisapp.alerts.rules import AlertRule, add_version
from gisapp.live.series import choose_resolution
from store.observations import ObservationRow as Row, write_observations
from tests.auth_helpers import auth_headers
from tests.served import gunicorn

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
LAKE_RULE = AlertRule("lake_above_warning", 0, "latest_above", "lake",
                      {"datastream": "water_level", "above": 2.0, "max_age_minutes": 120},
                      {"vi": "Mực nước hồ cao", "en": "Lake above its warning level"})


def z(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def world(sensor_url, streams):
    """A wet gauge (60 mm in the last hour), a drizzling one (12 mm), a tripped pump with a
    high wet well, a running one, a lake above its warning level, a cabinet never heard of."""
    global NOW  # readings end when the module's tests start, not at collection: a worker
    NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)  # may start it minutes on
    with psycopg.connect(sensor_url) as conn:
        add_version(conn, LAKE_RULE, "test")
        rows = [Row(streams["rain_gauge/DM-1/rainfall"], NOW - timedelta(minutes=5 * k), 5.0)
                for k in range(12)]
        rows += [Row(streams["rain_gauge/DM-2/rainfall"], NOW - timedelta(minutes=5 * k), 1.0)
                 for k in range(12)]
        rows += [Row(streams["pump_station/TB-1/running"], NOW - timedelta(minutes=20), False),
                 Row(streams["pump_station/TB-1/wet_well_level"], NOW - timedelta(minutes=1),
                     1.7),
                 Row(streams["pump_station/TB-2/running"], NOW - timedelta(minutes=20), True),
                 Row(streams["lake/HO-1/water_level"], NOW - timedelta(minutes=10), 2.4)]
        rows += [Row(streams["pump_station/TB-2/wet_well_level"],
                     NOW - timedelta(days=20) + timedelta(minutes=k), 1.0 + (k % 60) / 100)
                 for k in range(0, 20 * 24 * 60, 30)]  # 20 days at 30 minutes
        write_observations(conn, rows, now=NOW)
    return streams


@pytest.fixture(scope="module")
def client(sensor_url):
    app = create_app({"DATABASE_URL": sensor_url, "TESTING": True, "SECRET_KEY": "test"})
    yield app.test_client()
    app.extensions["engine"].dispose()


def _by_code(body: dict) -> dict[str, dict]:
    return {f"{t['kind']}/{t['feature_key']}": t for t in body["things"]}


def test_state_now_classes_every_thing_from_its_latest_readings(client, world):
    response = client.get("/api/live/state")
    assert response.status_code == 200
    things = _by_code(response.get_json())
    assert things["rain_gauge/DM-1"]["symbol"] == "very_heavy"
    assert things["rain_gauge/DM-1"]["rain_last_hour_mm"] == pytest.approx(60.0)
    assert things["rain_gauge/DM-2"]["symbol"] == "moderate"
    assert things["pump_station/TB-1"]["symbol"] == "stopped_high"
    assert things["pump_station/TB-1"]["readings"]["running"]["value"] is False
    assert things["pump_station/TB-2"]["symbol"] == "running"
    assert things["lake/HO-1"]["symbol"] == "above_warning"
    assert things["lake/HO-1"]["warning_level_m"] == 2.0
    assert things["lighting_cabinet/TU-1"]["symbol"] == "no_data"
    gauge = things["rain_gauge/DM-1"]
    assert (gauge["layer"], gauge["lon"], gauge["lat"]) == ("rain_gauges",
                                                            pytest.approx(108.219),
                                                            pytest.approx(16.059))
    assert gauge["readings"]["rainfall"] == {"datastream": world["rain_gauge/DM-1/rainfall"],
                                             "value": 5.0, "time": z(NOW)}


def test_state_declares_the_classes_the_map_colours(client, world):
    body = client.get("/api/live/state").get_json()
    for thing in body["things"]:
        classes = [c["id"] for c in body["symbols"][thing["kind"]]["classes"]]
        assert thing["symbol"] in classes
    gauge_classes = body["symbols"]["rain_gauge"]["classes"]
    assert all(c["label"]["vi"] and c["label"]["en"] and c["colour"].startswith("#")
               for c in gauge_classes)
    assert body["thing_kinds"]["lake"]["datastreams"]["water_level"]["unit"] == "m"


def test_replay_at_a_past_time_reads_the_state_as_of_then(client, world):
    at = NOW - timedelta(minutes=30)
    body = client.get("/api/live/state", query_string={"at": z(at)}).get_json()
    assert body["replay"] is True and body["at"] == z(at)
    things = _by_code(body)
    # six readings of 5 mm lie in the hour up to then (NOW-55 .. NOW-30 min)
    assert things["rain_gauge/DM-1"]["rain_last_hour_mm"] == pytest.approx(30.0)
    assert things["rain_gauge/DM-1"]["symbol"] == "heavy"
    assert things["rain_gauge/DM-1"]["readings"]["rainfall"]["time"] == z(at)
    assert things["lake/HO-1"]["symbol"] == "no_data"  # its reading came 20 minutes later
    before = _by_code(client.get("/api/live/state", query_string={
        "at": z(NOW - timedelta(hours=3))}).get_json())
    assert before["rain_gauge/DM-1"]["symbol"] == "no_data"


def test_state_takes_an_offset_time_and_is_public_for_every_role(client, sensor_url, world):
    local = (NOW - timedelta(minutes=30)).astimezone(timezone(timedelta(hours=7)))
    bodies = []
    for role in ("public", "planner", "device"):
        response = client.get("/api/live/state", query_string={"at": local.isoformat()},
                              headers=auth_headers(sensor_url, role))
        assert response.status_code == 200, role
        bodies.append(response.get_json()["things"])
    assert bodies[0] == bodies[1] == bodies[2]


@pytest.mark.parametrize("at, says", [
    ("yesterday", "is not an ISO 8601 time"),
    ("2026-10-15T14:00:00", "has no timezone"),
    ("2999-01-01T00:00:00Z", "is in the future"),
    ("0001-01-01T00:00:00Z", "is before 1970"),
    ("2026-10-15T14:00:00+25:00", "is not an ISO 8601 time"),
])
def test_a_bad_replay_time_is_a_400_saying_why(client, at, says):
    response = client.get("/api/live/state", query_string={"at": at})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and says in error["message"]


def test_series_of_the_last_24_hours_are_the_raw_readings(client, world):
    response = client.get(f"/api/live/datastreams/{world['rain_gauge/DM-1/rainfall']}/series")
    assert response.status_code == 200
    body = response.get_json()
    assert body["resolution"] == "raw" and body["value"] == "reading"
    assert [p[1] for p in body["points"]] == [5.0] * 12
    assert body["points"][-1][0] == z(NOW)
    ds = body["datastream"]
    assert (ds["unit"], ds["label"], ds["accumulates"]) == ("mm", {"vi": "Lượng mưa",
                                                                   "en": "Rainfall"}, True)
    assert ds["thing"]["feature_key"] == "DM-1"


def test_a_30_day_chart_is_hourly_means_and_rain_is_summed(client, world):
    start, end = z(NOW - timedelta(days=30)), z(NOW + timedelta(minutes=1))
    level = client.get(f"/api/live/datastreams/{world['pump_station/TB-2/wet_well_level']}"
                       "/series", query_string={"from": start, "to": end}).get_json()
    assert level["resolution"] == "hour" and level["value"] == "mean"
    assert 470 <= len(level["points"]) <= 490  # 20 days of hours, a few hundred points
    first = level["points"][0]
    assert first[2] <= first[1] <= first[3]
    rain = client.get(f"/api/live/datastreams/{world['rain_gauge/DM-1/rainfall']}/series",
                      query_string={"from": start, "to": end}).get_json()
    assert rain["value"] == "sum" and sum(p[1] for p in rain["points"]) == pytest.approx(60.0)
    year = client.get(f"/api/live/datastreams/{world['pump_station/TB-2/wet_well_level']}"
                      "/series", query_string={"from": z(NOW - timedelta(days=365))}).get_json()
    assert year["resolution"] == "day" and 20 <= len(year["points"]) <= 22


def test_the_resolution_follows_the_span_and_the_interval():
    end = NOW
    assert choose_resolution(end - timedelta(hours=24), end, 60) == "raw"  # 1,440 minutes
    assert choose_resolution(end - timedelta(days=7), end, 60) == "hour"
    assert choose_resolution(end - timedelta(days=7), end, 900) == "raw"  # 672 quarters
    assert choose_resolution(end - timedelta(days=30), end, 300) == "hour"  # 720 hours
    assert choose_resolution(end - timedelta(days=90), end, 300) == "day"


@pytest.mark.parametrize("query, status, says", [
    ({"from": "2026-12-08T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, 400, "must be before"),
    ({"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, 400, "at most 400 days"),
    ({"to": "soon"}, 400, "is not an ISO 8601 time"),
    ({"from": "2026-12-01T00:00"}, 400, "has no timezone"),
    ({"to": "0001-01-01T00:00:00+00:00"}, 400, "is before 1970"),
])
def test_bad_series_ranges_are_400s_saying_why(client, world, query, status, says):
    response = client.get(f"/api/live/datastreams/{world['rain_gauge/DM-1/rainfall']}/series",
                          query_string=query)
    assert response.status_code == status
    assert says in response.get_json()["error"]["message"]


def test_an_unknown_datastream_is_a_404(client, world):
    response = client.get("/api/live/datastreams/987654/series")
    assert response.status_code == 404
    assert "no datastream 987654" in response.get_json()["error"]["message"]


def test_alert_streams_per_process_follow_the_setting(sensor_url, world):
    app = create_app({"DATABASE_URL": sensor_url, "TESTING": True, "SECRET_KEY": "test",
                      "ALERT_STREAMS": 1})
    client = app.test_client()
    try:
        first = client.get("/api/alerts/stream", buffered=False)
        chunks = iter(first.response)
        assert next(chunks).startswith(b"retry:")
        assert next(chunks).startswith(b"event: open")  # holds the process's one slot
        second = client.get("/api/alerts/stream").get_data(as_text=True)
        assert "event: busy" in second and "1 alert streams are open" in second
        first.close()
        third = client.get("/api/alerts/stream", buffered=False)
        again = iter(third.response)
        assert next(again).startswith(b"retry:") and next(again).startswith(b"event: open")
        third.close()
    finally:
        app.extensions["engine"].dispose()


def test_alert_streams_must_be_at_least_one(sensor_url):
    with pytest.raises(ValueError, match="GISAPP_ALERT_STREAMS must be at least 1"):
        create_app({"DATABASE_URL": sensor_url, "SECRET_KEY": "test", "ALERT_STREAMS": 0})


def test_under_gunicorn_an_alert_stream_never_takes_a_process_last_thread(sensor_url,
                                                                           tmp_path):
    with gunicorn(sensor_url, tmp_path, workers=1, threads=2) as port:
        base = f"http://127.0.0.1:{port}"
        held = requests.get(f"{base}/api/alerts/stream", stream=True, timeout=10)
        lines = held.iter_lines(decode_unicode=True)
        assert next(line for line in lines if line.startswith("event:")) == "event: open"
        busy = requests.get(f"{base}/api/alerts/stream", timeout=10)  # threads - 1 = 1 slot
        assert "event: busy" in busy.text
        state = requests.get(f"{base}/api/live/state", timeout=10)  # the other thread answers
        assert state.status_code == 200 and state.json()["things"]
        stopping = time.monotonic()  # leaving the block stops gunicorn (SIGTERM), stream open
    # The open stream ended within a second instead of holding the worker for the graceful
    # timeout (20 s; its client is still there, so it would run its 300 s out until then).
    assert time.monotonic() - stopping < 10
    rest = list(lines)  # raises if the connection was cut instead of the stream ending
    assert not [line for line in rest if line.startswith("event:")], rest
    held.close()
