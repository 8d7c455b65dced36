"""The `gisapp` command: one group, subcommands by area."""
from __future__ import annotations

import sys

import click

from gisapp.cli import (db, demo, drainage, etl, layers_cmd, rasters, schedules, serve, tiles,
                        users, worker)


@click.group()
def cli() -> None:
    """gisapp: GIS for urban infrastructure and land records."""


cli.add_command(db.db)
cli.add_command(demo.demo)
cli.add_command(drainage.drainage)
cli.add_command(etl.etl)
etl.etl.add_command(rasters.import_raster_cmd)
etl.etl.add_command(schedules.schedule)
cli.add_command(worker.worker)
cli.add_command(layers_cmd.layers)
cli.add_command(serve.serve)
cli.add_command(tiles.tiles)
cli.add_command(users.users)
cli.add_command(users.tokens)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
