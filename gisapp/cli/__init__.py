"""The `gisapp` command: one group, subcommands by area, each imported only when used.

Importing every area up front (geopandas, rasterio, Flask…) cost seconds on every call;
`make run` calls the CLI several times, so a command loads only its own module.
"""
from __future__ import annotations

import importlib
import sys

import click

COMMANDS = {
    "db": "gisapp.cli.db:db",
    "demo": "gisapp.cli.demo:demo",
    "drainage": "gisapp.cli.drainage:drainage",
    "etl": "gisapp.cli.etl:etl",
    "fonts": "gisapp.cli.fonts:fonts",
    "layers": "gisapp.cli.layers_cmd:layers",
    "mqtt": "gisapp.cli.mqtt:mqtt",
    "nginx": "gisapp.cli.nginx:nginx",
    "pgbouncer": "gisapp.cli.pgbouncer:pgbouncer",
    "replica": "gisapp.cli.replica:replica",
    "sensors": "gisapp.cli.sensors:sensors",
    "serve": "gisapp.cli.serve:serve",
    "sprite": "gisapp.cli.sprite:sprite",
    "tiles": "gisapp.cli.tiles:tiles",
    "tokens": "gisapp.cli.users:tokens",
    "users": "gisapp.cli.users:users",
    "worker": "gisapp.cli.worker:worker",
}
SUBCOMMANDS = {
    "etl": ("gisapp.cli.rasters:import_raster_cmd", "gisapp.cli.schedules:schedule"),
}


def _load(target: str) -> click.Command:
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


class LazyGroup(click.Group):
    """A click group whose subcommands are imported when they are asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        command = _load(COMMANDS[name])
        for sub in SUBCOMMANDS.get(name, ()):
            command.add_command(_load(sub))
        return command


@click.group(cls=LazyGroup)
def cli() -> None:
    """gisapp: GIS for urban infrastructure and land records."""


def main() -> None:
    from gisapp.secret_masking import install

    install()  # the worker's, gunicorn's and libraries' log lines too
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
