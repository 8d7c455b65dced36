"""PgBouncer in transaction mode for `gisapp pgbouncer start|stop|status`: ini, userlist, daemon.

Debian's /usr/sbin/pgbouncer runs from a prefix directory of our own (ini, userlist, pid,
log), so it does not touch the packaged service nor need it to be running. It pools the
one database of DATABASE_URL (or DATABASE_DIRECT_URL) in transaction mode: web and tile
connections then use it with DATABASE_POOLER=transaction, which turns server-side prepared
statements off (PgBouncer 1.18 does not carry them between server connections). Session
settings cannot travel in the `options` startup parameter (PgBouncer refuses it), so each
server connection gets jit=off and the web timeouts from `connect_query` instead.
"""
from __future__ import annotations

import os
import pwd
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from gisapp import daemons

DEFAULT_PREFIX = Path(os.environ.get("GISAPP_PGBOUNCER_PREFIX", "/var/lib/gisapp/pgbouncer"))
DEFAULT_LISTEN = "127.0.0.1:6432"
RUN_AS = "postgres"  # PgBouncer refuses to run as root; Debian's service runs it as postgres


class PoolerError(RuntimeError):
    """PgBouncer is missing, its configuration is wrong, or it did not start or stop."""


@dataclass(frozen=True)
class PoolerConfig:
    prefix: Path
    listen: str  # host:port
    target: str  # libpq URL of the database pooled (user, password, host, port, dbname)
    pool_size: int = 20
    connect_query: str = ""

    @property
    def ini_file(self) -> Path:
        return self.prefix / "pgbouncer.ini"

    @property
    def userlist_file(self) -> Path:
        return self.prefix / "userlist.txt"

    @property
    def pid_file(self) -> Path:
        return self.prefix / "pgbouncer.pid"

    @property
    def log_file(self) -> Path:
        return self.prefix / "pgbouncer.log"


def session_query(statement_ms: int, idle_in_transaction_ms: int) -> str:
    """The connect_query giving each server connection what `options` gives a direct one."""
    return (f"SET jit = off; SET statement_timeout = {int(statement_ms)}; "
            f"SET idle_in_transaction_session_timeout = {int(idle_in_transaction_ms)}")


def pooled_url(cfg: PoolerConfig) -> str:
    """The URL clients use: the target's user, password and database at the pooler."""
    parts = urlsplit(cfg.target)
    auth = quote(unquote(parts.username or ""), safe="")
    if parts.password is not None:
        auth += ":" + quote(unquote(parts.password), safe="")
    return f"postgresql://{auth}@{cfg.listen}{parts.path}"


def render_ini(cfg: PoolerConfig) -> str:
    """pgbouncer.ini: the target's database (and its server's others), transaction mode."""
    parts = urlsplit(cfg.target)
    host, _, port = cfg.listen.rpartition(":")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or not parts.username:
        raise PoolerError("the database URL must name a user and a database to pool")
    for value in (dbname, parts.hostname or "", cfg.connect_query):
        if any(c in value for c in "'\n\r"):
            raise PoolerError(f"{value!r} cannot be written into pgbouncer.ini")
    target = f"host={parts.hostname or '127.0.0.1'} port={parts.port or 5432} dbname={dbname}"
    if cfg.connect_query:
        target += f" connect_query='{cfg.connect_query}'"
    return "\n".join([
        "; written by `gisapp pgbouncer start`: edits are overwritten",
        "[databases]",
        f"{dbname} = {target}",
        f"* = {target.replace(f' dbname={dbname}', '')}",  # the server's other databases
        "",
        "[pgbouncer]",
        f"listen_addr = {host or '127.0.0.1'}",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "pool_mode = transaction",
        f"default_pool_size = {cfg.pool_size}",
        "max_client_conn = 1000",
        "auth_type = scram-sha-256",
        f"auth_file = {cfg.userlist_file}",
        f"logfile = {cfg.log_file}",
        f"pidfile = {cfg.pid_file}",
        "ignore_startup_parameters = extra_float_digits",
        "server_lifetime = 3600",
        "",
    ])


def write_config(cfg: PoolerConfig) -> None:
    """The ini and a userlist (mode 0600) holding the target user's password."""
    parts = urlsplit(cfg.target)
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if not password:
        raise PoolerError("the database URL has no password: PgBouncer needs one in its "
                          "userlist to log in to PostgreSQL for its clients")
    if '"' in user + password:
        raise PoolerError("a user name or password holding '\"' cannot go into the userlist")
    cfg.prefix.mkdir(parents=True, exist_ok=True)
    cfg.ini_file.write_text(render_ini(cfg))
    fd = os.open(cfg.userlist_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f'"{user}" "{password}"\n')
    cfg.log_file.touch()
    if os.geteuid() == 0:
        closed = [p for p in (cfg.prefix, *cfg.prefix.parents) if not p.stat().st_mode & 0o001]
        if closed:
            raise PoolerError(f"PgBouncer runs as {RUN_AS}, who cannot enter {closed[-1]}: "
                              "choose a --prefix it can reach, or chmod o+x that directory")
        entry = pwd.getpwnam(RUN_AS)
        for path in (cfg.prefix, cfg.ini_file, cfg.userlist_file, cfg.log_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)


def pgbouncer_binary() -> str:
    """The pgbouncer program (GISAPP_PGBOUNCER, default `pgbouncer` on PATH or in /usr/sbin)."""
    name, found = daemons.find_program("GISAPP_PGBOUNCER", "pgbouncer")
    if found is None:
        raise PoolerError(f"PgBouncer is not installed ({name} not found): apt-get install "
                          "pgbouncer (`make run` installs it with the other system packages)")
    return found


def running_pid(cfg: PoolerConfig) -> int | None:
    """The daemon's pid when PgBouncer from this prefix runs."""
    return daemons.running_pid(cfg.pid_file)


def start(cfg: PoolerConfig, wait: float = 10) -> str:
    """Start PgBouncer in the background (or make it re-read its files if it runs)."""
    binary = pgbouncer_binary()
    write_config(cfg)
    pid = running_pid(cfg)
    if pid is not None:
        os.kill(pid, signal.SIGHUP)  # re-reads the ini and the userlist
        return "reloaded"
    cmd = [binary, "-d", str(cfg.ini_file)]
    if os.geteuid() == 0:
        cmd[1:1] = ["-u", RUN_AS]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PoolerError(f"PgBouncer did not start:\n{result.stderr}\n{_log_tail(cfg)}")
    host, _, port = cfg.listen.rpartition(":")
    if not daemons.wait_listening(host, int(port), cfg.pid_file, wait):
        raise PoolerError(f"PgBouncer is not listening on {cfg.listen} after {wait:.0f} s:"
                          f"\n{_log_tail(cfg)}")
    return "started"


def stop(cfg: PoolerConfig, wait: float = 10) -> bool:
    """Stop PgBouncer: safe shutdown (waits for transactions), then immediate; False if idle."""
    try:
        return daemons.stop_process(cfg.pid_file, (signal.SIGINT, signal.SIGTERM), wait) is not None
    except TimeoutError as exc:
        raise PoolerError(f"PgBouncer {exc}") from None


def _log_tail(cfg: PoolerConfig, chars: int = 2000) -> str:
    return daemons.log_tail(cfg.log_file, chars)
