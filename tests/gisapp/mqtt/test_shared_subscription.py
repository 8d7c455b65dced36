"""Several subscribers on one `$share/` subscription split the readings: each stored once,
none lost, none delivered twice; and the subscriber's MQTT reader cuts packets right however
the bytes arrive."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from gisapp.mqtt.address import parse_mqtt_url
from gisapp.mqtt.subscriber import Subscriber
from gisapp.mqtt.topics import observations_topic
from gisapp.mqtt.wire import MqttConnection, Publish, _packet, pubacks
from store.sensor_things import register_things
from tests.mqtt_broker import mqtt_broker, publish  # noqa: F401
from tests.pg_cluster import wait_for

GAUGE = """
INSERT INTO rain_gauges (gauge_id, name, ward_code, geom) VALUES
  ('DM-7', 'Trạm đo mưa chia sẻ', '20194', ST_SetSRID(ST_MakePoint(108.2190, 16.0590), 4326));
"""
READINGS = 3000


@pytest.fixture(scope="module")
def shared_url(own_database) -> str:
    url = own_database("mqtt_shared")
    with psycopg.connect(url) as conn:
        conn.execute(GAUGE)
        register_things(conn)
    return url


def test_two_shared_subscribers_split_the_readings_without_loss_or_duplicates(
        mqtt_broker, shared_url):
    with psycopg.connect(shared_url) as conn:
        rain = conn.execute("SELECT id FROM datastreams").fetchone()[0]
    subscribers = [Subscriber(parse_mqtt_url(mqtt_broker.url), shared_url, shared=True,
                              client_id=f"gisapp-ingest-shared-{n}", batch_size=100,
                              batch_wait=0.05) for n in (1, 2)]
    stop = threading.Event()
    threads = [threading.Thread(target=s.run, args=(stop,), daemon=True) for s in subscribers]
    for thread in threads:
        thread.start()
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=20)
    times = [start + timedelta(minutes=5 * k) for k in range(READINGS)]

    def stored() -> int:
        with psycopg.connect(shared_url) as conn:
            return conn.execute("SELECT count(DISTINCT phenomenon_time) FROM"
                                " sensor_observations WHERE datastream_id = %s",
                                (rain,)).fetchone()[0]

    try:
        assert all(s.connected.wait(10) for s in subscribers)
        publish(mqtt_broker, [(observations_topic(rain), json.dumps(
            {"phenomenonTime": t.isoformat(), "result": k % 40}))
            for k, t in enumerate(times)])
        assert wait_for(lambda: stored() == READINGS, 30), stored()
        assert wait_for(lambda: sum(s.stats.received for s in subscribers) == READINGS, 10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
    received = [s.stats.received for s in subscribers]
    assert all(n > 0 for n in received), received  # split between the two ...
    assert sum(received) == READINGS  # ... each message to one of them only
    assert [s.stats.duplicates for s in subscribers] == [0, 0]
    assert sum(s.stats.inserted for s in subscribers) == READINGS
    with psycopg.connect(shared_url) as conn:
        rows = conn.execute("SELECT phenomenon_time, result FROM sensor_observations"
                            " WHERE datastream_id = %s ORDER BY 1", (rain,)).fetchall()
    assert rows == [(t, float(k % 40)) for k, t in enumerate(times)]


def _publish_packet(mid: int, qos: int, topic: bytes, payload: bytes) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic + (mid.to_bytes(2, "big") if qos else b"")
    return _packet(0x30 | (qos << 1), body + payload)


def test_packets_are_cut_right_however_the_bytes_arrive():
    sent = [Publish(7, 1, b"v1.1/Datastreams(3)/Observations", b'{"result": 1}'),
            Publish(0, 0, "v1.1/Trạm".encode(), b"x" * 300),  # a 2-byte remaining length
            Publish(65535, 1, b"\xff\xfe", b""),  # not UTF-8, empty payload
            Publish(9, 1, b"t", b"y" * 20_000)]  # a 3-byte remaining length
    stream = b"".join(_publish_packet(*p) for p in sent) + b"\xd0\x00"  # and a PINGRESP
    for cut in (1, 2, 3, 5, 7, 64, 333, len(stream)):
        reader = MqttConnection(parse_mqtt_url("mqtt://u:p@127.0.0.1:1"), "test")
        got = []
        for start in range(0, len(stream), cut):
            reader._inbuf += stream[start:start + cut]
            got += reader._parse()
        assert got == sent, cut
        assert not reader._inbuf


def test_a_batch_of_acknowledgements_is_one_puback_per_message():
    assert pubacks([1, 258, 65535]) == (b"\x40\x02\x00\x01" b"\x40\x02\x01\x02"
                                        b"\x40\x02\xff\xff")


def test_a_refused_account_is_logged_with_the_reason_and_retried(mqtt_broker, shared_url,
                                                                  caplog):
    address = parse_mqtt_url(mqtt_broker.url)
    wrong = parse_mqtt_url(f"mqtt://{address.user}:not-the-password@{address.listen}")
    subscriber = Subscriber(wrong, shared_url, client_id="gisapp-ingest-wrong")
    stop = threading.Event()
    thread = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
    with caplog.at_level("ERROR", logger="gisapp.mqtt.subscriber"):
        thread.start()
        try:
            assert wait_for(lambda: len([r for r in caplog.records
                                         if "refused the account" in r.getMessage()]) >= 2, 10)
            assert thread.is_alive() and not subscriber.connected.is_set()
        finally:
            stop.set()
            thread.join(10)
    assert "bad user name or password" in caplog.records[0].getMessage() \
        or "not authorised" in caplog.records[0].getMessage()
