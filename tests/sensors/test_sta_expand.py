"""SensorThings $expand in one statement: the same documents as asking parent by parent.

The reader writes each page with one SQL statement (JSON built by PostgreSQL, expansions as
correlated subqueries with $top per parent; the newest observation of each datastream from
`datastream_latest`). These tests hold it to what per-parent navigation requests return
and to Python's own formatting of ids, times and results.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from gisapp import create_app
from gisapp.sta import query
from gisapp.sta.entities import iso, observation_id
from gisapp.sta.odata import parse_options
from store.observations import ObservationRow, write_observations

START = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
LATEST = "$top=1;$orderby=phenomenonTime desc"


@pytest.fixture(scope="module")
def client(sensor_url, streams, tmp_path_factory):
    flow1, flow2 = streams["pump_station/TB-1/flow"], streams["pump_station/TB-2/flow"]
    running = streams["pump_station/TB-1/running"]
    rows = [ObservationRow(flow1, START + timedelta(minutes=5 * k), 100.0 + k) for k in range(6)]
    # microseconds, a late reading older than the newest, whole and fractional numbers
    rows += [ObservationRow(flow2, START + timedelta(seconds=k, microseconds=1500 * k), 7 * k)
             for k in range(1, 5)]
    rows += [ObservationRow(running, START + timedelta(minutes=k), k % 2 == 1) for k in range(3)]
    with psycopg.connect(sensor_url) as conn:
        write_observations(conn, rows)
        write_observations(conn, [ObservationRow(flow1, START - timedelta(hours=1), 99.5)])
    app = create_app({"DATABASE_URL": sensor_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path_factory.mktemp("sta-expand"),
                      "PUBLIC_URL": "http://localhost"})
    yield app.test_client()
    app.extensions["engine"].dispose()


def _get(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def _all(client, url: str) -> list[dict]:
    page = _get(client, url)
    assert "@iot.nextLink" not in page
    return page["value"]


@pytest.mark.parametrize("options, with_readings", [
    (LATEST, 3),                                     # every property: joined to the latest row
    (LATEST + ";$select=phenomenonTime,result", 3),  # datastream_latest alone
    (LATEST + ";$select=result;$expand=FeatureOfInterest($select=name)", 3),
    ("$top=2;$skip=1;$orderby=result desc", 3),
    ("$top=3;$filter=result ge 14;$orderby=phenomenonTime", 2),
    ("$orderby=phenomenonTime desc;$top=1;$skip=1", 3),  # not the latest: from the readings
])
def test_datastreams_expand_observations_as_the_per_datastream_paths_do(client, options,
                                                                         with_readings):
    expanded = _all(client, f"/sta/v1.1/Datastreams?$top=100&$expand=Observations({options})")
    assert len(expanded) > 5
    found = 0
    for stream in expanded:
        path_options = options.replace(";", "&")
        alone = _get(client, f"/sta/v1.1/Datastreams({stream['@iot.id']})/Observations?"
                             f"{path_options}")["value"]
        assert stream["Observations"] == alone, stream["name"]
        found += bool(alone)
    assert found == with_readings  # the others expand to []


def test_the_latest_observation_is_the_newest_even_after_a_late_reading(client, streams):
    flow1 = streams["pump_station/TB-1/flow"]
    doc = _get(client, f"/sta/v1.1/Datastreams({flow1})?$select=id&$expand=Observations("
                       f"{LATEST};$select=phenomenonTime,result)")
    (obs,) = doc["Observations"]
    assert obs == {"@iot.id": observation_id(flow1, START + timedelta(minutes=25)),
                   "@iot.selfLink": "http://localhost/sta/v1.1/Observations("
                                    f"'{observation_id(flow1, START + timedelta(minutes=25))}')",
                   "phenomenonTime": iso(START + timedelta(minutes=25)), "result": 105.0}


def test_ids_times_and_results_are_written_as_python_writes_them(client, sensor_url, streams):
    flow2, running = streams["pump_station/TB-2/flow"], streams["pump_station/TB-1/running"]
    with psycopg.connect(sensor_url) as conn:
        stored = conn.execute("SELECT datastream_id, phenomenon_time, result FROM"
                              " sensor_observations WHERE datastream_id = ANY(%s)"
                              " ORDER BY datastream_id, phenomenon_time",
                              ([flow2, running],)).fetchall()
    assert any(t.microsecond for _, t, _ in stored)
    got = []
    for stream in sorted((flow2, running)):
        got += _all(client, f"/sta/v1.1/Datastreams({stream})/Observations"
                            "?$orderby=phenomenonTime&$select=phenomenonTime,result")
    assert [(o["@iot.id"], o["phenomenonTime"], o["result"]) for o in got] == [
        (observation_id(ds, t), iso(t), (value == 1.0) if ds == running else value)
        for ds, t, value in stored]
    assert sum(type(o["result"]) is bool for o in got) == 3


def test_nested_expansions_match_their_paths(client):
    things = _all(client, "/sta/v1.1/Things?$top=100&$expand=Datastreams($top=2;$orderby=name"
                          " desc;$expand=Thing($select=name),Observations($top=1)),Locations")
    for thing in things:
        ident = thing["@iot.id"]
        streams = _get(client, f"/sta/v1.1/Things({ident})/Datastreams?$top=2"
                               "&$orderby=name desc")["value"]
        assert [s["@iot.id"] for s in thing["Datastreams"]] == [s["@iot.id"] for s in streams]
        for stream, alone in zip(thing["Datastreams"], streams):
            assert {k: v for k, v in stream.items() if k not in ("Thing", "Observations")} == {
                k: v for k, v in alone.items() if k not in ("Thing@iot.navigationLink",
                                                            "Observations@iot.navigationLink")}
            assert stream["Thing"]["name"] == thing["name"]
            assert stream["Observations"] == _get(
                client, f"/sta/v1.1/Datastreams({stream['@iot.id']})/Observations?$top=1")["value"]
        assert thing["Locations"] == _all(client, f"/sta/v1.1/Things({ident})/Locations")


class _Counting:
    """A real connection that counts the statements run through it."""

    def __init__(self, conn: psycopg.Connection):
        self.conn, self.statements = conn, 0

    def execute(self, *args, **kwargs):
        self.statements += 1
        return self.conn.execute(*args, **kwargs)


def test_a_page_with_nested_expansions_is_one_statement(client, sensor_url):
    raw = {"$expand": "Datastreams($expand=Observations($top=2),Sensor),Locations"}
    with psycopg.connect(sensor_url) as conn:
        counting = _Counting(conn)
        page = query.Reader(counting, "http://localhost/sta/v1.1", 100).collection(
            query.resolve("Things"), parse_options(raw, 1000), raw)
    assert counting.statements == 1
    assert sum(len(d["Observations"]) for t in page["value"] for d in t["Datastreams"]) == 6
    raw["$count"] = "true"  # $count is a second statement, only when asked
    with psycopg.connect(sensor_url) as conn:
        counting = _Counting(conn)
        page = query.Reader(counting, "http://localhost/sta/v1.1", 100).collection(
            query.resolve("Things"), parse_options(raw, 1000), raw)
    assert counting.statements == 2 and page["@iot.count"] == len(page["value"])


class _Capturing(_Counting):
    """A real connection that keeps the statements run through it, with their values."""

    def __init__(self, conn: psycopg.Connection):
        super().__init__(conn)
        self.queries: list[tuple] = []

    def execute(self, query, params=None):
        self.queries.append((query, params))
        return super().execute(query, params)


def _relations(plan: dict) -> set[str]:
    found = {plan["Relation Name"]} if "Relation Name" in plan else set()
    for child in plan.get("Plans", ()):
        found |= _relations(child)
    return found


def test_a_time_window_reads_only_the_partitions_it_covers(client, sensor_url, streams):
    flow1 = streams["pump_station/TB-1/flow"]
    since, until = START, START + timedelta(hours=1)
    raw = {"$filter": f"phenomenonTime ge {iso(since)} and phenomenonTime lt {iso(until)}",
           "$orderby": "phenomenonTime", "$top": "10000"}
    with psycopg.connect(sensor_url) as conn:
        capturing = _Capturing(conn)
        page = query.Reader(capturing, "http://localhost/sta/v1.1", 100).collection(
            query.resolve(f"Datastreams({flow1})/Observations"), parse_options(raw, 10000), raw)
        assert len(page["value"]) == 6
        (statement, params), = capturing.queries
        plan = conn.execute(psycopg.sql.SQL("EXPLAIN (FORMAT JSON) ") + statement,
                            params).fetchone()[0][0]["Plan"]
        partitions = conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'sensor_observations'::regclass").fetchall()
    assert len(partitions) > 3
    scanned = _relations(plan) & {name for name, _ in partitions}
    # START's week (and the next when the hour crosses Monday 00:00 UTC), never the others
    assert 1 <= len(scanned) <= 2, scanned
