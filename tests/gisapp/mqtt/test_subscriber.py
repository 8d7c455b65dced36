"""The ingest subscriber against a real broker and database: readings published over MQTT
are stored once, malformed messages are dead-lettered with a reason, restarts are survived."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from typing import Iterator

import psycopg
import pytest

from gisapp import create_app
from gisapp.mqtt.address import parse_mqtt_url
from gisapp.mqtt.subscriber import Subscriber
from gisapp.mqtt.topics import observations_topic
from store.sensor_things import register_things
from tests.mqtt_broker import TESTER, Broker, mqtt_broker, publish, running_broker  # noqa: F401
from tests.pg_cluster import wait_for
from tests.served import GISAPP

FEATURES = """
INSERT INTO drainage_nodes (node_id, kind, geom) VALUES
  ('TB-1', 'pump_station', ST_SetSRID(ST_MakePoint(108.2200, 16.0600), 4326));
INSERT INTO rain_gauges (gauge_id, name, ward_code, geom) VALUES
  ('DM-1', 'Trạm đo mưa Hải Châu', '20194', ST_SetSRID(ST_MakePoint(108.2190, 16.0590), 4326));
"""
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def mqtt_url(own_database) -> str:
    """A database with one rain gauge and one pump station registered as things."""
    url = own_database("mqtt")
    with psycopg.connect(url) as conn:
        conn.execute(FEATURES)
        register_things(conn)
    return url


@pytest.fixture(scope="module")
def streams(mqtt_url: str) -> dict[str, int]:
    with psycopg.connect(mqtt_url) as conn:
        return dict(conn.execute("SELECT code, id FROM datastreams").fetchall())


@pytest.fixture(scope="module")
def subscriber(mqtt_broker: Broker, mqtt_url: str) -> Iterator[Subscriber]:
    """The subscriber, running in a thread of this process for the whole module."""
    sub = Subscriber(parse_mqtt_url(mqtt_broker.url), mqtt_url, batch_wait=0.05,
                     client_id="gisapp-ingest-test")
    stop = threading.Event()
    thread = threading.Thread(target=sub.run, args=(stop,), daemon=True)
    thread.start()
    assert sub.connected.wait(10)
    yield sub
    stop.set()
    thread.join(10)


def _reading(when: datetime, result, **extra) -> str:
    return json.dumps({"phenomenonTime": when.isoformat(), "result": result, **extra})


def _rows(url: str, datastream: int) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT phenomenon_time, result FROM sensor_observations"
                            " WHERE datastream_id = %s ORDER BY 1", (datastream,)).fetchall()


def _dead_letters(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT topic, convert_from(payload, 'UTF8'), kind, reason"
                            " FROM sensor_dead_letters ORDER BY id").fetchall()


def test_a_published_reading_is_stored(mqtt_broker, mqtt_url, streams, subscriber):
    rain = streams["rain_gauge/DM-1/rainfall"]
    when = NOW - timedelta(minutes=30)
    publish(mqtt_broker, [(observations_topic(rain), _reading(when, 12.5))])
    assert wait_for(lambda: _rows(mqtt_url, rain), 10) == [(when, 12.5)]


def test_a_reading_published_over_mqtt_is_read_through_the_sensorthings_api(
        mqtt_broker, mqtt_url, streams, subscriber, tmp_path):
    rain = streams["rain_gauge/DM-1/rainfall"]
    when = NOW - timedelta(minutes=25)
    publish(mqtt_broker, [(observations_topic(rain), _reading(when, 4.5))])
    assert wait_for(lambda: (when, 4.5) in _rows(mqtt_url, rain), 10)
    app = create_app({"DATABASE_URL": mqtt_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path / "data", "PUBLIC_URL": "http://localhost"})
    try:
        response = app.test_client().get(
            f"/sta/v1.1/Datastreams({rain})/Observations"
            f"?$filter=phenomenonTime eq {when.isoformat().replace('+00:00', 'Z')}")
    finally:
        app.extensions["engine"].dispose()
    assert response.status_code == 200, response.get_json()
    [observation] = response.get_json()["value"]
    assert observation["result"] == 4.5
    assert datetime.fromisoformat(observation["phenomenonTime"].replace("Z", "+00:00")) == when


def test_duplicates_and_out_of_order_readings_are_idempotent(mqtt_broker, mqtt_url, streams,
                                                             subscriber):
    flow = streams["pump_station/TB-1/flow"]
    times = [NOW - timedelta(minutes=m) for m in (3, 1, 2)]
    topic = observations_topic(flow)
    publish(mqtt_broker, [(topic, _reading(times[0], 30.0)), (topic, _reading(times[1], 10.0)),
                          (topic, _reading(times[2], 20.0)),
                          (topic, _reading(times[1], 99.0)),  # a late copy: the first wins
                          (topic, _reading(times[0], 30.0))])
    rows = wait_for(lambda: len(_rows(mqtt_url, flow)) >= 3 and _rows(mqtt_url, flow), 10)
    publish(mqtt_broker, [(topic, _reading(times[2], 20.0))])  # a retry, after the commit
    wait_for(lambda: subscriber.stats.duplicates >= 3, 10)
    assert _rows(mqtt_url, flow) == rows == [(times[0], 30.0), (times[2], 20.0),
                                             (times[1], 10.0)]
    assert subscriber.stats.duplicates >= 3
    with psycopg.connect(mqtt_url) as conn:
        latest = conn.execute("SELECT phenomenon_time, result FROM datastream_latest"
                              " WHERE datastream_id = %s", (flow,)).fetchone()
    assert latest == (times[1], 10.0)


def test_malformed_messages_are_dead_lettered_and_the_subscriber_lives(
        mqtt_broker, mqtt_url, streams, subscriber):
    rain = streams["rain_gauge/DM-1/rainfall"]
    running = streams["pump_station/TB-1/running"]
    when = (NOW - timedelta(minutes=20)).isoformat()
    bad = [
        (observations_topic(rain), b"{not json", "json", "payload is not JSON"),
        (observations_topic(rain), b"[1, 2]", "json", "must be a JSON object"),
        (observations_topic(rain), b"x" * 70_000, "json", "over the 65536 allowed"),
        (observations_topic(100), _reading(NOW, 1.0), "datastream",
         "datastream 100 does not exist"),
        (observations_topic(rain), json.dumps({"phenomenonTime": "2026-12-07 10:00",
                                               "result": 1}), "time", "needs a timezone"),
        (observations_topic(rain), json.dumps({"result": 1}), "time", "phenomenonTime is missing"),
        (observations_topic(rain), json.dumps({"phenomenonTime": when, "result": "heavy"}),
         "result", "must be a finite number"),
        (observations_topic(running), json.dumps({"phenomenonTime": when, "result": 7}),
         "result", "true or false"),
        ("v1.1/Datastreams(1)/Things", _reading(NOW, 1.0), "topic", "is not v1.1/Datastreams"),
        ("v1.1/Observations", _reading(NOW, 1.0), "topic", "Datastream is missing"),
        (observations_topic(rain), json.dumps({"phenomenonTime": when}), "result",
         "result is missing"),
        (observations_topic(rain), _reading(NOW + timedelta(hours=1), 1.0), "time",
         "in the future"),
        (observations_topic(rain), json.dumps({"phenomenonTime": when, "result": 2.0,
                                               "parameters": {"note": "a\u0000b"}}),
         "database", "the database refused it"),
    ]
    before = len(_dead_letters(mqtt_url))
    publish(mqtt_broker, [(topic, payload) for topic, payload, _, _ in bad], user=TESTER)
    good = NOW - timedelta(minutes=10)
    publish(mqtt_broker, [(observations_topic(rain), _reading(good, 3.0))])
    assert wait_for(lambda: (good, 3.0) in _rows(mqtt_url, rain), 10)
    letters = wait_for(lambda: len(_dead_letters(mqtt_url)) >= before + len(bad)
                       and _dead_letters(mqtt_url)[before:], 10)
    by_topic_payload = {(t, p): (k, r) for t, p, k, r in letters}
    for topic, payload, kind, words in bad:
        payload = payload if isinstance(payload, str) else payload.decode()
        assert by_topic_payload[(topic, payload)][0] == kind, (topic, payload)
        assert words in by_topic_payload[(topic, payload)][1], (topic, payload)
    assert len(letters) == len(bad)
    assert sum(subscriber.stats.dead_letters.values()) >= len(bad)


def test_a_reading_on_v1_1_observations_names_its_datastream(mqtt_broker, mqtt_url, streams,
                                                             subscriber):
    level = streams["pump_station/TB-1/wet_well_level"]
    when = NOW - timedelta(minutes=5)
    publish(mqtt_broker, [("v1.1/Observations",
                           _reading(when, 1.25, Datastream={"@iot.id": level}))], user=TESTER)
    assert wait_for(lambda: _rows(mqtt_url, level), 10) == [(when, 1.25)]


def test_the_subscriber_resumes_after_the_broker_restarts(running_broker, mqtt_url, streams,
                                                          subscriber):
    level = streams["pump_station/TB-1/wet_well_level"]
    running_broker.stop()
    assert wait_for(lambda: not subscriber.connected.is_set(), 10)
    running_broker.start()
    assert subscriber.connected.wait(15)
    when = NOW - timedelta(minutes=4)
    publish(running_broker, [(observations_topic(level), _reading(when, 1.5))])
    assert wait_for(lambda: (when, 1.5) in _rows(mqtt_url, level), 10)


def test_readings_published_while_the_subscriber_is_away_arrive_later(mqtt_broker, mqtt_url,
                                                                      streams):
    ph = streams["pump_station/TB-1/flow"]
    options = dict(batch_wait=0.05, client_id="gisapp-ingest-away")
    first = Subscriber(parse_mqtt_url(mqtt_broker.url), mqtt_url, **options)
    stop = threading.Event()
    thread = threading.Thread(target=first.run, args=(stop,), daemon=True)
    thread.start()
    assert first.connected.wait(10)
    stop.set()
    thread.join(10)
    when = NOW - timedelta(minutes=40)
    publish(mqtt_broker, [(observations_topic(ph), _reading(when, 44.0))])  # queued for it
    again = Subscriber(parse_mqtt_url(mqtt_broker.url), mqtt_url, **options)
    stop = threading.Event()
    thread = threading.Thread(target=again.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: (when, 44.0) in _rows(mqtt_url, ph), 10)
    finally:
        stop.set()
        thread.join(10)


def test_gisapp_mqtt_subscribe_writes_until_terminated(mqtt_broker, mqtt_url, streams):
    rain = streams["rain_gauge/DM-1/rainfall"]
    env = {**os.environ, "DATABASE_URL": mqtt_url, "MQTT_URL": mqtt_broker.url}
    proc = subprocess.Popen([str(GISAPP), "mqtt", "subscribe", "--batch-wait", "0.05",
                             "--client-id", "gisapp-ingest-cli"], env=env,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: any("subscribed to v1.1/#" in line for line in lines), 60), lines
        when = NOW - timedelta(minutes=50)
        publish(mqtt_broker, [(observations_topic(rain), _reading(when, 7.5)),
                              (observations_topic(rain), b"nonsense")])
        assert wait_for(lambda: (when, 7.5) in _rows(mqtt_url, rain), 30)
        assert wait_for(lambda: ("nonsense",) in _payloads(mqtt_url), 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(10)
    assert proc.returncode == 0, lines
    assert "dead letters: json 1" in lines[-1], lines
    listed = subprocess.run([str(GISAPP), "mqtt", "dead-letters", "--limit", "1"], env=env,
                            capture_output=True, text=True, timeout=60)
    report = json.loads(listed.stdout)
    assert report["counts"]["json"] >= 1
    assert report["latest"][0]["payload"] == "nonsense"
    assert "not JSON" in report["latest"][0]["reason"]


def _payloads(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT convert_from(payload, 'UTF8') FROM sensor_dead_letters"
                            " ORDER BY id").fetchall()
