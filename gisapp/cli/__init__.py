"""The `gisapp` command: one group, subcommands by area."""
from __future__ import annotations

import sys

import click

from gisapp.cli import db, layers_cmd, serve


@click.group()
def cli() -> None:
    """gisapp: GIS for urban infrastructure and land records."""


cli.add_command(db.db)
cli.add_command(layers_cmd.layers)
cli.add_command(serve.serve)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
