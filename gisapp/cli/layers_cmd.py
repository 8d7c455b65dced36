"""`gisapp layers`: list the registry."""
from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from layers import LAYERS, TABLES


@click.command("layers")
def layers() -> None:
    """List every declared layer and table."""
    table = Table("id", "theme", "geometry", "zoom", "key", "fields", "title")
    for layer in LAYERS.values():
        table.add_row(layer.id, layer.theme, layer.geometry_type,
                      f"{layer.minzoom}-{layer.maxzoom}", ",".join(layer.key),
                      str(len(layer.fields)), " / ".join(layer.title.values()))
    for t in TABLES.values():
        table.add_row(t.id, "-", "(none)", "-", ",".join(t.key), str(len(t.fields)),
                      " / ".join(t.title.values()))
    Console(width=160).print(table)
