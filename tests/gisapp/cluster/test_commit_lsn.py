"""A layer version's commit LSN: whatever a process learns it from (the settled column, the
table before it is settled, the change notification), a replica that has replayed that far
shows the version; settling never waits for a change still in progress."""
from __future__ import annotations

import time

import psycopg

from store.layer_changes import publish_layer_change, settle_commit_lsns
from tests.pg_cluster import PgReplica, ReplicatedDatabase, wait_for
from tiles.versions import LayerVersions, read_version_lsns


def _bump(url: str, layer: str) -> int:
    with psycopg.connect(url) as conn:
        version = publish_layer_change(conn, layer, None, None)
    return version


def _replica_version(replica: PgReplica, read_url: str, lsn: int, layer: str) -> int | None:
    assert wait_for(lambda: (replica.replayed_lsn() or 0) >= lsn, 20)
    with psycopg.connect(read_url) as conn:
        row = conn.execute("SELECT data_version FROM layer_state WHERE layer = %s",
                           (layer,)).fetchone()
    return row and row[0]


def test_a_settled_version_is_on_a_replica_that_replayed_its_lsn(
        replicated_db: ReplicatedDatabase, replica: PgReplica) -> None:
    version = _bump(replicated_db.url, "lsn_probe_a")
    with psycopg.connect(replicated_db.url) as conn:
        assert conn.execute("SELECT commit_lsn FROM layer_state WHERE layer = 'lsn_probe_a'"
                            ).fetchone()[0] is None  # not known inside its own transaction
    with psycopg.connect(replicated_db.url, autocommit=True) as conn:
        settle_commit_lsns(conn)
        lsn = conn.execute("SELECT commit_lsn FROM layer_state WHERE layer = 'lsn_probe_a'"
                           ).fetchone()[0]
    assert lsn is not None
    assert _replica_version(replica, replicated_db.read_url, lsn, "lsn_probe_a") == version


def test_an_unsettled_version_reads_as_the_position_now(
        replicated_db: ReplicatedDatabase, replica: PgReplica) -> None:
    version = _bump(replicated_db.url, "lsn_probe_b")
    found, lsn = read_version_lsns(replicated_db.url)["lsn_probe_b"]
    assert found == version
    assert _replica_version(replica, replicated_db.read_url, lsn, "lsn_probe_b") == version


def test_a_notified_version_carries_an_lsn_past_its_commit(
        replicated_db: ReplicatedDatabase, replica: PgReplica) -> None:
    versions = LayerVersions(replicated_db.url)
    versions.get(["lsn_probe_c"])  # starts the listener
    assert wait_for(lambda: versions._live.is_set(), 10)
    replica.pause_replay()  # the replica must not be what makes the check pass
    version = _bump(replicated_db.url, "lsn_probe_c")
    assert wait_for(lambda: versions.get(["lsn_probe_c"]) == (version,), 10)
    lsn = versions.commit_lsn(["lsn_probe_c"])
    assert (replica.replayed_lsn() or 0) < lsn
    replica.resume_replay()
    assert _replica_version(replica, replicated_db.read_url, lsn, "lsn_probe_c") == version


def test_settling_skips_a_version_still_being_written(
        replicated_db: ReplicatedDatabase) -> None:
    _bump(replicated_db.url, "lsn_probe_d")  # committed, not settled
    _bump(replicated_db.url, "lsn_probe_e")  # committed, not settled, and changed again:
    with psycopg.connect(replicated_db.url) as writer:
        publish_layer_change(writer, "lsn_probe_e", None, None)  # holds its row, uncommitted
        with psycopg.connect(replicated_db.url, autocommit=True) as conn:
            started = time.monotonic()
            settle_commit_lsns(conn)
            assert time.monotonic() - started < 2
            rows = dict(conn.execute("SELECT layer, commit_lsn IS NOT NULL FROM layer_state"
                                     " WHERE layer IN ('lsn_probe_d', 'lsn_probe_e')"))
        assert rows == {"lsn_probe_d": True, "lsn_probe_e": False}
        writer.commit()
    with psycopg.connect(replicated_db.url, autocommit=True) as conn:
        settle_commit_lsns(conn)
        assert conn.execute("SELECT commit_lsn IS NOT NULL FROM layer_state"
                            " WHERE layer = 'lsn_probe_e'").fetchone()[0]
