"""The live map during the demo storm (`gisapp.mqtt.storm`, the readings `gisapp demo
sensors` publishes), written through the one write path: replaying its peak shows the
wettest gauges red and the tripped pump station stopped with its wet well high; the storm's
end shows the lake above its warning level."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import psycopg
import pytest

from gisapp.alerts.events import evaluate_alerts
from gisapp.mqtt.storm import PEAK_AT, demo_streams, storm_readings
from store.observations import ObservationRow, write_observations
from store.sensor_things import register_things
from tests.gisapp.mqtt.test_storm import _seed_alert_rules
from tests.gisapp.web.conftest import MAP_BUILT, MAP_IDLE, LiveServer, browse, serve

HOURS = 6
FEATURES = """
INSERT INTO drainage_nodes (node_id, kind, geom) VALUES
  ('TB-1', 'pump_station', ST_SetSRID(ST_MakePoint(108.2140, 16.0640), 4326)),
  ('TB-2', 'pump_station', ST_SetSRID(ST_MakePoint(108.2000, 16.0520), 4326));
INSERT INTO water (water_id, name, kind, geom) VALUES
  ('HO-1', 'Hồ Thạc Gián', 'lake', ST_Multi(ST_Buffer(ST_SetSRID(
      ST_MakePoint(108.2080, 16.0560), 4326), 0.001)));
INSERT INTO lighting_cabinets (cabinet_id, name, geom) VALUES
  ('TU-1', 'Tủ Bạch Đằng 1', ST_SetSRID(ST_MakePoint(108.2040, 16.0620), 4326)),
  ('TU-2', 'Tủ Hùng Vương', ST_SetSRID(ST_MakePoint(108.2160, 16.0540), 4326));
INSERT INTO rain_gauges (gauge_id, name, ward_code, geom) VALUES
  ('DM-1', 'Trạm đo mưa Hải Châu', '20194', ST_SetSRID(ST_MakePoint(108.2190, 16.0590), 4326)),
  ('DM-2', 'Trạm đo mưa Thanh Khê', '20200', ST_SetSRID(ST_MakePoint(108.1960, 16.0600), 4326)),
  ('DM-3', 'Trạm đo mưa Thạc Gián', '20197', ST_SetSRID(ST_MakePoint(108.2100, 16.0680), 4326));
"""
VIEW = "map=14.5/16.0600/108.2075"
READY = f"() => ({MAP_BUILT}) || !document.getElementById('map-error').hidden"
SYMBOLS = """() => Object.fromEntries(window.gisappLive.state().things
  .map((t) => [`${t.kind}/${t.feature_key}`, t.symbol]))"""


@pytest.fixture(scope="module")
def storm(own_database) -> dict:
    """The demo storm over a few assets of every kind, ending now, and the alerts it fired."""
    url = own_database("livestorm")
    end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    start = end - timedelta(hours=HOURS)
    with psycopg.connect(url) as conn:
        conn.execute(FEATURES)
        register_things(conn)
        _seed_alert_rules(conn)
        streams = demo_streams(conn)
        readings = list(storm_readings(streams, start, HOURS))
        write_observations(conn, [ObservationRow(s, t, v) for t, s, v in readings], now=end)
        codes = dict(conn.execute("SELECT d.id, t.code FROM datastreams d"
                                  " JOIN things t ON t.id = d.thing_id"))
        kinds = dict(conn.execute("SELECT id, kind FROM datastreams"))
        peak = start + timedelta(hours=HOURS * PEAK_AT)
        evaluate_alerts(conn, peak + timedelta(minutes=30))
    # when the first pump station (TB-1) was stopped with its wet well at 1.5 m or more
    series: dict[str, dict[datetime, object]] = {"running": {}, "wet_well_level": {}}
    for t, s, v in readings:
        if codes[s] == "pump_station/TB-1" and kinds[s] in series:
            series[kinds[s]][t] = v
    tripped = sorted(t for t, running in series["running"].items()
                     if running is False and series["wet_well_level"][t] >= 1.6)
    assert tripped, "the storm no longer trips the first pump station"
    return {"url": url, "end": end, "peak": peak, "tripped": tripped[len(tripped) // 2]}


@pytest.fixture(scope="module")
def storm_server(storm, tmp_path_factory, map_assets) -> Iterator[LiveServer]:
    with serve(storm["url"], tmp_path_factory.mktemp("data"), map_assets) as served:
        yield served


def _replay(session, when: datetime) -> dict[str, str]:
    session.page.evaluate("(iso) => window.gisappLive.setTime(iso)", when.isoformat())
    session.page.evaluate(MAP_IDLE)
    return session.page.evaluate(SYMBOLS)


def test_replaying_the_demo_storm_shows_its_peak_and_its_end(browser, storm_server, storm):
    with browse(browser, storm_server) as session:
        session.page.goto(f"/map#{VIEW}")
        session.page.wait_for_function(READY, timeout=30_000)
        session.page.wait_for_function("() => window.gisappLive?.state() != null")
        session.page.evaluate(MAP_IDLE)
        now = session.page.evaluate(SYMBOLS)
        # the storm is ending: the rain has eased, the lake has risen above its warning level
        assert now["lake/HO-1"] == "above_warning"
        assert {now[f"rain_gauge/DM-{n}"] for n in (1, 2, 3)} <= {"dry", "light", "moderate"}
        at_peak = _replay(session, storm["peak"] + timedelta(minutes=30))
        assert at_peak["rain_gauge/DM-1"] == "very_heavy"
        assert {at_peak[f"rain_gauge/DM-{n}"] for n in (2, 3)} <= {"heavy", "very_heavy"}
        session.page.wait_for_function("() => document.getElementById('live').dataset.alerts"
                                       " >= '1'", timeout=20_000)
        session.screenshot("live_map_demo_storm_peak")
        assert _replay(session, storm["tripped"])["pump_station/TB-1"] == "stopped_high"
        # the chart of the tripped pump station's wet well
        tb1 = session.page.evaluate("""() => window.gisappLive.state().things
            .find((t) => t.feature_key === 'TB-1').id""")
        point = session.page.evaluate(
            """(id) => { const t = window.gisappLive.thing(id);
                 const p = map.project([t.lon, t.lat]);
                 const r = map.getCanvas().getBoundingClientRect();
                 return {x: r.left + p.x, y: r.top + p.y}; }""", tb1)
        session.page.mouse.click(point["x"], point["y"])
        session.page.wait_for_function(
            "() => document.getElementById('live-chart').dataset.points !== undefined")
        # a pump reports every minute: 6 hours of the storm and its last reading
        assert int(session.page.get_attribute("#live-chart", "data-points")) == HOURS * 60 + 1
        session.screenshot("live_chart_pump_storm")
        assert session.console_errors == []
