"""Alert rules fire and clear on real readings; events are listed and acknowledged (audited)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from gisapp import create_app
from gisapp.alerts.events import evaluate_alerts
from gisapp.alerts.rules import AlertRule, add_version, rules_in_force
from gisapp.errors import BadRequest
from store.observations import ObservationRow as Row, write_observations
from tests.auth_helpers import make_token

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
# the same figures as migration 0012's seed (the test database is emptied per file)
RULES = [
    AlertRule("rain_1h", 0, "window_sum", "rain_gauge",
              {"datastream": "rainfall", "window_minutes": 60, "above": 50.0},
              {"vi": "Mưa trên 50 mm trong 1 giờ", "en": "Rainfall over 50 mm in 1 hour"}),
    AlertRule("rain_3h", 0, "window_sum", "rain_gauge",
              {"datastream": "rainfall", "window_minutes": 180, "above": 100.0},
              {"vi": "Mưa trên 100 mm trong 3 giờ", "en": "Rainfall over 100 mm in 3 hours"}),
    AlertRule("pump_stopped_rising", 0, "stopped_while_rising", "pump_station",
              {"state": "running", "level": "wet_well_level", "window_minutes": 30,
               "rise_above_m": 0.2}, {"vi": "Trạm bơm dừng", "en": "Pump stopped, level rising"}),
    AlertRule("lake_above_warning", 0, "latest_above", "lake",
              {"datastream": "water_level", "above": 2.0, "max_age_minutes": 120},
              {"vi": "Mực nước hồ cao", "en": "Lake above its warning level"}),
    AlertRule("cabinet_off_after_dusk", 0, "off_between", "lighting_cabinet",
              {"datastream": "lights_on", "from": "18:15", "until": "05:30",
               "timezone": "Asia/Ho_Chi_Minh", "max_age_minutes": 30},
              {"vi": "Tủ tắt sau hoàng hôn", "en": "Cabinet off after dusk"}),
]


@pytest.fixture(scope="module")
def world(sensor_url, streams):
    """The rules, and readings that make one gauge, one pump, the lake and the cabinet alarm."""
    with psycopg.connect(sensor_url) as conn:
        for rule in RULES:
            add_version(conn, rule, "test")
        rain = [Row(streams["rain_gauge/DM-1/rainfall"], NOW - timedelta(minutes=5 * k), 5.0)
                for k in range(12)]  # 60 mm in the last hour
        rain += [Row(streams["rain_gauge/DM-2/rainfall"], NOW - timedelta(minutes=5 * k), 1.0)
                 for k in range(12)]
        pump = [Row(streams["pump_station/TB-1/running"], NOW - timedelta(minutes=20), False),
                Row(streams["pump_station/TB-2/running"], NOW - timedelta(minutes=20), True)]
        for tb in ("TB-1", "TB-2"):
            pump += [Row(streams[f"pump_station/{tb}/wet_well_level"],
                         NOW - timedelta(minutes=25 - 5 * k), 1.0 + 0.1 * k) for k in range(6)]
        lake = [Row(streams["lake/HO-1/water_level"], NOW - timedelta(minutes=10), 2.4)]
        for rows in (rain, pump, lake):
            write_observations(conn, rows)
    return {"now": NOW}


def _open(url: str) -> set[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return set(conn.execute("SELECT e.rule_id, t.code FROM alert_events e JOIN things t"
                                " ON t.id = e.thing_id WHERE e.ended_at IS NULL"))


def test_rules_fire_where_their_conditions_hold(sensor_url, world):
    with psycopg.connect(sensor_url) as conn:
        result = evaluate_alerts(conn, NOW)
    assert _open(sensor_url) == {("rain_1h", "rain_gauge/DM-1"),
                                 ("pump_stopped_rising", "pump_station/TB-1"),
                                 ("lake_above_warning", "lake/HO-1")}
    assert len(result.opened) == 3 and result.ended == []
    with psycopg.connect(sensor_url) as conn:
        details = conn.execute("SELECT details FROM alert_events WHERE rule_id = 'rain_1h'"
                               ).fetchone()[0]
        pump = conn.execute("SELECT details FROM alert_events"
                            " WHERE rule_id = 'pump_stopped_rising'").fetchone()[0]
    assert details["sum"] == 60.0 and details["readings"] == 12 and details["above"] == 50.0
    assert pump["rise_m"] == pytest.approx(0.5) and pump["level_last"] == pytest.approx(1.5)


def test_evaluating_again_opens_nothing_twice(sensor_url, world):
    with psycopg.connect(sensor_url) as conn:
        evaluate_alerts(conn, NOW)
        again = evaluate_alerts(conn, NOW)
        events = conn.execute("SELECT count(*) FROM alert_events").fetchone()[0]
    assert again.opened == [] and again.ended == [] and events == 3


def test_a_lake_alert_clears_when_the_level_falls(sensor_url, streams, world):
    later = NOW + timedelta(minutes=5)
    with psycopg.connect(sensor_url) as conn:
        evaluate_alerts(conn, NOW)
        write_observations(conn, [Row(streams["lake/HO-1/water_level"], later, 1.6)],
                           now=later)
        result = evaluate_alerts(conn, later)
        ended = conn.execute("SELECT ended_at FROM alert_events WHERE rule_id ="
                             " 'lake_above_warning'").fetchone()[0]
    assert ("lake_above_warning", streams and result.ended[0][1]) in result.ended
    assert ended == later
    assert ("lake_above_warning", "lake/HO-1") not in _open(sensor_url)


def test_rain_alert_ends_when_the_hour_has_passed(sensor_url, world):
    with psycopg.connect(sensor_url) as conn:
        evaluate_alerts(conn, NOW)
        result = evaluate_alerts(conn, NOW + timedelta(minutes=61))
    assert any(rule == "rain_1h" for rule, _ in result.ended)


def test_a_new_version_of_a_rule_changes_its_threshold(sensor_url, world):
    with psycopg.connect(sensor_url) as conn:
        evaluate_alerts(conn, NOW)
        stricter = RULES[0].params | {"above": 70.0}
        version = add_version(conn, AlertRule("rain_1h", 0, "window_sum", "rain_gauge",
                                              stricter, RULES[0].title), "test")
        result = evaluate_alerts(conn, NOW)
        conn.rollback()
    assert version == 2 and [r for r, _ in result.ended] == ["rain_1h"]


def test_a_disabled_version_switches_a_rule_off(sensor_url, world):
    with psycopg.connect(sensor_url) as conn:
        off = AlertRule("lake_above_warning", 0, "latest_above", "lake", RULES[3].params,
                        RULES[3].title, enabled=False)
        add_version(conn, off, "test")
        assert "lake_above_warning" not in {r.rule_id for r in rules_in_force(conn)}
        conn.rollback()


def test_a_cabinet_off_after_dusk_alarms_and_by_day_does_not(sensor_url, streams, world):
    ds = streams["lighting_cabinet/TU-1/lights_on"]
    evening = (NOW - timedelta(days=1)).replace(hour=13, minute=0)  # 20:00 in Da Nang
    midday = evening - timedelta(hours=10)  # 10:00 in Da Nang
    with psycopg.connect(sensor_url) as conn:
        write_observations(conn, [Row(ds, evening - timedelta(minutes=5), False),
                                  Row(ds, midday - timedelta(minutes=5), False)])
        at_evening = evaluate_alerts(conn, evening)
        at_midday = evaluate_alerts(conn, midday)
        conn.rollback()
    assert ("cabinet_off_after_dusk", _thing(sensor_url, "lighting_cabinet/TU-1")) \
        in at_evening.opened
    assert ("cabinet_off_after_dusk", _thing(sensor_url, "lighting_cabinet/TU-1")) \
        in at_midday.ended


def _thing(url: str, code: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id FROM things WHERE code = %s", (code,)).fetchone()[0]


def test_an_incomplete_rule_is_refused(sensor_url):
    with psycopg.connect(sensor_url) as conn, pytest.raises(BadRequest) as raised:
        add_version(conn, AlertRule("rain_1h", 0, "window_sum", "rain_gauge",
                                    {"datastream": "rainfall"}, {}), "test")
    assert "needs window_minutes, above" in raised.value.message


@pytest.fixture(scope="module")
def client(sensor_url, world, tmp_path_factory):
    with psycopg.connect(sensor_url) as conn:
        evaluate_alerts(conn, NOW)
    app = create_app({"DATABASE_URL": sensor_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path_factory.mktemp("alerts"),
                      "PUBLIC_URL": "http://localhost"})
    yield app.test_client()
    app.extensions["engine"].dispose()


def test_open_events_are_listed_with_their_thing_and_rule(client):
    body = client.get("/api/alerts").get_json()
    rain = next(e for e in body["events"] if e["rule"]["id"] == "rain_1h")
    assert rain["thing"]["layer"] == "rain_gauges" and rain["thing"]["feature_key"] == "DM-1"
    assert rain["rule"]["title"]["vi"] == "Mưa trên 50 mm trong 1 giờ" and rain["open"]
    rules = client.get("/api/alerts/rules").get_json()["rules"]
    assert {r["id"] for r in rules} >= {"rain_1h", "rain_3h", "pump_stopped_rising"}


def test_an_operator_acknowledges_an_event_once_and_it_is_audited(client, sensor_url):
    event = next(e for e in client.get("/api/alerts").get_json()["events"]
                 if e["rule"]["id"] == "pump_stopped_rising")
    url = f"/api/alerts/{event['id']}/acknowledge"
    assert client.post(url).status_code == 401
    planner = {"Authorization": f"Bearer {make_token(sensor_url, 'planner')}"}
    done = client.post(url, headers=planner)
    assert done.status_code == 200 and done.get_json()["acknowledged_by"] == "test-planner"
    again = client.post(url, headers=planner)
    assert again.status_code == 409 and "was acknowledged by test-planner" in \
        again.get_json()["error"]["message"]
    public = next(e for e in client.get("/api/alerts").get_json()["events"]
                  if e["id"] == event["id"])
    assert public["acknowledged_at"] and public["acknowledged_by"] is None
    with psycopg.connect(sensor_url) as conn:
        actor = conn.execute("SELECT actor FROM audit_log WHERE action = 'alerts.acknowledge'"
                             " AND target = %s", (f"alert_event:{event['id']}",)).fetchone()
    assert actor == ("test-planner",)


@pytest.mark.parametrize("url, words", [("/api/alerts?state=shut", "state must be open"),
                                        ("/api/alerts?limit=0", "limit must be a whole number"),
                                        ("/api/alerts?limit=%C2%B2", "limit must be a whole"),
                                        ("/api/alerts?offset=" + "9" * 40, "offset must be a"),
                                        ("/api/alerts/999999/acknowledge", None)])
def test_bad_alert_requests_say_why(client, sensor_url, url, words):
    if words is None:
        headers = {"Authorization": f"Bearer {make_token(sensor_url, 'admin')}"}
        response = client.post(url, headers=headers)
        assert response.status_code == 404
        assert "no alert event 999999" in response.get_json()["error"]["message"]
        return
    response = client.get(url)
    assert response.status_code == 400 and words in response.get_json()["error"]["message"]


def _chunks(response):
    """The stream's messages as (event, data) pairs, read as the server sends them."""
    for chunk in response.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        if text.startswith("event: "):
            head, data = text.strip().split("\n", 1)
            yield head.removeprefix("event: "), json.loads(data.removeprefix("data: "))


def test_alert_changes_are_pushed_as_server_sent_events(client, sensor_url, streams):
    response = client.get("/api/alerts/stream", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    messages = _chunks(response)
    kind, first = next(messages)
    assert kind == "open" and {e["rule"]["id"] for e in first} >= {"rain_1h"}
    later = NOW + timedelta(minutes=1)
    with psycopg.connect(sensor_url) as conn:  # a downpour at the second gauge
        write_observations(conn, [Row(streams["rain_gauge/DM-2/rainfall"], later, 100.0)],
                           now=later)
        conn.commit()
        evaluate_alerts(conn, later)
    pushed = [next(messages), next(messages)]
    response.close()
    assert {(kind, e["rule"]["id"], e["thing"]["code"], e["open"]) for kind, e in pushed} == {
        ("alert", "rain_1h", "rain_gauge/DM-2", True),
        ("alert", "rain_3h", "rain_gauge/DM-2", True)}
    assert {e["details"]["sum"] for _, e in pushed} == {112.0}
