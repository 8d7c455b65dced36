"""The replica fixture is a real streaming standby: it answers reads, refuses writes, and
shows a primary's commit once it has replayed past it."""
from __future__ import annotations

import psycopg
import pytest

from gisapp.db import replication
from tests.pg_cluster import ReplicatedDatabase


def test_replica_streams_commits_and_refuses_writes(replicated_db: ReplicatedDatabase,
                                                    replica) -> None:
    with psycopg.connect(replicated_db.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS fixture_probe (v int)")
        conn.execute("INSERT INTO fixture_probe VALUES (7)")
    replica.catch_up()
    with psycopg.connect(replicated_db.read_url, autocommit=True) as conn:
        assert replication.replay_state(conn).in_recovery
        assert conn.execute("SELECT max(v) FROM fixture_probe").fetchone()[0] == 7
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO fixture_probe VALUES (8)")


def test_paused_replay_hides_a_commit_until_resumed(replicated_db: ReplicatedDatabase,
                                                    replica) -> None:
    replica.catch_up()
    replica.pause_replay()
    with psycopg.connect(replicated_db.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS paused_probe (v int)")
    with psycopg.connect(replicated_db.read_url, autocommit=True) as conn:
        assert replication.replay_state(conn).paused
        assert conn.execute("SELECT to_regclass('paused_probe')").fetchone()[0] is None
    replica.resume_replay()
    replica.catch_up()
    with psycopg.connect(replicated_db.read_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('paused_probe')").fetchone()[0] is not None


def test_lsn_text_round_trips() -> None:
    assert replication.parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert replication.lsn_text(replication.parse_lsn("16/B374D848")) == "16/B374D848"
    with pytest.raises(ValueError):
        replication.parse_lsn("nonsense")


def test_an_insert_position_past_a_page_header_counts_from_the_page_start() -> None:
    page, segment = replication.WAL_PAGE, replication.WAL_SEGMENT
    assert replication.record_end(5 * page + 24) == 5 * page
    assert replication.record_end(3 * segment + 40) == 3 * segment
    assert replication.record_end(5 * page + 64) == 5 * page + 64
