"""The layer-changed channel: a committed change to a layer's data bumps its version and notifies.

Every change NOTIFYs LAYER_CHANGED_CHANNEL with '{"layer", "data_version", "run_id", "bbox"}';
tiles/versions.py listens, so every process knows each layer's data version.

A version's `commit_lsn` is NULL until its transaction has committed (no LSN read inside
it is past its own commit record); `settle_commit_lsns`, called after commit, records the
WAL insert position then, which is past the commit: a replica that has replayed it shows
the version.

A WAL position means something only in the WAL history it was read from. A database
restored from a dump (or a new cluster) holds `commit_lsn` values of another history: lower
than its own ones (a replica that has not replayed the restore would look caught up) or
higher (every replica looks behind forever). So each value is stored with its origin, the
cluster's system identifier and the database's OID (a dropped and re-created database gets
a new one): a value of another origin, or past the WAL insert position, counts as unknown
(the position now), and `settle_commit_lsns` replaces it. A promoted replica keeps its
system identifier and its LSNs (the new timeline continues the old history), so its values
stay valid.
"""
from __future__ import annotations

import json

import psycopg

LAYER_CHANGED_CHANNEL = "gisapp_layer_changed"
# The WAL history a commit_lsn belongs to: this cluster's identifier and this database's OID.
COMMIT_ORIGIN_SQL = ("((SELECT system_identifier FROM pg_control_system())::text || '/'"
                     " || (SELECT oid FROM pg_database WHERE datname = current_database())::text)")
LSN_NOW_SQL = "(pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"
# A row's commit_lsn when it is of this WAL history, else NULL (unknown).
TRUSTED_LSN_SQL = (f"CASE WHEN commit_origin = {COMMIT_ORIGIN_SQL} AND commit_lsn <= {LSN_NOW_SQL}"
                   " THEN commit_lsn END")


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
    """Record the commit LSN of every committed version without a trusted one; the LSN now.

    Call it after the commit (autocommit, or a transaction of its own). Rows an
    uncommitted change holds are skipped, never waited for: their turn comes after it.
    Values of another WAL history (a restored dump) are replaced by the position now.
    """
    # The position is read per row as it is written, after its lock: past that version's
    # commit even when the row changed after this statement's snapshot. Committed
    # synchronously, so the WAL up to it is flushed and streamed at once instead of after
    # wal_writer_delay (200 ms under synchronous_commit=off): replicas get the version now.
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = on")
        conn.execute(
            f"UPDATE layer_state SET commit_lsn = {LSN_NOW_SQL},"
            f" commit_origin = {COMMIT_ORIGIN_SQL}"
            " WHERE layer IN (SELECT layer FROM layer_state"
            f" WHERE ({TRUSTED_LSN_SQL}) IS NULL FOR UPDATE SKIP LOCKED)")
    return conn.execute(f"SELECT {LSN_NOW_SQL}").fetchone()[0]


def reset_foreign_commit_lsns(conn: psycopg.Connection) -> int:
    """Settle every version whose commit LSN is unknown or of another WAL history; how many.

    `gisapp db upgrade` runs it, so a database restored from a dump gets positions of its
    own history before any replica is asked to have replayed them.
    """
    untrusted = conn.execute(f"SELECT count(*) FROM layer_state WHERE ({TRUSTED_LSN_SQL}) IS NULL"
                             ).fetchone()[0]
    if untrusted:
        settle_commit_lsns(conn)
    return untrusted
