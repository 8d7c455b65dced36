"""The SensorThings entity sets declared over the store's tables: properties and navigation.

Every name a client may use ($select, $filter, $orderby, $expand, URL paths) is looked up
here; the SQL for it comes from these declarations (columns as psycopg.sql.Identifier), so
no client text ever becomes SQL. An unknown name is a 400 naming the names that exist.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from psycopg import sql

from gisapp.errors import BadRequest
from layers.sensors import TRUTH

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def iso(value: datetime | None) -> str | None:
    """A timestamp as SensorThings writes it: ISO 8601 in UTC with Z."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Prop:
    """One property: the SQL over the entity's alias, its type for $filter, its JSON form.

    `column` names a column of the entity's table; `expr` builds any other SQL from the
    alias. `kind` is number, text, time, bool, json or geometry; `json` builds the value's
    JSON text when to_json of `expr` would not write it as the response must (times in UTC
    with Z, results as posted); `filterable` False keeps it out of $filter and $orderby.
    """

    name: str
    column: str | None = None
    kind: str = "text"
    expr: Callable[[sql.Identifier], sql.Composable] | None = None
    json: Callable[[sql.Identifier], sql.Composable] | None = None
    filterable: bool = True

    def sql(self, alias: sql.Identifier) -> sql.Composable:
        if self.expr is not None:
            return self.expr(alias)
        return sql.SQL("{}.{}").format(alias, sql.Identifier(self.column))

    def json_text(self, alias: sql.Identifier) -> sql.Composable:
        """SQL for the property's value as JSON text ('null' when NULL)."""
        if self.json is not None:
            return sql.SQL("coalesce({}, 'null')").format(self.json(alias))
        return sql.SQL("coalesce(to_json({})::text, 'null')").format(self.sql(alias))


@dataclass(frozen=True)
class Nav:
    """A navigation property: the target set and how its rows join this entity's.

    `self_column`: the target's id is this entity's column (Datastream -> Thing).
    `target_column`: the target's column holds this entity's id (Thing -> Datastreams).
    `link`: (table, column holding this entity's id, column holding the target's id).
    """

    name: str
    target: str
    many: bool
    self_column: str | None = None
    target_column: str | None = None
    link: tuple[str, str, str] | None = None


@dataclass(frozen=True)
class EntitySet:
    """An entity set: its table, key columns, properties and navigation properties."""

    name: str
    singular: str
    table: str
    props: tuple[Prop, ...]
    navs: tuple[Nav, ...]
    key: tuple[str, ...] = ("id",)
    default_order: tuple[str, ...] = ("id",)

    def prop(self, name: str) -> Prop:
        for p in self.props:
            if p.name == name:
                return p
        raise BadRequest(f"{self.name} have no property {name!r}; properties: "
                         f"{', '.join(p.name for p in self.props)}")

    def nav(self, name: str) -> Nav:
        for n in self.navs:
            if n.name == name:
                return n
        raise BadRequest(f"{self.name} have no navigation property {name!r}; navigation: "
                         f"{', '.join(n.name for n in self.navs)}")

    def has_nav(self, name: str) -> bool:
        return any(n.name == name for n in self.navs)


def _json_text(alias: sql.Identifier, column: str) -> sql.Composable:
    return sql.SQL("ST_AsGeoJSON({}.{})::json").format(alias, sql.Identifier(column))


def observation_id(datastream_id: int, phenomenon_time: datetime) -> str:
    """An observation's @iot.id: its datastream and its time in microseconds since 1970."""
    return f"{datastream_id}-{(phenomenon_time - EPOCH) // timedelta(microseconds=1)}"


def parse_observation_id(text: str) -> tuple[int, datetime]:
    """(datastream id, phenomenon time) of an observation id; BadRequest when malformed."""
    match = re.fullmatch(r"([0-9]{1,18})-(-?[0-9]{1,17})", text)
    if match is None:
        raise BadRequest(f"observation id {text!r} must be '<datastream id>-<microseconds>'")
    try:
        return int(match[1]), EPOCH + timedelta(microseconds=int(match[2]))
    except OverflowError:
        raise BadRequest(f"observation id {text!r} names a time out of range") from None


def iso_sql(value: sql.Composable) -> sql.Composable:
    """SQL writing a timestamptz as a JSON string as `iso` does: UTC, microseconds (six
    digits) only when not zero, Z."""
    return sql.SQL("('\"' || to_char({v} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') ||"
                   " CASE WHEN mod(extract(microseconds FROM {v}), 1000000) = 0 THEN 'Z\"'"
                   " ELSE to_char({v} AT TIME ZONE 'UTC', '.US\"Z\"') || '\"' END)").format(v=value)


def _time(column: str) -> Callable[[sql.Identifier], sql.Composable]:
    return lambda a: iso_sql(sql.SQL("{}.{}").format(a, sql.Identifier(column)))


def observation_id_sql(alias: sql.Identifier) -> sql.Composable:
    """SQL for `observation_id` of the row at `alias` (datastream_id, phenomenon_time)."""
    return sql.SQL("({a}.datastream_id::text || '-' || (extract(epoch FROM {a}.phenomenon_time)"
                   " * 1000000)::bigint::text)").format(a=alias)


def _phenomenon_interval(alias: sql.Identifier) -> sql.Composable:
    return sql.SQL("(SELECT rtrim({}, '\"') || '/' || ltrim({}, '\"') FROM datastream_latest l"
                   " WHERE l.datastream_id = {}.id)").format(
        iso_sql(sql.SQL("l.first_time")), iso_sql(sql.SQL("l.phenomenon_time")), alias)


def _observed_area(alias: sql.Identifier) -> sql.Composable:
    return sql.SQL("(SELECT ST_AsGeoJSON(l.geom)::json FROM thing_locations tl"
                   " JOIN locations l ON l.id = tl.location_id WHERE tl.thing_id = {}.thing_id"
                   " LIMIT 1)").format(alias)


def _result_json(alias: sql.Identifier) -> sql.Composable:
    """An observation's result as posted: its JSON (a category), true/false, or the number.

    The datastream's type is looked up only for results of 0 or 1 (a truth observation's)."""
    return sql.SQL("CASE WHEN {a}.result_json IS NOT NULL THEN {a}.result_json::text"
                   " WHEN {a}.result IS NULL OR {a}.result NOT IN (0, 1) THEN {a}.result::text"
                   " WHEN (SELECT d.observation_type FROM datastreams d"
                   " WHERE d.id = {a}.datastream_id) = {truth}"
                   " THEN CASE WHEN {a}.result = 1 THEN 'true' ELSE 'false' END"
                   " ELSE {a}.result::text END").format(a=alias, truth=sql.Literal(TRUTH))


NAME = Prop("name", "name")
DESCRIPTION = Prop("description", "description")
PROPERTIES = Prop("properties", "properties", kind="json")
ENCODING = Prop("encodingType", "encoding_type")
ID = Prop("id", "id", kind="number")

SETS: dict[str, EntitySet] = {s.name: s for s in (
    EntitySet("Things", "Thing", "things", (ID, NAME, DESCRIPTION, PROPERTIES), (
        Nav("Locations", "Locations", True, link=("thing_locations", "thing_id", "location_id")),
        Nav("HistoricalLocations", "HistoricalLocations", True, target_column="thing_id"),
        Nav("Datastreams", "Datastreams", True, target_column="thing_id"))),
    EntitySet("Locations", "Location", "locations", (
        ID, NAME, DESCRIPTION, ENCODING, PROPERTIES,
        Prop("location", kind="geometry", expr=lambda a: _json_text(a, "geom"))), (
        Nav("Things", "Things", True, link=("thing_locations", "location_id", "thing_id")),
        Nav("HistoricalLocations", "HistoricalLocations", True, target_column="location_id"))),
    EntitySet("HistoricalLocations", "HistoricalLocation", "historical_locations", (
        ID, Prop("time", "time", kind="time", json=_time("time"))), (
        Nav("Thing", "Things", False, self_column="thing_id"),
        Nav("Locations", "Locations", True, self_column="location_id"))),
    EntitySet("Sensors", "Sensor", "sensors", (
        ID, NAME, DESCRIPTION, ENCODING, Prop("metadata", "metadata"), PROPERTIES), (
        Nav("Datastreams", "Datastreams", True, target_column="sensor_id"),)),
    EntitySet("ObservedProperties", "ObservedProperty", "observed_properties", (
        ID, NAME, Prop("definition", "definition"), DESCRIPTION, PROPERTIES), (
        Nav("Datastreams", "Datastreams", True, target_column="observed_property_id"),)),
    EntitySet("Datastreams", "Datastream", "datastreams", (
        ID, NAME, DESCRIPTION, Prop("unitOfMeasurement", "unit", kind="json"),
        Prop("observationType", "observation_type"),
        Prop("observedArea", kind="geometry", expr=_observed_area, filterable=False),
        Prop("phenomenonTime", kind="json", expr=_phenomenon_interval,
             json=_phenomenon_interval, filterable=False),
        Prop("resultTime", kind="json", expr=lambda a: sql.SQL("NULL::text"), filterable=False),
        PROPERTIES), (
        Nav("Thing", "Things", False, self_column="thing_id"),
        Nav("Sensor", "Sensors", False, self_column="sensor_id"),
        Nav("ObservedProperty", "ObservedProperties", False, self_column="observed_property_id"),
        Nav("Observations", "Observations", True, target_column="datastream_id"))),
    EntitySet("Observations", "Observation", "sensor_observations", (
        Prop("phenomenonTime", "phenomenon_time", kind="time", json=_time("phenomenon_time")),
        Prop("resultTime", "result_time", kind="time", json=_time("result_time")),
        Prop("result", "result", kind="number", json=_result_json),
        Prop("parameters", "parameters", kind="json")), (
        Nav("Datastream", "Datastreams", False, self_column="datastream_id"),
        Nav("FeatureOfInterest", "FeaturesOfInterest", False,
            self_column="feature_of_interest_id")),
        key=("datastream_id", "phenomenon_time"),
        default_order=("datastream_id", "phenomenon_time")),
    EntitySet("FeaturesOfInterest", "FeatureOfInterest", "features_of_interest", (
        ID, NAME, DESCRIPTION, ENCODING, PROPERTIES,
        Prop("feature", kind="geometry", expr=lambda a: _json_text(a, "geom"))), (
        Nav("Observations", "Observations", True, target_column="feature_of_interest_id"),)),
)}


def get_set(name: str) -> EntitySet:
    """The entity set of this name, or BadRequest (404 by the caller) naming the sets."""
    try:
        return SETS[name]
    except KeyError:
        raise BadRequest(f"unknown entity set {name!r}; entity sets: {', '.join(SETS)}") from None
