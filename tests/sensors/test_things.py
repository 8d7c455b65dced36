"""Things, locations, features of interest and datastreams derived from layers.sensors."""
from __future__ import annotations

import psycopg
from psycopg import sql

from layers import get_layer
from layers.sensors import THING_KINDS
from store.sensor_things import register_things


def _features(conn: psycopg.Connection, kind) -> set[str]:
    layer = get_layer(kind.layer)
    query = sql.SQL("SELECT {} FROM {}").format(sql.Identifier(layer.key[0]),
                                                sql.Identifier(layer.table))
    params: tuple = ()
    if kind.where:
        query += sql.SQL(" WHERE {} = %s").format(sql.Identifier(kind.where[0]))
        params = (kind.where[1],)
    return {r[0] for r in conn.execute(query, params)}


def test_every_monitored_feature_is_a_thing_with_its_declared_datastreams(sensor_url):
    with psycopg.connect(sensor_url) as conn:
        for kind in THING_KINDS.values():
            things = dict(conn.execute("SELECT feature_key, id FROM things WHERE kind = %s",
                                       (kind.id,)).fetchall())
            assert set(things) == _features(conn, kind), kind.id
            for thing_id in things.values():
                got = conn.execute(
                    "SELECT d.kind, d.observation_type, d.interval_s, d.unit->>'symbol', p.code"
                    " FROM datastreams d JOIN observed_properties p"
                    " ON p.id = d.observed_property_id WHERE d.thing_id = %s", (thing_id,))
                assert sorted(got) == sorted(
                    (ds.id, ds.observation_type, ds.interval_s,
                     ds.unit.symbol if ds.unit else None, ds.observed_property.id)
                    for ds in kind.datastreams)


def test_the_manhole_and_the_river_are_not_things(sensor_url):
    with psycopg.connect(sensor_url) as conn:
        keys = {r[0] for r in conn.execute("SELECT feature_key FROM things")}
    assert "HG-1" not in keys and "SONG-HAN" not in keys
    assert {"TB-1", "TB-2", "HO-1", "TU-1", "DM-1", "DM-2"} <= keys


def test_a_thing_stands_on_its_feature_which_is_its_feature_of_interest(sensor_url):
    with psycopg.connect(sensor_url) as conn:
        inside, same = conn.execute(
            "SELECT ST_Intersects(l.geom, w.geom), ST_Equals(f.geom, w.geom)"
            " FROM things t JOIN thing_locations tl ON tl.thing_id = t.id"
            " JOIN locations l ON l.id = tl.location_id JOIN water w ON w.water_id = t.feature_key"
            " JOIN features_of_interest f ON (f.layer, f.feature_key) = (t.layer, t.feature_key)"
            " WHERE t.code = 'lake/HO-1'").fetchone()
        history = conn.execute(
            "SELECT count(*) FROM historical_locations h JOIN things t ON t.id = h.thing_id"
            " WHERE t.code = 'lake/HO-1'").fetchone()[0]
    assert inside and same and history == 1


def test_registering_again_adds_nothing_and_keeps_ids(sensor_url):
    with psycopg.connect(sensor_url) as conn:
        before = conn.execute("SELECT code, id FROM datastreams ORDER BY id").fetchall()
        counts = register_things(conn)
        after = conn.execute("SELECT code, id FROM datastreams ORDER BY id").fetchall()
        locations = conn.execute("SELECT count(*) FROM locations").fetchone()[0]
        conn.rollback()
    assert after == before
    assert counts == {"rain_gauge": 2, "pump_station": 2, "lake": 1, "lighting_cabinet": 1}
    assert locations == 6


def test_the_demo_city_has_things_for_its_assets(test_url):
    with psycopg.connect(test_url) as conn:
        for kind in THING_KINDS.values():
            features = _features(conn, kind)
            things = {r[0] for r in conn.execute(
                "SELECT feature_key FROM things WHERE kind = %s", (kind.id,))}
            assert features and things == features, kind.id
        gauges = conn.execute("SELECT count(*) FROM rain_gauges").fetchone()[0]
    assert gauges == 6  # one a ward of the demo city
