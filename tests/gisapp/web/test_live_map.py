"""The live map in headless Chromium, fed through a real broker and subscriber: symbols that
change when a reading is published over MQTT, the chart of a clicked gauge, the replay
slider, the open alerts pushed by server-sent events and acknowledged, and the console's
alert view."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Iterator

import psycopg
import pytest

from gisapp.alerts.events import evaluate_alerts
from gisapp.mqtt.address import parse_mqtt_url
from gisapp.mqtt.subscriber import Subscriber
from layers.live_symbols import LIVE_SYMBOLS
from store.observations import ObservationRow, write_observations
from store.sensor_things import register_things
from tests.gisapp.mqtt.test_storm import _seed_alert_rules
from tests.gisapp.web.conftest import MAP_BUILT, MAP_IDLE, LiveServer, browse, serve
from tests.mqtt_broker import Broker, mqtt_broker, publish  # noqa: F401
from tests.pg_cluster import wait_for

FEATURES = """
INSERT INTO drainage_nodes (node_id, kind, geom) VALUES
  ('TB-1', 'pump_station', ST_SetSRID(ST_MakePoint(108.2140, 16.0640), 4326));
INSERT INTO water (water_id, name, kind, geom) VALUES
  ('HO-1', 'Hồ Thạc Gián', 'lake', ST_Multi(ST_Buffer(ST_SetSRID(
      ST_MakePoint(108.2080, 16.0560), 4326), 0.001)));
INSERT INTO lighting_cabinets (cabinet_id, name, geom) VALUES
  ('TU-1', 'Tủ Bạch Đằng 1', ST_SetSRID(ST_MakePoint(108.2040, 16.0620), 4326));
INSERT INTO rain_gauges (gauge_id, name, ward_code, geom) VALUES
  ('DM-1', 'Trạm đo mưa Hải Châu', '20194', ST_SetSRID(ST_MakePoint(108.2190, 16.0590), 4326)),
  ('DM-2', 'Trạm đo mưa Thanh Khê', '20200', ST_SetSRID(ST_MakePoint(108.1960, 16.0600), 4326));
"""
VIEW = "map=14.5/16.0600/108.2075"
READY = f"() => ({MAP_BUILT}) || !document.getElementById('map-error').hidden"
STATE_OF = """(code) => { const s = window.gisappLive?.state();
  const th = s?.things.find((t) => `${t.kind}/${t.feature_key}` === code);
  return th ? th.symbol : null; }"""
RENDERED = """(id) => map.queryRenderedFeatures({layers: ['live-symbols']})
  .filter((f) => f.properties.id === id).map((f) => f.properties)"""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(second=0, microsecond=0)


def _rain(streams: dict[str, int], gauge: str, mm: float, end: datetime) -> list[tuple[str, str]]:
    """An hour of 5-minute rain readings at a gauge, as devices publish them."""
    topic = f"v1.1/Datastreams({streams[f'rain_gauge/{gauge}/rainfall']})/Observations"
    return [(topic, json.dumps({"phenomenonTime": (end - timedelta(minutes=5 * k)).isoformat(),
                                "result": mm})) for k in range(12)]


@pytest.fixture(scope="module")
def world(own_database, mqtt_broker: Broker) -> Iterator[dict]:  # noqa: F811
    """A small monitored city with the seeded alert rules, a subscriber writing what the
    broker receives, and an hour of heavy rain (6 mm every 5 minutes) at gauge DM-1."""
    url = own_database("livemap")
    with psycopg.connect(url) as conn:
        conn.execute(FEATURES)
        register_things(conn)
        _seed_alert_rules(conn)
        streams = dict(conn.execute("SELECT code, id FROM datastreams").fetchall())
    assert max(streams.values()) <= 100  # the test device may publish to datastreams 1..100
    subscriber = Subscriber(parse_mqtt_url(mqtt_broker.url), url, batch_wait=0.05,
                            client_id="gisapp-ingest-livemap")
    stop = threading.Event()
    thread = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert subscriber.connected.wait(10)
        publish(mqtt_broker, _rain(streams, "DM-1", 6.0, _now()))
        assert wait_for(lambda: _stored(url, streams["rain_gauge/DM-1/rainfall"]) == 12, 30)
        yield {"url": url, "streams": streams, "broker": mqtt_broker}
    finally:
        stop.set()
        thread.join(10)


def _stored(url: str, datastream: int) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM sensor_observations WHERE datastream_id = %s",
                            (datastream,)).fetchone()[0]


def _thing_id(url: str, code: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id FROM things WHERE code = %s", (code,)).fetchone()[0]


@pytest.fixture(scope="module")
def server(world, tmp_path_factory, map_assets) -> Iterator[LiveServer]:
    with serve(world["url"], tmp_path_factory.mktemp("data"), map_assets) as served:
        yield served


@pytest.fixture()
def page_session(browser, server):
    with browse(browser, server) as opened:
        yield opened


def open_live_map(session, init_script: str | None = None) -> None:
    if init_script:
        session.page.add_init_script(init_script)
    session.page.goto(f"/map#{VIEW}")
    session.page.wait_for_function(READY, timeout=30_000)
    assert session.page.is_hidden("#map-error"), session.page.inner_text("#map-error")
    session.page.wait_for_function("() => window.gisappLive?.state() != null", timeout=15_000)
    session.page.evaluate(MAP_IDLE)


def _screen_point(session, lon: float, lat: float) -> dict:
    return session.page.evaluate(
        """([lon, lat]) => { const p = map.project([lon, lat]);
             const r = map.getCanvas().getBoundingClientRect();
             return {x: r.left + p.x, y: r.top + p.y}; }""", [lon, lat])


def _colour(kind: str, symbol: str) -> str:
    return next(c.colour for c in LIVE_SYMBOLS[kind].classes if c.id == symbol)


def test_a_reading_published_over_mqtt_recolours_the_gauge_on_the_map(page_session, world):
    session = page_session
    open_live_map(session)
    assert session.page.evaluate(STATE_OF, "rain_gauge/DM-1") == "very_heavy"
    assert session.page.evaluate(STATE_OF, "rain_gauge/DM-2") == "no_data"
    dm2 = _thing_id(world["url"], "rain_gauge/DM-2")
    before = session.page.evaluate(RENDERED, dm2)
    assert [f["colour"] for f in before] == [_colour("rain_gauge", "no_data")]
    publish(world["broker"], _rain(world["streams"], "DM-2", 1.0, _now()))  # 12 mm an hour
    # the map asks again every 10 s; the subscriber stores within a second
    session.page.wait_for_function(f"() => ({STATE_OF})('rain_gauge/DM-2') === 'moderate'",
                                   timeout=30_000)
    session.page.evaluate(MAP_IDLE)
    after = session.page.evaluate(RENDERED, dm2)
    assert [(f["symbol"], f["colour"], f["value"]) for f in after] == [
        ("moderate", _colour("rain_gauge", "moderate"), "12 mm")]
    legend = session.page.locator("#live-legend-body li[data-kind='rain_gauge']")
    assert legend.count() == len(LIVE_SYMBOLS["rain_gauge"].classes)
    assert "Mưa vừa" in session.page.inner_text("#live-legend-body")
    session.screenshot("live_map_storm")
    assert session.console_errors == []


def test_clicking_a_gauge_opens_the_chart_of_its_rainfall(page_session, world):
    session = page_session
    open_live_map(session)
    point = _screen_point(session, 108.2190, 16.0590)
    session.page.mouse.click(point["x"], point["y"])
    chart = session.page.locator("#live-chart")
    chart.wait_for(state="visible")
    session.page.wait_for_function(
        "() => document.getElementById('live-chart').dataset.points !== undefined")
    assert chart.get_attribute("data-points") == "12"
    assert chart.get_attribute("data-resolution") == "raw"
    assert "Trạm đo mưa Hải Châu" in session.page.inner_text("#chart-title")
    assert session.page.locator("#chart-plot svg path.chart-line").count() == 1
    assert session.page.locator("#chart-plot svg[role=img] desc").text_content().startswith(
        "Lượng mưa (mm): 12 điểm")
    assert session.page.locator("#chart-table tbody tr").count() == 12
    session.screenshot("live_chart")
    session.page.click("#live-chart button[data-range='168']")  # 7 days of 5-minute rain
    session.page.wait_for_function(
        "() => document.getElementById('live-chart').dataset.resolution === 'hour'")
    total = session.page.evaluate(
        "() => [...document.querySelectorAll('#chart-table tbody tr td:nth-child(2)')]"
        ".map((td) => parseFloat(td.textContent.replace(',', '.')))"
        ".reduce((a, b) => a + b, 0)")
    assert total == pytest.approx(72.0)  # hourly sums of 12 readings of 6 mm
    violations = session.axe_violations()
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
    assert session.console_errors == []


def test_the_time_slider_replays_the_symbols_and_moves_the_nowcast(page_session, world):
    session = page_session
    open_live_map(session, init_script=(
        "window.nowcastTimes = [];"
        "window.gisappNowcast = { setNowcastTime: (iso) => window.nowcastTimes.push(iso) };"))
    assert session.page.evaluate(STATE_OF, "rain_gauge/DM-1") == "very_heavy"
    # two hours back (24 steps of 5 minutes): the storm's hour had not begun
    session.page.eval_on_selector("#live-slider", """(s) => { s.value = '-24';
        s.dispatchEvent(new Event('input', { bubbles: true })); }""")
    session.page.wait_for_function(f"() => ({STATE_OF})('rain_gauge/DM-1') === 'no_data'")
    state = session.page.evaluate("() => window.gisappLive.state()")
    assert state["replay"] is True
    replayed = datetime.fromisoformat(state["at"].replace("Z", "+00:00"))
    assert timedelta(minutes=115) <= datetime.now(timezone.utc) - replayed <= timedelta(minutes=125)
    times = session.page.evaluate("() => window.nowcastTimes")
    assert datetime.fromisoformat(times[-1].replace("Z", "+00:00")) == replayed
    assert "Phát lại" in session.page.inner_text("#live-time")
    dm1 = _thing_id(world["url"], "rain_gauge/DM-1")
    session.page.evaluate(MAP_IDLE)
    assert [f["symbol"] for f in session.page.evaluate(RENDERED, dm1)] == ["no_data"]
    # half an hour back: six readings (36 mm) lie in the hour before
    session.page.evaluate("() => window.gisappLive.setTime("
                          "new Date(Date.now() - 30 * 60000).toISOString())")
    assert session.page.evaluate(STATE_OF, "rain_gauge/DM-1") == "heavy"
    session.page.click("#live-now")
    session.page.wait_for_function(f"() => ({STATE_OF})('rain_gauge/DM-1') === 'very_heavy'")
    assert session.page.evaluate("() => window.nowcastTimes.at(-1)") is None  # now again
    assert session.page.evaluate("() => window.gisappLive.state().replay") is False
    assert session.console_errors == []


def test_an_alert_appears_when_its_rule_fires_and_a_planner_acknowledges_it(page_session, world):
    session = page_session
    user = session.sign_in(world["url"], "planner")
    open_live_map(session)
    session.page.wait_for_function("() => document.getElementById('live').dataset.alerts === '0'")
    with psycopg.connect(world["url"]) as conn:  # what the worker does every tick
        fired = evaluate_alerts(conn, datetime.now(timezone.utc))
    assert ("rain_1h", _thing_id(world["url"], "rain_gauge/DM-1")) in fired.opened
    item = session.page.locator("#alert-list li[data-rule='rain_1h']")
    item.wait_for(timeout=20_000)  # pushed by the stream as the evaluation commits
    assert "Mưa trên 50 mm trong 1 giờ" in item.inner_text()
    assert "Trạm đo mưa Hải Châu" in item.inner_text()
    session.page.evaluate("() => map.jumpTo({center: [108.15, 16.0], zoom: 13})")
    item.locator("button.alert-go").click()
    session.page.wait_for_function(
        "() => Math.abs(map.getCenter().lng - 108.2190) < 1e-4 && !map.isMoving()",
        timeout=15_000)
    session.screenshot("live_alert_list")
    item.locator("button.alert-acknowledge").click()
    session.page.wait_for_function(
        "() => document.querySelector(\"#alert-list li[data-rule='rain_1h']\")"
        "?.dataset.acknowledged === 'true'")
    assert user in item.inner_text()
    with psycopg.connect(world["url"]) as conn:
        by = conn.execute("SELECT acknowledged_by FROM alert_events WHERE rule_id = 'rain_1h'"
                          " AND ended_at IS NULL").fetchone()[0]
        audited = conn.execute("SELECT count(*) FROM audit_log WHERE action ="
                               " 'alerts.acknowledge' AND actor = %s", (user,)).fetchone()[0]
    assert (by, audited) == (user, 1)
    violations = session.axe_violations()
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
    assert session.console_errors == []


def test_a_public_visitor_sees_alerts_but_cannot_acknowledge(page_session, world):
    session = page_session
    with psycopg.connect(world["url"]) as conn:
        evaluate_alerts(conn, datetime.now(timezone.utc))
    open_live_map(session)
    item = session.page.locator("#alert-list li[data-rule='rain_1h']")
    item.wait_for(timeout=20_000)
    assert item.locator("button.alert-acknowledge").count() == 0
    session.page.click("[data-lang-switch='en']")  # every live label follows the language
    session.page.wait_for_function("() => document.getElementById('live-time')"
                                   ".textContent.startsWith('Live · updated')")
    assert "Very heavy (≥ 50 mm/h)" in session.page.inner_text("#live-legend-body")
    assert "Rainfall over 50 mm in 1 hour" in item.inner_text()
    assert session.page.inner_text("#live-play") == "Play"
    assert session.console_errors == []


def test_the_console_lists_alerts_and_an_operator_acknowledges_one(page_session, world):
    session = page_session
    lake = world["streams"]["lake/HO-1/water_level"]
    now = datetime.now(timezone.utc)
    with psycopg.connect(world["url"]) as conn:
        write_observations(conn, [ObservationRow(lake, now - timedelta(minutes=1), 2.6)], now=now)
        evaluate_alerts(conn, now)
    user = session.sign_in(world["url"], "etl_operator")
    session.page.goto("/etl")
    session.page.wait_for_function("() => document.getElementById('etl-app').dataset.ready"
                                   " === 'true'", timeout=30_000)
    row = session.page.locator("table.alerts tr[data-rule='lake_above_warning']")
    row.wait_for()
    assert "Hồ Thạc Gián" in row.inner_text() and "2,6" in row.inner_text()
    assert row.get_attribute("data-acknowledged") == "false"
    row.locator("button.acknowledge").click()
    session.page.wait_for_function(
        "() => document.querySelector(\"table.alerts tr[data-rule='lake_above_warning']\")"
        "?.dataset.acknowledged === 'true'")
    assert user in row.inner_text()
    session.page.select_option("#a-state", "all")
    session.page.click("#alert-filter button[type=submit]")
    session.page.wait_for_function(
        "() => document.querySelector('table.alerts caption').textContent.includes('Tất cả')")
    assert session.page.locator("table.alerts tbody tr[data-event]").count() >= 2
    session.screenshot("console_alerts", full_page=True)
    with psycopg.connect(world["url"]) as conn:
        audited = conn.execute("SELECT target FROM audit_log WHERE action ="
                               " 'alerts.acknowledge' AND actor = %s", (user,)).fetchall()
    assert len(audited) == 1 and audited[0][0].startswith("alert_event:")
    violations = session.axe_violations()
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
    assert session.console_errors == []


def test_a_map_finding_every_stream_slot_taken_polls_the_alerts(browser, world,
                                                                tmp_path_factory, map_assets):
    with psycopg.connect(world["url"]) as conn:
        evaluate_alerts(conn, datetime.now(timezone.utc))
    with serve(world["url"], tmp_path_factory.mktemp("data"), map_assets,
               ALERT_STREAMS=1) as one_slot:
        with browse(browser, one_slot) as first, browse(browser, one_slot) as second:
            open_live_map(first)
            first.page.locator("#alert-list li[data-rule='rain_1h']").wait_for(timeout=20_000)
            open_live_map(second)  # the one slot is the first page's: `busy`, then a poll
            second.page.locator("#alert-list li[data-rule='rain_1h']").wait_for(timeout=20_000)
            busy = [body for u, body in second.responses if u.endswith("/api/alerts/stream")]
            asked = [u for u, _ in second.responses if "/api/alerts?state=open" in u]
            assert any(b"event: busy" in body for body in busy) and asked
            assert first.console_errors == [] and second.console_errors == []
