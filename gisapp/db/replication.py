"""Streaming replicas: make one with pg_basebackup -R, and read how far one has replayed.

A replica is a second PostgreSQL 15 cluster, copied once from the primary through a
physical replication slot (so the primary keeps the WAL the replica still needs) and then
kept current by streaming; `hot_standby` lets it answer reads. Every step runs as the
postgres user when we are root, like gisapp.db.provision.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

REPLICATION_ROLE = "gisapp_replicator"
SLOT_NAME = "gisapp_replica"
# What the primary needs to stream to replicas (wal_level=minimal writes too little WAL).
PRIMARY_SETTINGS = {"wal_level": "replica", "max_wal_senders": "8",
                    "max_replication_slots": "8", "wal_keep_size": "256MB"}
STANDBY_CONF = """
# written by gisapp.db.replication: this cluster is a streaming replica
port = {port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockets}'
hot_standby = on
hot_standby_feedback = on
max_standby_streaming_delay = 5s
# after losing the primary (a restart), retry streaming every second, not every 5 s:
# measured 4.5-4.8 s (up to 10 s when the first retry finds it still starting) before the
# replica replayed again with the default, 0.2-0.6 s with this
wal_retrieve_retry_interval = 1s
# say in the log when replay waits for a query on this replica (lock, snapshot, buffer pin)
log_recovery_conflict_waits = on
"""


class ReplicationError(RuntimeError):
    """A replica could not be made or started, said plainly."""


def _as_postgres(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = list(args)
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def primary_settings_missing(conn: psycopg.Connection) -> dict[str, str]:
    """The replication settings the running primary lacks (name -> value it needs)."""
    have = dict(conn.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                             (list(PRIMARY_SETTINGS),)).fetchall())
    missing = {}
    if have.get("wal_level") == "minimal":
        missing["wal_level"] = PRIMARY_SETTINGS["wal_level"]
    for name in ("max_wal_senders", "max_replication_slots"):
        if int(have.get(name, "0")) < 1:
            missing[name] = PRIMARY_SETTINGS[name]
    return missing


def prepare_primary(conn: psycopg.Connection, password: str, slot: str = SLOT_NAME) -> None:
    """The replication role and physical slot on the primary (superuser, autocommit)."""
    role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                        (REPLICATION_ROLE,)).fetchone()
    verb = "ALTER" if role else "CREATE"
    conn.execute(sql.SQL(verb + " ROLE {} WITH REPLICATION LOGIN PASSWORD {}").format(
        sql.Identifier(REPLICATION_ROLE), sql.Literal(password)))
    if not conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s",
                        (slot,)).fetchone():
        conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", (slot,))


def base_backup(pg_bin: Path, host: str, port: int, data: Path, password: str,
                slot: str = SLOT_NAME) -> None:
    """Copy the primary into `data` (new, empty) with -R: it starts as its standby."""
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data, 0o700)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    env = dict(os.environ, PGPASSWORD=password)
    result = _as_postgres(str(pg_bin / "pg_basebackup"), "-h", host, "-p", str(port),
                          "-U", REPLICATION_ROLE, "-D", str(data), "-R", "-X", "stream",
                          "-S", slot, "--checkpoint=fast", "--no-sync", env=env)
    if result.returncode != 0:
        raise ReplicationError(f"pg_basebackup from {host}:{port} failed:\n{result.stderr}")


def configure_standby(data: Path, port: int, sockets: Path) -> None:
    """Give the copied cluster its own port and socket directory (later lines win)."""
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(STANDBY_CONF.format(port=port, sockets=sockets))
    for stale in ("postmaster.pid", "postmaster.opts"):
        (data / stale).unlink(missing_ok=True)


@dataclass(frozen=True)
class ReplayState:
    """Where a replica stands: is it a standby, what it replayed, and how long ago."""

    in_recovery: bool
    replay_lsn: int | None
    lag_ms: float | None
    paused: bool


REPLAY_SQL = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn,"
    " CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    # no transaction replayed since the standby started: as current as its start
    " ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0)"
    " END,"
    " CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() <> 'not paused'"
    " ELSE false END")


def replay_state(conn) -> ReplayState:
    """One cheap query on a replica (any DB-API connection in autocommit)."""
    cur = conn.cursor()
    cur.execute(REPLAY_SQL)
    in_recovery, lsn, lag, paused = cur.fetchone()
    cur.close()
    return ReplayState(bool(in_recovery), None if lsn is None else int(lsn),
                       None if lag is None else float(lag), bool(paused))


WAL_PAGE = 8192  # XLOG_BLCKSZ
WAL_SEGMENT = 16 << 20  # the default --wal-segsize
SHORT_PAGE_HEADER, LONG_PAGE_HEADER = 24, 40  # SizeOfXLogShortPHD, SizeOfXLogLongPHD


def record_end(lsn: int) -> int:
    """The end of the last WAL record before an insert position (what a replica reports).

    pg_current_wal_insert_lsn() on a page where nothing is written yet points past the
    page header, while a replica that replayed everything reports the page's start: left
    as it is, such a position is reached only when more WAL comes.
    """
    if lsn % WAL_SEGMENT == LONG_PAGE_HEADER:
        return lsn - LONG_PAGE_HEADER
    if lsn % WAL_PAGE == SHORT_PAGE_HEADER:
        return lsn - SHORT_PAGE_HEADER
    return lsn


def lsn_text(lsn: int) -> str:
    """An LSN as PostgreSQL writes it (16/B374D848)."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    """An LSN written as PostgreSQL does (16/B374D848) as a number; ValueError otherwise."""
    high, sep, low = text.strip().partition("/")
    if not sep or not high or not low or len(high) > 8 or len(low) > 8:
        raise ValueError(f"{text!r} is not an LSN such as 16/B374D848")
    return (int(high, 16) << 32) | int(low, 16)
