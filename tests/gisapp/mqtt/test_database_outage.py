"""The subscriber outlives its database: readings received while PostgreSQL is down are
written once it is back (a cluster of the test's own, stopped and started for real)."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import psycopg

from gisapp.mqtt.address import parse_mqtt_url
from gisapp.mqtt.subscriber import Subscriber
from gisapp.mqtt.topics import observations_topic
from store.sensor_things import register_things
from tests.mqtt_broker import mqtt_broker, publish  # noqa: F401
from tests.pg_cluster import pg_cluster, running_cluster, wait_for  # noqa: F401

GAUGE = """
INSERT INTO rain_gauges (gauge_id, name, ward_code, geom) VALUES
  ('DM-9', 'Trạm đo mưa thử', '20194', ST_SetSRID(ST_MakePoint(108.2190, 16.0590), 4326));
"""


def test_readings_received_while_the_database_is_down_are_written_when_it_is_back(
        mqtt_broker, running_cluster):
    url = running_cluster.create_database("gisapp_mqtt_outage")
    with psycopg.connect(url) as conn:
        conn.execute(GAUGE)
        register_things(conn)
        rain = conn.execute("SELECT id FROM datastreams").fetchone()[0]
    subscriber = Subscriber(parse_mqtt_url(mqtt_broker.url), url, batch_wait=0.05,
                            client_id="gisapp-ingest-outage")
    stop = threading.Event()
    thread = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
    thread.start()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    times = [now - timedelta(minutes=m) for m in (15, 10, 5)]

    def stored() -> list:
        with psycopg.connect(url) as conn:
            return [r[0] for r in conn.execute(
                "SELECT phenomenon_time FROM sensor_observations ORDER BY 1")]

    try:
        assert subscriber.connected.wait(10)
        publish(mqtt_broker, [(observations_topic(rain), json.dumps(
            {"phenomenonTime": times[0].isoformat(), "result": 1.0}))])
        assert wait_for(lambda: stored() == times[:1], 10)
        running_cluster.stop()
        publish(mqtt_broker, [(observations_topic(rain), json.dumps(
            {"phenomenonTime": t.isoformat(), "result": 2.0})) for t in times[1:]])
        wait_for(lambda: not subscriber._buffer, 5)  # taken into a batch that cannot commit
        assert thread.is_alive()
        running_cluster.start()
        assert wait_for(lambda: stored() == times, 30)
        assert thread.is_alive()
        assert subscriber.stats.inserted == 3
    finally:
        stop.set()
        thread.join(15)
