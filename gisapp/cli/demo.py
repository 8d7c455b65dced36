"""`gisapp demo …`: generate the demo city's source files and load them through the ETL."""
from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from etl.demo.generate import DEFAULT_PARCELS, DEFAULT_SEED, generate_city

console = Console()


@click.group()
def demo() -> None:
    """The demo city: a deterministic slice of central Da Nang."""


@demo.command("generate")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--parcels", "parcel_count", type=click.IntRange(100, 1_000_000),
              default=DEFAULT_PARCELS, show_default=True, help="about how many parcels")
def generate_cmd(directory: Path, seed: int, parcel_count: int) -> None:
    """Write the demo city's source files and manifest.json into DIRECTORY."""
    manifest = generate_city(directory, seed=seed, parcel_count=parcel_count)
    table = Table("layer", "file", "rows")
    for entry in manifest["entries"]:
        if entry["kind"] == "vector":
            table.add_row(entry["layer"], entry["file"], f"{manifest['counts'][entry['layer']]:,}")
        else:
            table.add_row(entry["name"], entry["file"], "raster")
    console.print(table)
    console.print(f"demo city (seed {seed}) written to {directory} in {manifest['seconds']:.1f} s")
