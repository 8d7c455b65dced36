"""`gisapp nginx start|stop|status`: the buffering reverse proxy `make run` serves through."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from gisapp.reverse_proxy import (DEFAULT_PREFIX, ProxyConfig, ProxyError, running_pid, start,
                                  stop)


def _config(prefix: Path, listen: str = "", upstream: str = "") -> ProxyConfig:
    from gisapp.settings import Settings

    return ProxyConfig(prefix=prefix.resolve(), listen=listen, upstream=upstream,
                       max_upload_mb=Settings.load().max_upload_mb)


prefix_option = click.option(
    "--prefix", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_PREFIX,
    show_default=True, envvar="GISAPP_NGINX_PREFIX",
    help="Directory for nginx's config, pid, logs, temp files and cache.")


@click.group("nginx")
def nginx() -> None:
    """Run nginx in front of gunicorn (buffers slow clients, caches tiles, JSON errors)."""


@nginx.command("start")
@prefix_option
@click.option("--listen", default="127.0.0.1:8000", show_default=True,
              help="host:port nginx listens on (the public address).")
@click.option("--upstream", default="127.0.0.1:8001", show_default=True,
              help="gunicorn's address: host:port or unix:/path/to.sock; several web nodes "
                   "comma-separated (nginx balances them).")
def start_cmd(prefix: Path, listen: str, upstream: str) -> None:
    """Start nginx in the background, or reload it with a new configuration if it runs."""
    if ":" not in listen or not listen.rpartition(":")[2].isdigit():
        raise click.BadParameter(f"{listen!r} is not host:port", param_hint="--listen")
    cfg = _config(prefix, listen, upstream)
    try:
        done = start(cfg)
    except ProxyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"nginx {done}: http://{listen}/ -> {upstream} (prefix {cfg.prefix})", err=True)


@nginx.command("stop")
@prefix_option
def stop_cmd(prefix: Path) -> None:
    """Stop nginx gracefully (requests in flight finish)."""
    try:
        stopped = stop(_config(prefix))
    except ProxyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("nginx stopped" if stopped else "nginx was not running", err=True)


@nginx.command("status")
@prefix_option
def status_cmd(prefix: Path) -> None:
    """Say whether nginx runs from this prefix (exit 3 when it does not)."""
    cfg = _config(prefix)
    pid = running_pid(cfg)
    if pid is None:
        click.echo(f"nginx is not running (prefix {cfg.prefix})")
        sys.exit(3)
    site = cfg.prefix / "conf" / "gisapp.conf"
    listen, nodes = "?", []
    for line in site.read_text().splitlines():
        words = line.strip().rstrip(";").split()
        if words[:1] == ["listen"]:
            listen = words[1]
        elif words[:1] == ["server"] and len(words) > 1 and words[1] != "{":
            nodes += [w.rstrip(";") for w in words[1::2]]
    upstream = ",".join(nodes) or "?"
    click.echo(f"nginx is running (pid {pid}): http://{listen}/ -> {upstream} "
               f"(prefix {cfg.prefix})")
