"""The `stop` and `status` commands every daemon group has (nginx, PgBouncer, Mosquitto), once."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click


def check_listen(listen: str, option: str = "--listen") -> None:
    """Refuse a listen address that is not host:port."""
    if ":" not in listen or not listen.rpartition(":")[2].isdigit():
        raise click.BadParameter(f"{listen!r} is not host:port", param_hint=option)


def add_stop_and_status(group: click.Group, *, program: str, place_option: Callable,
                        config: Callable[..., Any], error: type[Exception],
                        stop: Callable[[Any], bool], running_pid: Callable[[Any], int | None],
                        place: Callable[[Any], str], describe: Callable[[Any], str],
                        stop_help: str) -> None:
    """Add `stop` and `status` to a daemon's group.

    `config` builds the daemon's config from the place option's value, `place` names where it
    runs from ("prefix /x"), `describe` what a running one serves ("on 127.0.0.1:6432");
    `status` exits 3 when the daemon does not run, as `pg_ctl status` does.
    """

    @group.command("stop", help=stop_help)
    @place_option
    def stop_cmd(**place_value: Any) -> None:
        try:
            stopped = stop(config(*place_value.values()))
        except error as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{program} stopped" if stopped else f"{program} was not running", err=True)

    @group.command("status",
                   help=f"Say whether {program} runs from this place (exit 3 when it does not).")
    @place_option
    def status_cmd(**place_value: Any) -> None:
        cfg = config(*place_value.values())
        pid = running_pid(cfg)
        if pid is None:
            click.echo(f"{program} is not running ({place(cfg)})")
            sys.exit(3)
        click.echo(f"{program} is running (pid {pid}){describe(cfg)} ({place(cfg)})")
