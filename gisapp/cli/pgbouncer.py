"""`gisapp pgbouncer start|stop|status`: the transaction-mode pooler web nodes connect through."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from gisapp.pgbouncer import (DEFAULT_LISTEN, DEFAULT_PREFIX, PoolerConfig, PoolerError,
                              pooled_url, running_pid, session_query, start, stop)


def _config(prefix: Path, listen: str = DEFAULT_LISTEN, pool_size: int = 20) -> PoolerConfig:
    from gisapp.db.provision import libpq_url
    from gisapp.settings import Settings

    settings = Settings.load()
    return PoolerConfig(prefix=prefix.resolve(), listen=listen,
                        target=libpq_url(settings.direct_url), pool_size=pool_size,
                        connect_query=session_query(settings.web_statement_timeout_ms,
                                                    settings.idle_in_transaction_timeout_ms))


prefix_option = click.option(
    "--prefix", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_PREFIX,
    show_default=True, envvar="GISAPP_PGBOUNCER_PREFIX",
    help="Directory for PgBouncer's ini, userlist, pid and log.")


@click.group("pgbouncer")
def pgbouncer() -> None:
    """Run PgBouncer (transaction mode) in front of the database of DATABASE_DIRECT_URL or
    DATABASE_URL."""


@pgbouncer.command("start")
@prefix_option
@click.option("--listen", default=DEFAULT_LISTEN, show_default=True,
              help="host:port PgBouncer listens on.")
@click.option("--pool-size", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="server connections per user and database.")
def start_cmd(prefix: Path, listen: str, pool_size: int) -> None:
    """Start PgBouncer in the background (or make it re-read its files if it runs)."""
    if ":" not in listen or not listen.rpartition(":")[2].isdigit():
        raise click.BadParameter(f"{listen!r} is not host:port", param_hint="--listen")
    cfg = _config(prefix, listen, pool_size)
    try:
        done = start(cfg)
    except PoolerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"pgbouncer {done} on {listen} (prefix {cfg.prefix}); web nodes use:", err=True)
    click.echo(f"DATABASE_URL={pooled_url(cfg)} DATABASE_POOLER=transaction "
               f"DATABASE_DIRECT_URL={cfg.target}")


@pgbouncer.command("stop")
@prefix_option
def stop_cmd(prefix: Path) -> None:
    """Stop PgBouncer (transactions in flight finish first)."""
    try:
        stopped = stop(_config(prefix))
    except PoolerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("pgbouncer stopped" if stopped else "pgbouncer was not running", err=True)


@pgbouncer.command("status")
@prefix_option
def status_cmd(prefix: Path) -> None:
    """Say whether PgBouncer runs from this prefix (exit 3 when it does not)."""
    cfg = _config(prefix)
    pid = running_pid(cfg)
    if pid is None:
        click.echo(f"pgbouncer is not running (prefix {cfg.prefix})")
        sys.exit(3)
    listen = "?"
    host = port = ""
    if cfg.ini_file.exists():
        for line in cfg.ini_file.read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition("="))
            host = value if key == "listen_addr" else host
            port = value if key == "listen_port" else port
        listen = f"{host}:{port}"
    click.echo(f"pgbouncer is running (pid {pid}) on {listen} (prefix {cfg.prefix})")
