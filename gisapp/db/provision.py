"""A project-owned local PostGIS cluster, for when no DATABASE_URL is given.

The cluster lives in GISAPP_PGDATA (default /var/lib/gisapp/pg15), listens on 127.0.0.1
at GISAPP_PGPORT (default 5433) and on a socket directory only root and postgres can
reach. Every step checks before it acts, so provisioning is idempotent and works whether
the cluster is new, stopped, running, or was killed and left a stale pid file.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from gisapp.settings import LOCAL_PGPORT

PG_BIN = Path(os.environ.get("GISAPP_PG_BIN", "/usr/lib/postgresql/15/bin"))
PGDATA = Path(os.environ.get("GISAPP_PGDATA", "/var/lib/gisapp/pg15"))
SOCKET_DIR = PGDATA.parent / "run"
EXTENSIONS = ("postgis", "pg_trgm", "unaccent")
APP_ROLE = "gisapp"
STARTUP_LIMIT = 1800.0  # seconds; crash recovery of a large cluster can be slow

CONF = f"""
# written by gisapp.db.provision
port = {LOCAL_PGPORT}
listen_addresses = '127.0.0.1'
unix_socket_directories = '{SOCKET_DIR}'
max_connections = 200
shared_buffers = 1GB
work_mem = 32MB
maintenance_work_mem = 512MB
effective_cache_size = 8GB
jit = off
synchronous_commit = off
# streaming replicas (gisapp replica start; gisapp.db.replication): the replication lines
# initdb writes into pg_hba.conf (127.0.0.1, scram-sha-256) let them connect
wal_level = replica
max_wal_senders = 8
max_replication_slots = 8
wal_keep_size = 256MB
checkpoint_timeout = 5min
max_wal_size = 1GB
random_page_cost = 1.1
logging_collector = off
"""


class ProvisionError(RuntimeError):
    """Something the local cluster needs is missing or failed, said plainly."""


def is_local_url(url: str) -> bool:
    """Whether a URL points at the project-owned cluster (so we may create and start it)."""
    parts = urlsplit(url)
    return parts.hostname in ("127.0.0.1", "localhost") and (parts.port or 5432) == LOCAL_PGPORT


def _as_postgres(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = list(args)
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def _is_running() -> bool:
    return _as_postgres(str(PG_BIN / "pg_ctl"), "status", "-D", str(PGDATA), check=False).returncode == 0


def ensure_cluster(log=print) -> None:
    """Create the cluster if it does not exist and start it if it is not running."""
    if not (PG_BIN / "initdb").exists():
        raise ProvisionError(f"PostgreSQL 15 server binaries not found in {PG_BIN}: "
                             "apt-get install postgresql-15 postgresql-15-postgis-3")
    if not Path("/usr/share/postgresql/15/extension/postgis.control").exists():
        raise ProvisionError("PostGIS is not installed: apt-get install postgresql-15-postgis-3")
    for d in (PGDATA.parent, SOCKET_DIR):
        d.mkdir(parents=True, exist_ok=True)
    shutil.chown(SOCKET_DIR, "postgres", "postgres")
    os.chmod(SOCKET_DIR, 0o770)
    if not (PGDATA / "PG_VERSION").exists():
        log(f"creating PostgreSQL cluster in {PGDATA}")
        PGDATA.mkdir(parents=True, exist_ok=True)
        shutil.chown(PGDATA, "postgres", "postgres")
        os.chmod(PGDATA, 0o700)
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(PGDATA), "-U", "postgres",
                     "--encoding=UTF8", "--locale=C.UTF-8",
                     "--auth-local=trust", "--auth-host=scram-sha-256")
        with open(PGDATA / "postgresql.conf", "a") as conf:
            conf.write(CONF)
    logfile = PGDATA.parent / "postgresql.log"
    if _is_running():
        _wait_for_startup(logfile, log)
        return
    log(f"starting PostgreSQL on 127.0.0.1:{LOCAL_PGPORT}")
    logfile.touch()
    shutil.chown(logfile, "postgres", "postgres")
    result = _as_postgres(str(PG_BIN / "pg_ctl"), "start", "-W", "-D", str(PGDATA),
                          "-l", str(logfile), check=False)
    if result.returncode != 0:
        raise ProvisionError(f"PostgreSQL did not start:\n{result.stderr}\n{_tail(logfile)}")
    _wait_for_startup(logfile, log)


def _tail(logfile: Path, chars: int = 2000) -> str:
    return logfile.read_text(errors="replace")[-chars:]


def _wait_for_startup(logfile: Path, log, limit: float = STARTUP_LIMIT) -> None:
    """Wait while the server starts, for as long as its process lives and recovery lasts.

    A cluster that was killed (not shut down) replays its WAL before it accepts
    connections, which can take minutes; a fixed short timeout would give up on a
    server that is doing exactly what it should.
    """
    started = time.monotonic()
    said = started
    while True:
        ready = _as_postgres(str(PG_BIN / "pg_isready"), "-q", "-h", str(SOCKET_DIR),
                             "-p", str(LOCAL_PGPORT), check=False).returncode
        if ready == 0:
            return
        now = time.monotonic()
        if ready == 2 and not _is_running() and now - started > 2:
            raise ProvisionError(f"PostgreSQL stopped while starting:\n{_tail(logfile)}")
        if now - started > limit:
            raise ProvisionError(f"PostgreSQL did not accept connections within {limit:.0f} s:\n"
                                 f"{_tail(logfile)}")
        if now - said >= 15:
            log(f"waiting for PostgreSQL to finish starting (crash recovery?) "
                f"{now - started:.0f} s; log {logfile}")
            said = now
        time.sleep(0.5)


def stop_cluster() -> None:
    if _is_running():
        _as_postgres(str(PG_BIN / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(PGDATA))


def _superuser_connect(dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(host=str(SOCKET_DIR), port=LOCAL_PGPORT, user="postgres",
                           dbname=dbname, autocommit=True)


def ensure_database(url: str, log=print) -> None:
    """Create the role, the database and the extensions a URL names, where missing."""
    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    if is_local_url(url):
        ensure_cluster(log)
        with _superuser_connect() as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (parts.username,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
                    sql.Identifier(parts.username), sql.Literal(parts.password)))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
                log(f"creating database {dbname}")
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(dbname), sql.Identifier(parts.username)))
        connect = lambda: _superuser_connect(dbname)  # noqa: E731
    else:
        connect = lambda: psycopg.connect(libpq_url(url), autocommit=True)  # noqa: E731
    with connect() as conn:
        for ext in EXTENSIONS:
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))


def wait_until_ready(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(libpq_url(url), connect_timeout=3):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise


def libpq_url(url: str) -> str:
    """The URL as libpq and psql read it (no SQLAlchemy driver suffix)."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url
