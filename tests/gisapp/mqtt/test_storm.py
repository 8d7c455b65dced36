"""`gisapp demo sensors`: the demo storm, and its readings through the broker into the database."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from gisapp.alerts.events import evaluate_alerts
from gisapp.alerts.rules import AlertRule, add_version
from gisapp.db.migrate import MIGRATIONS
from gisapp.mqtt.address import parse_mqtt_url
from gisapp.mqtt.storm import PEAK_AT, demo_streams, storm_readings
from gisapp.mqtt.subscriber import Subscriber
from store.sensor_things import register_things
from tests.mqtt_broker import Broker, mqtt_broker  # noqa: F401
from tests.pg_cluster import wait_for
from tests.served import GISAPP

START = datetime(2026, 10, 15, 9, 0, tzinfo=timezone.utc)  # 16:00 in Da Nang
FEATURES = """
INSERT INTO drainage_nodes (node_id, kind, geom) VALUES
  ('TB-1', 'pump_station', ST_SetSRID(ST_MakePoint(108.2200, 16.0600), 4326));
INSERT INTO water (water_id, name, kind, geom) VALUES
  ('HO-1', 'Hồ Thạc Gián', 'lake', ST_Multi(ST_Buffer(ST_SetSRID(
      ST_MakePoint(108.2150, 16.0580), 4326), 0.001)));
INSERT INTO lighting_cabinets (cabinet_id, name, geom) VALUES
  ('TU-1', 'Tủ Bạch Đằng 1', ST_SetSRID(ST_MakePoint(108.2230, 16.0630), 4326));
INSERT INTO rain_gauges (gauge_id, name, ward_code, geom) VALUES
  ('DM-1', 'Trạm đo mưa Hải Châu', '20194', ST_SetSRID(ST_MakePoint(108.2190, 16.0590), 4326));
"""


@pytest.fixture(scope="module")
def demo(test_url: str):
    """The demo city's datastreams, their declared ranges, and a 6-hour storm over them."""
    with psycopg.connect(test_url) as conn:
        streams = demo_streams(conn)
        ranges = {r[0]: r[1:] for r in conn.execute(
            "SELECT id, valid_min, valid_max FROM datastreams")}
    return streams, ranges, list(storm_readings(streams, START, 6))


def _series(readings, stream_id: int) -> list[tuple[datetime, object]]:
    return [(t, v) for t, s, v in readings if s == stream_id]


def test_every_demo_datastream_gets_readings_at_its_interval(demo):
    streams, _, readings = demo
    assert {s.thing_kind for s in streams} == {"rain_gauge", "pump_station", "lake",
                                               "lighting_cabinet"}
    counts = Counter(s for _, s, _ in readings)
    for s in streams:
        assert counts[s.id] == 6 * 3600 // s.interval_s + 1, s
    times = [t for t, _, _ in readings]
    assert times == sorted(times) and times[0] == START
    assert times[-1] == START + timedelta(hours=6)


def test_readings_stay_within_each_datastreams_declared_range(demo):
    _, ranges, readings = demo
    for _, stream, value in readings:
        low, high = ranges[stream]
        if isinstance(value, bool):
            continue
        assert (low is None or value >= low) and (high is None or value <= high), stream


def test_the_wettest_gauge_passes_50_mm_in_an_hour(demo):
    streams, _, readings = demo
    wettest = 0.0
    for s in (s for s in streams if s.kind == "rainfall"):
        values = [v for _, v in _series(readings, s.id)]
        per_hour = 3600 // s.interval_s
        wettest = max(wettest, *(sum(values[i:i + per_hour]) for i in range(len(values))))
    assert 50 < wettest < 150


def test_the_first_pump_station_trips_while_its_wet_well_rises(demo):
    streams, _, readings = demo
    first = {s.kind: s.id for s in streams if s.thing_kind == "pump_station" and s.rank == 0}
    running = dict(_series(readings, first["running"]))
    level = dict(_series(readings, first["wet_well_level"]))
    times = sorted(running)
    rising_while_stopped = [b for a, b in zip(times, times[1:])
                            if not running[b] and level[b] > level[a] and level[b] > 1.5]
    assert len(rising_while_stopped) >= 20  # minutes of the 40-minute trip
    assert running[times[-1]] is False  # after the storm the well is pumped down
    assert any(running.values())


def test_cabinets_are_on_after_dusk_and_the_first_faults(demo):
    streams, _, readings = demo
    for s in (s for s in streams if s.kind == "lights_on" and s.rank == 1):
        series = dict(_series(readings, s.id))
        assert series[START] is False  # 16:00 in Da Nang
        assert series[START + timedelta(hours=3)] is True  # 19:00
    faults = [s for s in streams if s.kind == "fault"]
    assert any(v for _, v in _series(readings, faults[0].id))
    assert not any(v for s in faults[1:] for _, v in _series(readings, s.id))


def _seed_alert_rules(conn: psycopg.Connection) -> None:
    """Migration 0012's alert rules (the scratch database was emptied)."""
    path = next((MIGRATIONS / "versions").glob("0012_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for rule in module.SEED_ALERT_RULES:
        add_version(conn, AlertRule(rule["rule_id"], 0, rule["kind"], rule["thing_kind"],
                                    rule["params"], rule["title"]), "test")


def test_gisapp_demo_sensors_sends_the_storm_through_the_broker_and_it_fires_alerts(
        mqtt_broker: Broker, own_database):
    url = own_database("storm")
    with psycopg.connect(url) as conn:
        conn.execute(FEATURES)
        register_things(conn)
        _seed_alert_rules(conn)
        streams = demo_streams(conn)
    expected = len(list(storm_readings(streams, START, 6)))
    subscriber = Subscriber(parse_mqtt_url(mqtt_broker.url), url, batch_wait=0.05,
                            client_id="gisapp-ingest-storm")
    stop = threading.Event()
    thread = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert subscriber.connected.wait(10)
        launched = datetime.now(timezone.utc)
        result = subprocess.run(
            [str(GISAPP), "demo", "sensors", "--hours", "6", "--speed", "0", "--dir",
             str(mqtt_broker.cfg.directory)], capture_output=True, text=True, timeout=120,
            env={**os.environ, "DATABASE_URL": url, "MQTT_URL": mqtt_broker.url})
        assert result.returncode == 0, result.stderr
        assert f"{expected:,} readings published" in result.stdout.replace("\n", " ")

        def stored() -> int:
            with psycopg.connect(url) as conn:
                return conn.execute("SELECT count(*) FROM sensor_observations").fetchone()[0]

        assert wait_for(lambda: stored() >= expected, 60)
        assert stored() == expected
        assert sum(subscriber.stats.dead_letters.values()) == 0
    finally:
        stop.set()
        thread.join(10)
    # Two hours before the peak: nothing yet (the cabinets' rule depends on the hour now).
    peak = launched - timedelta(hours=6) + timedelta(hours=6 * PEAK_AT)
    with psycopg.connect(url) as conn:
        early = evaluate_alerts(conn, peak - timedelta(hours=2))
    assert not [rule for rule, _ in early.opened if rule != "cabinet_off_after_dusk"]
    # Half an hour after the peak: the wettest hour is centred on it, and the first pump
    # station has been stopped (tripped) while its wet well rose.
    with psycopg.connect(url) as conn:
        at_peak = evaluate_alerts(conn, peak + timedelta(minutes=30))
        things = dict(conn.execute("SELECT id, code FROM things"))
    assert {("rain_1h", "rain_gauge/DM-1"), ("pump_stopped_rising", "pump_station/TB-1")} \
        <= {(rule, things[t]) for rule, t in at_peak.opened}, at_peak
    # When the storm is over, the lake has risen above its warning level and the rain ended.
    with psycopg.connect(url) as conn:
        after = evaluate_alerts(conn, launched)
    assert ("lake_above_warning", "lake/HO-1") in {(r, things[t]) for r, t in after.opened}
    assert ("rain_1h", "rain_gauge/DM-1") in {(r, things[t]) for r, t in after.ended}
