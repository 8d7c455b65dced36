"""A PostgreSQL 15 cluster of the test's own, in a temp directory on a free port, that a
test may stop, start and restart for real (never the shared cluster).

Fixtures: `pg_cluster` (one per session, running; a test that stops it starts it again),
`cluster_db` (a migrated gisapp database on it) and `replicated_db` (another database on
it, with a streaming replica of the cluster beside it: `replica`). Import them in a conftest.py or a
test module: `from tests.pg_cluster import pg_cluster, cluster_db  # noqa: F401`.
The server runs as the postgres user when the tests run as root, like gisapp.db.provision.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple

import psycopg
import pytest
from psycopg import sql

from gisapp.db import migrate, provision, replication

PG_BIN = provision.PG_BIN
CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
max_connections = 100
shared_buffers = 32MB
shared_preload_libraries = 'pg_stat_statements'
fsync = off
synchronous_commit = off
full_page_writes = off
jit = off
logging_collector = off
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = list(args)
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


class PgCluster:
    """initdb, start, stop and restart a throw-away cluster; trust authentication."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.logfile = root / "postgresql.log"
        self.port = free_port()

    def url(self, dbname: str = "postgres", user: str = "gisapp") -> str:
        return f"postgresql://{user}:{user}@127.0.0.1:{self.port}/{dbname}"

    def init(self) -> None:
        _give_to_postgres(self.root)
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                     "--encoding=UTF8", "--locale=C.UTF-8", "--auth=trust", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(CONF.format(port=self.port, sockets=self.root))
        self.logfile.touch()
        _give_to_postgres(self.logfile)

    def start(self) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
                     "-l", str(self.logfile))
        provision.wait_until_ready(self.url(user="postgres"), 30)

    def stop(self, mode: str = "fast") -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data),
                     check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def is_running(self) -> bool:
        return _as_postgres(str(PG_BIN / "pg_ctl"), "status", "-D", str(self.data),
                            check=False).returncode == 0

    def superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.url(dbname, "postgres"), autocommit=True)

    def create_database(self, dbname: str) -> str:
        """A new gisapp database (extensions and migrations) owned by role gisapp; its URL."""
        with self.superuser() as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'gisapp'").fetchone():
                conn.execute("CREATE ROLE gisapp LOGIN SUPERUSER PASSWORD 'gisapp'")
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER gisapp").format(
                sql.Identifier(dbname)))
        url = self.url(dbname)
        provision.ensure_database(url, log=lambda m: None)
        migrate.upgrade(url)
        return url

    @contextmanager
    def small_tablespace(self, name: str, size_mb: int) -> Iterator[Path]:
        """A tablespace on a tmpfs of `size_mb` mounted for it (needs root); removed after."""
        where = self.root / f"fs-{name}"
        where.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs",
                        str(where)], check=True, capture_output=True)
        try:
            _give_to_postgres(where)
            with self.superuser() as conn:
                conn.execute(sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(
                    sql.Identifier(name), sql.Literal(str(where))))
            yield where
        finally:
            try:
                with self.superuser() as conn:
                    conn.execute(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(
                        sql.Identifier(name)))
            except psycopg.Error:
                pass  # still in use: the lazy unmount below detaches it anyway
            subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)
            where.rmdir()

    def destroy(self) -> None:
        if self.is_running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def wait_for(predicate, seconds: float, step: float = 0.1):
    """Poll `predicate` until it returns a true value (returned) or `seconds` pass (None)."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A running PostgreSQL 15 cluster of this test session's own."""
    cluster = PgCluster(Path(tempfile.mkdtemp(prefix="gisapp-pg-")))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def cluster_db(pg_cluster: PgCluster) -> str:
    """A migrated, empty gisapp database on `pg_cluster`; its URL."""
    return pg_cluster.create_database("gisapp_faults")


@pytest.fixture()
def running_cluster(pg_cluster: PgCluster) -> Iterator[PgCluster]:
    """`pg_cluster`, started again after the test if the test left it stopped."""
    yield pg_cluster
    if not pg_cluster.is_running():
        pg_cluster.start()


class PgReplica(PgCluster):
    """A streaming replica of `primary`: pg_basebackup -R through a slot, own port and dir."""

    def __init__(self, root: Path, primary: PgCluster, slot: str = replication.SLOT_NAME):
        super().__init__(root)
        self.primary = primary
        self.slot = slot

    def init(self) -> None:
        _give_to_postgres(self.root)
        with self.primary.superuser() as conn:
            replication.prepare_primary(conn, "replicator", self.slot)
        replication.base_backup(PG_BIN, "127.0.0.1", self.primary.port, self.data,
                                "replicator", self.slot)
        replication.configure_standby(self.data, self.port, self.root)
        self.logfile.touch()
        _give_to_postgres(self.logfile)

    def replayed_lsn(self) -> int | None:
        with self.superuser() as conn:
            return replication.replay_state(conn).replay_lsn

    def catch_up(self, seconds: float = 30) -> None:
        """Wait until the replica has replayed everything the primary wrote until now."""
        with self.primary.superuser() as conn:
            target = conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn"
                                  ).fetchone()[0]
        if not wait_for(lambda: (self.replayed_lsn() or 0) >= target, seconds):
            raise RuntimeError(f"replica did not replay up to {target} in {seconds} s")

    def pause_replay(self) -> None:
        with self.superuser() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with self.superuser() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")


class ReplicatedDatabase(NamedTuple):
    """A migrated gisapp database on a primary, streamed to a hot-standby replica."""

    primary: PgCluster
    replica: PgReplica
    url: str
    read_url: str


@pytest.fixture(scope="session")
def replicated_db(pg_cluster: PgCluster) -> Iterator[ReplicatedDatabase]:
    """`pg_cluster` with a migrated database `gisapp_replicated` and a running replica."""
    url = pg_cluster.create_database("gisapp_replicated")
    replica = PgReplica(Path(tempfile.mkdtemp(prefix="gisapp-replica-")), pg_cluster)
    try:
        replica.init()
        replica.start()
        replica.catch_up()
        yield ReplicatedDatabase(pg_cluster, replica, url, replica.url("gisapp_replicated"))
    finally:
        replica.destroy()
        with pg_cluster.superuser() as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                         " WHERE slot_name = %s AND NOT active", (replica.slot,))


@pytest.fixture()
def replica(replicated_db: ReplicatedDatabase) -> Iterator[PgReplica]:
    """The running replica, replaying; started and resumed again after the test."""
    yield replicated_db.replica
    if not replicated_db.replica.is_running():
        replicated_db.replica.start()
    replicated_db.replica.resume_replay()
