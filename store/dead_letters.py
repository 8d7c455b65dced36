"""Sensor messages that were not readings, kept with the reason (migration 0013).

The MQTT subscriber writes one row per refused message in the transaction that writes the
batch's readings, so a message is either stored or dead-lettered, never lost or both.
`kind` groups them for counting: topic, json, time, result, parameters, datastream.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import psycopg
from sqlalchemy import (BigInteger, Column, DateTime, Identity, Index, LargeBinary, Table, Text,
                        func)

from store.tables import metadata

sensor_dead_letters = Table(
    "sensor_dead_letters", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("source", Text, nullable=False),  # mqtt
    Column("topic", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),  # as received, up to the broker's limit
    Column("kind", Text, nullable=False),
    Column("reason", Text, nullable=False),
)
Index("ix_sensor_dead_letters_received_at", sensor_dead_letters.c.received_at)


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    payload: bytes
    kind: str
    reason: str


def write_dead_letters(conn: psycopg.Connection, letters: Sequence[DeadLetter],
                       source: str = "mqtt") -> None:
    """Insert the letters (the caller owns the transaction)."""
    if not letters:
        return
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sensor_dead_letters (source, topic, payload, kind, reason)"
            " SELECT %s, * FROM unnest(%s::text[], %s::bytea[], %s::text[], %s::text[])",
            (source, [d.topic for d in letters], [d.payload for d in letters],
             [d.kind for d in letters], [d.reason for d in letters]))


def count_dead_letters(conn: psycopg.Connection) -> dict[str, int]:
    """Dead letters per kind, most first."""
    return dict(conn.execute("SELECT kind, count(*) FROM sensor_dead_letters GROUP BY kind"
                             " ORDER BY count(*) DESC, kind").fetchall())


def latest_dead_letters(conn: psycopg.Connection, limit: int = 20) -> list[dict]:
    """The newest dead letters, payload as text (undecodable bytes replaced)."""
    rows = conn.execute("SELECT id, received_at, topic, payload, kind, reason"
                        " FROM sensor_dead_letters ORDER BY id DESC LIMIT %s", (limit,))
    return [{"id": r[0], "received_at": r[1].isoformat(), "topic": r[2],
             "payload": bytes(r[3]).decode("utf-8", "replace")[:500], "kind": r[4],
             "reason": r[5]} for r in rows]
