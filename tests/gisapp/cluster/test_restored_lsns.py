"""A database restored from a dump of another cluster carries commit LSNs of another WAL
history: they never make a replica that has not replayed the restore look caught up, nor
one that has look behind; `gisapp db upgrade` replaces them with positions of its own."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from store.layer_changes import publish_layer_change, settle_commit_lsns
from tests.pg_cluster import PG_BIN, PgCluster, PgReplica, ReplicatedDatabase
from tiles.versions import read_version_lsns

PROBE = "restore_probe"
RESTORED = "gisapp_restored"


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> tuple[Path, int]:
    """A dump of a gisapp database on a second, fresh cluster, and its probe's commit LSN."""
    other = PgCluster(Path(tempfile.mkdtemp(prefix="gisapp-pg-other-")))
    path = tmp_path_factory.mktemp("dump") / "gisapp.dump"
    try:
        other.init()
        other.start()
        url = other.create_database("gisapp_dumped")
        with psycopg.connect(url) as conn:
            publish_layer_change(conn, PROBE, None, None)
        with psycopg.connect(url, autocommit=True) as conn:
            settle_commit_lsns(conn)
            lsn = conn.execute("SELECT commit_lsn FROM layer_state WHERE layer = %s",
                               (PROBE,)).fetchone()[0]
        subprocess.run([str(PG_BIN / "pg_dump"), "-Fc", "-f", str(path), url], check=True)
    finally:
        other.destroy()
    return path, lsn


def _primary_lsn(db: ReplicatedDatabase) -> int:
    with db.primary.superuser() as conn:
        return conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").fetchone()[0]


def _restore(db: ReplicatedDatabase, path: Path) -> str:
    with db.primary.superuser() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(RESTORED)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER gisapp").format(sql.Identifier(RESTORED)))
    url = db.primary.url(RESTORED)
    subprocess.run([str(PG_BIN / "pg_restore"), "--no-owner", "-d", url, str(path)],
                   check=True, capture_output=True)
    return url


def _advance_past(db: ReplicatedDatabase, lsn: int) -> None:
    """Move the primary's WAL beyond `lsn` (a fresh cluster may be ahead of this one)."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS wal_filler (n int)")
        for _ in range(64):
            if _primary_lsn(db) > lsn:
                return
            conn.execute("INSERT INTO wal_filler VALUES (1)")
            conn.execute("SELECT pg_switch_wal()")
    raise AssertionError(f"the primary's WAL did not pass {lsn}")


def test_a_restored_lower_lsn_never_passes_for_replayed(
        replicated_db: ReplicatedDatabase, replica: PgReplica, dump, runner) -> None:
    path, dumped_lsn = dump
    _advance_past(replicated_db, dumped_lsn)
    replica.catch_up()
    replica.pause_replay()
    url = _restore(replicated_db, path)
    replayed = replica.replayed_lsn()
    assert dumped_lsn < replayed  # taken as it is, the dump's LSN reads as replayed
    _, lsn = read_version_lsns(url)[PROBE]
    assert lsn > replayed and lsn <= _primary_lsn(replicated_db)

    result = runner("db", "upgrade", env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert "1 layer version(s) had no commit LSN of this database's WAL history" in result.output
    with psycopg.connect(url) as conn:
        settled = conn.execute("SELECT commit_lsn FROM layer_state WHERE layer = %s",
                               (PROBE,)).fetchone()[0]
    assert replayed < settled <= _primary_lsn(replicated_db)
    assert read_version_lsns(url)[PROBE][1] == settled
    again = runner("db", "upgrade", env={"DATABASE_URL": url})
    assert again.exit_code == 0 and "layer version(s)" not in again.output

    replica.resume_replay()
    replica.catch_up()
    assert replica.replayed_lsn() >= settled
    with psycopg.connect(replicated_db.replica.url(RESTORED)) as conn:
        assert conn.execute("SELECT data_version FROM layer_state WHERE layer = %s",
                            (PROBE,)).fetchone()[0] == 1


def test_a_restored_lsn_past_this_history_never_keeps_replicas_out(
        replicated_db: ReplicatedDatabase, replica: PgReplica, dump) -> None:
    path, _ = dump
    url = _restore(replicated_db, path)
    with psycopg.connect(url, autocommit=True) as conn:  # as if dumped from a busier cluster
        conn.execute("UPDATE layer_state SET commit_lsn = commit_lsn + (1::bigint << 40)"
                     " WHERE layer = %s", (PROBE,))
    replica.catch_up()
    _, lsn = read_version_lsns(url)[PROBE]
    assert lsn <= _primary_lsn(replicated_db)
    replica.catch_up()
    assert replica.replayed_lsn() >= lsn
