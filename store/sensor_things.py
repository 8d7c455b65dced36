"""Things, sensors and datastreams derived from the declarations in layers.sensors.

`register_things` makes one thing per monitored feature (every pump station node, lake,
lighting cabinet and rain gauge the layers hold), with its location (a point on the
feature), its feature of interest (the feature itself), its kind's sensor and one datastream
per declared datastream kind. It is idempotent: a second run adds only what is new and
renames what was renamed, keeping ids (devices hold datastream ids).
"""
from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from layers import get_layer
from layers.sensors import THING_KINDS, DatastreamKind, ThingKind, observed_properties


def thing_code(kind: ThingKind, feature_key: str) -> str:
    """A thing's stable key: pump_station/TB-20242-01."""
    return f"{kind.id}/{feature_key}"


def datastream_code(thing: str, kind: DatastreamKind) -> str:
    """A datastream's stable key: pump_station/TB-20242-01/flow."""
    return f"{thing}/{kind.id}"


def register_things(conn: psycopg.Connection) -> dict[str, int]:
    """Create what is missing for every declared thing kind; {kind: things it has}."""
    properties = _upsert_observed_properties(conn)
    counts = {}
    for kind in THING_KINDS.values():
        sensor_id = conn.execute(
            "INSERT INTO sensors (name, description, encoding_type, metadata) "
            "VALUES (%s, %s, 'text/plain', %s) ON CONFLICT (name) DO UPDATE SET "
            "description = excluded.description RETURNING id",
            (kind.sensor, f"{kind.title['en']}: {kind.sensor}", kind.sensor)).fetchone()[0]
        features = _features(conn, kind)
        for key, name in features:
            thing_id = _upsert_thing(conn, kind, key, name)
            for ds in kind.datastreams:
                _upsert_datastream(conn, kind, ds, thing_id, key, name or key, sensor_id,
                                   properties[ds.observed_property.id])
        counts[kind.id] = len(features)
    return counts


def _upsert_observed_properties(conn: psycopg.Connection) -> dict[str, int]:
    ids = {}
    for prop in observed_properties().values():
        ids[prop.id] = conn.execute(
            "INSERT INTO observed_properties (code, name, definition, description, properties)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
            " definition = excluded.definition, properties = excluded.properties RETURNING id",
            (prop.id, prop.name["en"], prop.definition, prop.name["en"],
             Jsonb({"name": prop.name}))).fetchone()[0]
    return ids


def _features(conn: psycopg.Connection, kind: ThingKind) -> list[tuple[str, str | None]]:
    """(key, name) of the layer features that are things of this kind, by key."""
    layer = get_layer(kind.layer)
    key = sql.Identifier(layer.key[0])
    name = sql.Identifier(kind.name_field) if kind.name_field else key
    where = sql.SQL("true")
    params: tuple = ()
    if kind.where:
        where = sql.SQL("{} = %s").format(sql.Identifier(kind.where[0]))
        params = (kind.where[1],)
    return conn.execute(sql.SQL("SELECT {key}::text, {name}::text FROM {table} WHERE {where}"
                                " ORDER BY 1").format(key=key, name=name, where=where,
                                                      table=sql.Identifier(layer.table)),
                        params).fetchall()


def _upsert_thing(conn: psycopg.Connection, kind: ThingKind, key: str, name: str | None) -> int:
    """The thing of one feature, with its location and feature of interest made once."""
    layer = get_layer(kind.layer)
    code = thing_code(kind, key)
    title = name or key
    thing_id, created = conn.execute(
        "INSERT INTO things (code, kind, name, description, properties, layer, feature_key)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET"
        " name = excluded.name RETURNING id, xmax = 0",
        (code, kind.id, title, f"{kind.title['en']} {title}", Jsonb({"kind_title": kind.title}),
         layer.id, key)).fetchone()
    if not created:
        return thing_id
    geometry = sql.SQL("SELECT ST_PointOnSurface(geom), geom FROM {} WHERE {} = %s").format(
        sql.Identifier(layer.table), sql.Identifier(layer.key[0]))
    point, shape = conn.execute(geometry, (key,)).fetchone()
    location_id = conn.execute(
        "INSERT INTO locations (name, description, geom) VALUES (%s, %s, %s::geometry)"
        " RETURNING id", (title, f"where {title} stands", point)).fetchone()[0]
    conn.execute("INSERT INTO thing_locations (thing_id, location_id) VALUES (%s, %s)",
                 (thing_id, location_id))
    conn.execute("INSERT INTO historical_locations (thing_id, location_id) VALUES (%s, %s)",
                 (thing_id, location_id))
    conn.execute(
        "INSERT INTO features_of_interest (name, description, geom, layer, feature_key)"
        " VALUES (%s, %s, %s::geometry, %s, %s) ON CONFLICT (layer, feature_key) DO NOTHING",
        (title, f"{layer.title['en']} {key}", shape, layer.id, key))
    return thing_id


def _upsert_datastream(conn: psycopg.Connection, kind: ThingKind, ds: DatastreamKind,
                       thing_id: int, key: str, thing_name: str, sensor_id: int,
                       property_id: int) -> None:
    unit = ({"name": ds.unit.name, "symbol": ds.unit.symbol, "definition": ds.unit.definition}
            if ds.unit else {"name": None, "symbol": None, "definition": None})
    low, high = ds.valid or (None, None)
    code = datastream_code(thing_code(kind, key), ds)
    conn.execute(
        "INSERT INTO datastreams (code, kind, thing_id, sensor_id, observed_property_id, name,"
        " description, unit, observation_type, interval_s, valid_min, valid_max)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, unit = excluded.unit,"
        " observation_type = excluded.observation_type, interval_s = excluded.interval_s,"
        " valid_min = excluded.valid_min, valid_max = excluded.valid_max",
        (code, ds.id, thing_id, sensor_id, property_id,
         f"{thing_name}: {ds.observed_property.name['en']}",
         f"{ds.observed_property.name['en']} at {kind.title['en'].lower()} {thing_name},"
         f" every {ds.interval_s} s", Jsonb(unit), ds.observation_type, ds.interval_s, low, high))
