"""The project-owned local replica: a hot standby of the local cluster (gisapp.db.provision).

It lives in GISAPP_REPLICA_PGDATA (default /var/lib/gisapp/pg15-replica) and listens on
127.0.0.1 at GISAPP_REPLICA_PGPORT (default 5434) and on the primary's socket directory.
It is made once with pg_basebackup -R through the slot `gisapp_replica`; later starts
only start it. Like provisioning, every step checks before it acts.
"""
from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from gisapp.db import provision, replication
from gisapp.db.provision import PG_BIN, SOCKET_DIR, ProvisionError, _as_postgres

REPLICA_PGDATA = Path(os.environ.get("GISAPP_REPLICA_PGDATA", "/var/lib/gisapp/pg15-replica"))
REPLICA_PGPORT = int(os.environ.get("GISAPP_REPLICA_PGPORT", "5434"))
LOGFILE = REPLICA_PGDATA.parent / "postgresql-replica.log"


def replica_url(primary_url: str) -> str:
    """The primary's URL with the replica's port: the same roles and databases answer."""
    parts = urlsplit(provision.libpq_url(primary_url))
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{REPLICA_PGPORT}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2
                                     else host))


def is_running() -> bool:
    return (REPLICA_PGDATA / "PG_VERSION").exists() and _as_postgres(
        str(PG_BIN / "pg_ctl"), "status", "-D", str(REPLICA_PGDATA), check=False).returncode == 0


def start_replica(primary_url: str, log=print) -> str:
    """Make the replica if it does not exist and start it; its read URL.

    Raises ProvisionError when the primary is not the local cluster, or when it must be
    restarted first to stream WAL (wal_level=minimal in clusters made before replicas):
    the settings are then written with ALTER SYSTEM, and the restart is left to its owner.
    """
    if not provision.is_local_url(primary_url):
        raise ProvisionError("gisapp replica makes replicas of the local cluster only "
                             f"(127.0.0.1:{provision.LOCAL_PGPORT}); for another primary, "
                             "make the replica there and set DATABASE_READ_URLS")
    provision.ensure_cluster(log)
    with provision._superuser_connect() as conn:
        missing = replication.primary_settings_missing(conn)
        if missing:
            for name, value in missing.items():
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(
                    sql.Identifier(name), sql.Literal(value)))
            raise ProvisionError(
                "the primary must stream WAL to a replica; set now (ALTER SYSTEM): "
                + ", ".join(f"{k}={v}" for k, v in missing.items())
                + f". Restart it (pg_ctl restart -D {provision.PGDATA} as postgres), then "
                "run `gisapp replica start` again")
        if not (REPLICA_PGDATA / "PG_VERSION").exists():
            password = secrets.token_urlsafe(24)
            replication.prepare_primary(conn, password)
            log(f"copying the primary into {REPLICA_PGDATA} (pg_basebackup)")
            shutil.rmtree(REPLICA_PGDATA, ignore_errors=True)
            try:
                replication.base_backup(PG_BIN, "127.0.0.1", provision.LOCAL_PGPORT,
                                        REPLICA_PGDATA, password)
            except replication.ReplicationError as exc:
                shutil.rmtree(REPLICA_PGDATA, ignore_errors=True)
                raise ProvisionError(str(exc)) from None
            replication.configure_standby(REPLICA_PGDATA, REPLICA_PGPORT, SOCKET_DIR)
    if not is_running():
        log(f"starting the replica on 127.0.0.1:{REPLICA_PGPORT}")
        LOGFILE.touch()
        if os.geteuid() == 0:
            shutil.chown(LOGFILE, "postgres", "postgres")
        result = _as_postgres(str(PG_BIN / "pg_ctl"), "start", "-W", "-D", str(REPLICA_PGDATA),
                              "-l", str(LOGFILE), check=False)
        if result.returncode != 0:
            raise ProvisionError(f"the replica did not start:\n{result.stderr}\n"
                                 f"{provision._tail(LOGFILE)}")
    _wait_until_accepting()
    return replica_url(primary_url)


def _wait_until_accepting(limit: float = 120.0, grace: float = 10.0) -> None:
    """Wait until the replica accepts connections; it may take `grace` s to write its pid file.

    (`pg_ctl start -W` returns before the postmaster exists, so `pg_ctl status` can say it is
    not running for a moment under load: only after the grace is that an error.)
    """
    started = time.monotonic()
    while _as_postgres(str(PG_BIN / "pg_isready"), "-q", "-h", str(SOCKET_DIR), "-p",
                       str(REPLICA_PGPORT), check=False).returncode != 0:
        waited = time.monotonic() - started
        if waited > limit or (waited > grace and not is_running()):
            raise ProvisionError(f"the replica does not accept connections:\n"
                                 f"{provision._tail(LOGFILE)}")
        time.sleep(0.3)


def stop_replica() -> bool:
    """Stop the replica if it runs; whether it was running."""
    if not is_running():
        return False
    _as_postgres(str(PG_BIN / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(REPLICA_PGDATA))
    return True


def replica_status() -> dict:
    """Whether the replica exists and runs, and where its replay stands."""
    doc: dict = {"data": str(REPLICA_PGDATA), "port": REPLICA_PGPORT,
                 "exists": (REPLICA_PGDATA / "PG_VERSION").exists(), "running": is_running()}
    if doc["running"]:
        with psycopg.connect(host=str(SOCKET_DIR), port=REPLICA_PGPORT, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            state = replication.replay_state(conn)
        doc.update(standby=state.in_recovery, replay_paused=state.paused,
                   lag_ms=None if state.lag_ms is None else round(state.lag_ms, 1),
                   replay_lsn=None if state.replay_lsn is None
                   else replication.lsn_text(state.replay_lsn))
    return doc
