"""The app's own tables (accounts, audit, sign-in limits, schedules, permits) in the store's metadata.

Importing this module gives Alembic every table: the store's and these.
"""
from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Identity, Index,
                        Integer, Table, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB

from store import sensor_tables  # noqa: F401  (the SensorThings tables join the metadata)
from store import dead_letters  # noqa: F401  (the sensor dead letters join the metadata)
from store.tables import metadata

users = Table(
    "users", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("display_name", Text),
    Column("password_hash", Text),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("label", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", Text),
    Column("role", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("remote_addr", Text),
)
Index("ix_audit_log_at", audit_log.c.at)
Index("ix_audit_log_actor_at", audit_log.c.actor, audit_log.c.at)

login_failures = Table(
    "login_failures", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("username", Text, nullable=False),
    Column("remote_addr", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_login_failures_user_addr_at", login_failures.c.username,
      login_failures.c.remote_addr, login_failures.c.at)
Index("ix_login_failures_addr_at", login_failures.c.remote_addr, login_failures.c.at)
Index("ix_login_failures_at", login_failures.c.at)

etl_schedules = Table(
    "etl_schedules", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("layer", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("cron", Text, nullable=False),
    Column("timezone", Text, nullable=False, server_default=text("'Asia/Ho_Chi_Minh'")),
    Column("options", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("last_run_at", DateTime(timezone=True)),
    Column("next_run_at", DateTime(timezone=True)),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Permit pre-check rules as data: one row per (rule, version); migration 0003 seeds them.
permit_rules = Table(
    "permit_rules", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("rule_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("params", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("source", Text, nullable=False),
    Column("note", Text),
    Column("valid_from", Date, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("rule_id", "version"),
)

permit_checks = Table(
    "permit_checks", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("parcel_uid", Text, nullable=False),
    Column("inputs", JSONB, nullable=False),
    Column("rule_versions", JSONB, nullable=False),
    Column("results", JSONB, nullable=False),
    Column("overrides", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("verdict", Text, nullable=False),
    Column("officer", Text),
    Column("footprint", Geometry("MultiPolygon", srid=4326, spatial_index=False)),
    # The constraint overlaps as measured at check time: a GeoJSON FeatureCollection (4326).
    Column("overlaps", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_permit_checks_parcel_created", permit_checks.c.parcel_uid, permit_checks.c.created_at)
Index("ix_permit_checks_created", permit_checks.c.created_at)

# A user of role `device` is one monitored thing: its tokens may write observations only to
# that thing's datastreams (gisapp.sta.writes).
device_things = Table(
    "device_things", metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("thing_id", BigInteger, ForeignKey("things.id", ondelete="CASCADE"), nullable=False),
)
Index("ix_device_things_thing_id", device_things.c.thing_id)
