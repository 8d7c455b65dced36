"""`gisapp nginx start|stop|status`: the buffering reverse proxy `make run` serves through."""
from __future__ import annotations

from pathlib import Path

import click

from gisapp.cli.daemon_commands import add_stop_and_status, check_listen
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
    check_listen(listen)
    cfg = _config(prefix, listen, upstream)
    try:
        done = start(cfg)
    except ProxyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"nginx {done}: http://{listen}/ -> {upstream} (prefix {cfg.prefix})", err=True)


def _describe(cfg: ProxyConfig) -> str:
    """': http://LISTEN/ -> UPSTREAM' as the running site's config says."""
    listen, nodes = "?", []
    for line in (cfg.prefix / "conf" / "gisapp.conf").read_text().splitlines():
        words = line.strip().rstrip(";").split()
        if words[:1] == ["listen"]:
            listen = words[1]
        elif words[:1] == ["server"] and len(words) > 1 and words[1] != "{":
            nodes += [w.rstrip(";") for w in words[1::2]]
    return f": http://{listen}/ -> {','.join(nodes) or '?'}"


add_stop_and_status(nginx, program="nginx", place_option=prefix_option, config=_config,
                    error=ProxyError, stop=stop, running_pid=running_pid,
                    place=lambda cfg: f"prefix {cfg.prefix}", describe=_describe,
                    stop_help="Stop nginx gracefully (requests in flight finish).")
