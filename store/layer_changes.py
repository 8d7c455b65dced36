"""The layer-changed channel: a committed change to a layer's data bumps its version and notifies.

Every change NOTIFYs LAYER_CHANGED_CHANNEL with '{"layer", "data_version", "run_id", "bbox"}';
tiles/versions.py listens, so every process knows each layer's data version.

A version's `commit_lsn` is NULL until its transaction has committed (no LSN read inside
it is past its own commit record); `settle_commit_lsns`, called after commit, records the
WAL insert position then, which is past the commit: a replica that has replayed it shows
the version.
"""
from __future__ import annotations

import json

import psycopg

LAYER_CHANGED_CHANNEL = "gisapp_layer_changed"


def publish_layer_change(conn: psycopg.Connection, layer: str, run_id: int | None,
                         bbox: tuple[float, ...] | None) -> int:
    """Bump layer_state.data_version and NOTIFY the channel; returns the new version.

    Call it inside the transaction that changed the data: the notification is delivered at
    commit, never for a change that rolled back. `bbox` (WGS 84) is the changed area.
    """
    version = conn.execute(
        "INSERT INTO layer_state (layer, data_version, last_run_id, updated_at)"
        " VALUES (%s, 1, %s, now()) ON CONFLICT (layer) DO UPDATE"
        " SET data_version = layer_state.data_version + 1,"
        " last_run_id = coalesce(EXCLUDED.last_run_id, layer_state.last_run_id),"
        " commit_lsn = NULL, updated_at = now() RETURNING data_version", (layer, run_id)).fetchone()[0]
    payload = {"layer": layer, "data_version": version, "run_id": run_id,
               "bbox": list(bbox) if bbox else None}
    conn.execute("SELECT pg_notify(%s, %s)", (LAYER_CHANGED_CHANNEL, json.dumps(payload)))
    return version


def settle_commit_lsns(conn: psycopg.Connection) -> int:
    """Record the commit LSN of every committed version still without one; the LSN now.

    Call it after the commit (autocommit, or a transaction of its own). Rows an
    uncommitted change holds are skipped, never waited for: their turn comes after it.
    """
    # The position is read per row as it is written, after its lock: past that version's
    # commit even when the row changed after this statement's snapshot. Committed
    # synchronously, so the WAL up to it is flushed and streamed at once instead of after
    # wal_writer_delay (200 ms under synchronous_commit=off): replicas get the version now.
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = on")
        conn.execute(
            "UPDATE layer_state"
            " SET commit_lsn = (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"
            " WHERE layer IN (SELECT layer FROM layer_state WHERE commit_lsn IS NULL"
            " FOR UPDATE SKIP LOCKED)")
    return conn.execute("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"
                        ).fetchone()[0]
