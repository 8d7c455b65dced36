"""`gisapp pgbouncer start|stop|status`: the transaction-mode pooler web nodes connect through."""
from __future__ import annotations

from pathlib import Path

import click

from gisapp.cli.daemon_commands import add_stop_and_status, check_listen
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
    check_listen(listen)
    cfg = _config(prefix, listen, pool_size)
    try:
        done = start(cfg)
    except PoolerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"pgbouncer {done} on {listen} (prefix {cfg.prefix}); web nodes use:", err=True)
    click.echo(f"DATABASE_URL={pooled_url(cfg)} DATABASE_POOLER=transaction "
               f"DATABASE_DIRECT_URL={cfg.target}")


def _describe(cfg: PoolerConfig) -> str:
    """' on HOST:PORT' as the running pooler's ini says."""
    host = port = ""
    if not cfg.ini_file.exists():
        return " on ?"
    for line in cfg.ini_file.read_text().splitlines():
        key, _, value = (part.strip() for part in line.partition("="))
        host = value if key == "listen_addr" else host
        port = value if key == "listen_port" else port
    return f" on {host}:{port}"


add_stop_and_status(pgbouncer, program="pgbouncer", place_option=prefix_option, config=_config,
                    error=PoolerError, stop=stop, running_pid=running_pid,
                    place=lambda cfg: f"prefix {cfg.prefix}", describe=_describe,
                    stop_help="Stop PgBouncer (transactions in flight finish first).")
