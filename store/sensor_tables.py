"""The SensorThings tables: things, locations, sensors, datastreams, observations, aggregates.

They follow the OGC SensorThings API 1.1 data model. A thing is one monitored asset,
linked to its layer feature by (layer, feature_key): a pump station is its drainage node, a
lake its water body, a rain gauge its feature of the `rain_gauges` layer. The link sits on
the thing, not on each datastream, because all of a thing's datastreams describe the same
feature. `sensor_observations` is partitioned by RANGE(phenomenon_time), its partitions
managed by pg_partman (migration 0012); its primary key (datastream_id, phenomenon_time)
makes a repeated reading a no-op. Hourly and daily aggregates and each datastream's latest
reading are kept up to date by the write path (store.observations).
"""
from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Identity, Index,
                        Integer, PrimaryKeyConstraint, Table, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB

from store.tables import metadata

# Partitions of these tables are pg_partman's (<table>_p<start>, <table>_default): migrations
# compare the parents only.
PARTITIONED_TABLES = ("sensor_observations",)


def _jsonb_object(name: str) -> Column:
    return Column(name, JSONB, nullable=False, server_default=text("'{}'::jsonb"))


things = Table(
    "things", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("code", Text, nullable=False),  # stable key: "<thing kind>/<feature key>"
    Column("kind", Text, nullable=False),  # a key of layers.sensors.THING_KINDS
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    _jsonb_object("properties"),
    Column("layer", Text),
    Column("feature_key", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("code"),
)
Index("ix_things_layer_feature_key", things.c.layer, things.c.feature_key)

locations = Table(
    "locations", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("encoding_type", Text, nullable=False,
           server_default=text("'application/geo+json'")),
    Column("geom", Geometry("Geometry", srid=4326, spatial_index=False), nullable=False),
    _jsonb_object("properties"),
)
Index("ix_locations_geom", locations.c.geom, postgresql_using="gist")

thing_locations = Table(
    "thing_locations", metadata,
    Column("thing_id", BigInteger, ForeignKey("things.id", ondelete="CASCADE"), nullable=False),
    Column("location_id", BigInteger, ForeignKey("locations.id", ondelete="CASCADE"),
           nullable=False),
    PrimaryKeyConstraint("thing_id", "location_id"),
)
Index("ix_thing_locations_location_id", thing_locations.c.location_id)

historical_locations = Table(
    "historical_locations", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("thing_id", BigInteger, ForeignKey("things.id", ondelete="CASCADE"), nullable=False),
    Column("location_id", BigInteger, ForeignKey("locations.id", ondelete="CASCADE"),
           nullable=False),
    Column("time", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_historical_locations_thing_id_time", historical_locations.c.thing_id,
      historical_locations.c.time)

sensors = Table(
    "sensors", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("encoding_type", Text, nullable=False, server_default=text("'text/plain'")),
    Column("metadata", Text, nullable=False, server_default=text("''")),
    _jsonb_object("properties"),
    UniqueConstraint("name"),
)

observed_properties = Table(
    "observed_properties", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("code", Text, nullable=False),  # a layers.sensors ObservedProperty id
    Column("name", Text, nullable=False),
    Column("definition", Text, nullable=False, server_default=text("''")),
    Column("description", Text, nullable=False, server_default=text("''")),
    _jsonb_object("properties"),
    UniqueConstraint("code"),
)

datastreams = Table(
    "datastreams", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("code", Text, nullable=False),  # "<thing code>/<datastream kind>"
    Column("kind", Text, nullable=False),  # a layers.sensors DatastreamKind id
    Column("thing_id", BigInteger, ForeignKey("things.id", ondelete="CASCADE"), nullable=False),
    Column("sensor_id", BigInteger, ForeignKey("sensors.id"), nullable=False),
    Column("observed_property_id", BigInteger, ForeignKey("observed_properties.id"),
           nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("unit", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("observation_type", Text, nullable=False),
    Column("interval_s", Integer, nullable=False),
    Column("valid_min", Float),
    Column("valid_max", Float),
    _jsonb_object("properties"),
    UniqueConstraint("code"),
)
Index("ix_datastreams_thing_id", datastreams.c.thing_id)

features_of_interest = Table(
    "features_of_interest", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("encoding_type", Text, nullable=False,
           server_default=text("'application/geo+json'")),
    Column("geom", Geometry("Geometry", srid=4326, spatial_index=False), nullable=False),
    _jsonb_object("properties"),
    Column("layer", Text),
    Column("feature_key", Text),
)
Index("ix_features_of_interest_geom", features_of_interest.c.geom, postgresql_using="gist")
Index("ix_features_of_interest_layer_feature_key", features_of_interest.c.layer,
      features_of_interest.c.feature_key, unique=True)

# No foreign key to datastreams: the write path checks a batch's datastreams once, and a
# per-row FK probe on every partition insert would cost ingestion for nothing.
sensor_observations = Table(
    "sensor_observations", metadata,
    Column("datastream_id", BigInteger, nullable=False),
    Column("phenomenon_time", DateTime(timezone=True), nullable=False),
    Column("result", Float),  # numbers; truth as 1.0/0.0
    Column("result_json", JSONB),  # results that are not numbers (categories)
    Column("result_time", DateTime(timezone=True)),
    Column("parameters", JSONB),
    Column("feature_of_interest_id", BigInteger),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("datastream_id", "phenomenon_time"),
    postgresql_partition_by="RANGE (phenomenon_time)",
)


def _aggregate_table(name: str) -> Table:
    """Per datastream and bucket (hour or day, UTC): count, sum, min, max of numeric results."""
    return Table(
        name, metadata,
        Column("datastream_id", BigInteger, nullable=False),
        Column("bucket", DateTime(timezone=True), nullable=False),
        Column("count", BigInteger, nullable=False),
        Column("sum", Float),
        Column("min", Float),
        Column("max", Float),
        Column("first_time", DateTime(timezone=True), nullable=False),
        Column("last_time", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("datastream_id", "bucket"),
    )


sensor_hourly = _aggregate_table("sensor_hourly")
sensor_daily = _aggregate_table("sensor_daily")

# The newest reading of each datastream (latest values for the map and alert rules).
datastream_latest = Table(
    "datastream_latest", metadata,
    Column("datastream_id", BigInteger, ForeignKey("datastreams.id", ondelete="CASCADE"),
           primary_key=True),
    Column("phenomenon_time", DateTime(timezone=True), nullable=False),
    Column("result", Float),
    Column("result_json", JSONB),
    Column("first_time", DateTime(timezone=True), nullable=False),
)

# Alert rules as data, like permit rules: one row per (rule, version); the highest enabled
# version is in force. `kind` names the evaluation (gisapp.alerts.rules), `params` its figures.
alert_rules = Table(
    "alert_rules", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("rule_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("thing_kind", Text, nullable=False),  # a key of layers.sensors.THING_KINDS
    Column("params", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("title", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # by language
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("rule_id", "version"),
)

# One event per (rule, thing) while its condition holds: opened when it starts, ended when
# it clears, acknowledged by an operator (audited) at any time.
alert_events = Table(
    "alert_events", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("rule_id", Text, nullable=False),
    Column("rule_version", Integer, nullable=False),
    Column("thing_id", BigInteger, ForeignKey("things.id", ondelete="CASCADE"), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", Text),
)
Index("ix_alert_events_open", alert_events.c.rule_id, alert_events.c.thing_id, unique=True,
      postgresql_where=alert_events.c.ended_at.is_(None))
Index("ix_alert_events_started_at", alert_events.c.started_at)
