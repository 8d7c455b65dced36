"""`gisapp demo …`: generate the demo city's source files and load them through the ETL."""
from __future__ import annotations

import time
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
            extract = entry["file"].endswith(".osm")  # loaded as it came: its rows are its own
            table.add_row(entry["layer"], entry["file"], "OpenStreetMap" if extract
                          else f"{manifest['counts'][entry['layer']]:,}")
        else:
            table.add_row(entry["name"], entry["file"], "raster")
    console.print(table)
    console.print(f"demo city (seed {seed}) written to {directory} in {manifest['seconds']:.1f} s")


@demo.command("load")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="default: <GISAPP_DATA_DIR>/demo")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--parcels", "parcel_count", type=click.IntRange(100, 1_000_000),
              default=DEFAULT_PARCELS, show_default=True)
@click.option("--force", is_flag=True, help="Reload even if this city is already loaded.")
def load_cmd(directory: Path | None, seed: int, parcel_count: int, force: bool) -> None:
    """Generate the demo city if needed and import it all through the ETL pipeline."""
    from etl.demo.load import DemoLoadFailed, ensure_generated, is_loaded, load_city
    from gisapp.analysis.import_check import network_checked
    from gisapp.db.timeouts import etl_conninfo
    from gisapp.settings import Settings

    settings = Settings.load()
    conninfo = etl_conninfo(settings)
    directory = directory or settings.data_dir / "demo"
    manifest, made = ensure_generated(directory, seed, parcel_count)
    if made:
        click.echo(f"generated the demo city in {directory} ({manifest['seconds']:.1f} s)", err=True)
    if not force and is_loaded(conninfo, manifest):
        click.echo("demo city already loaded")
        return
    started = time.perf_counter()
    try:
        with network_checked(conninfo):
            lines = load_city(conninfo, directory, settings.data_dir, manifest,
                              progress=lambda name: click.echo(f"loading {name} …", err=True))
    except DemoLoadFailed as exc:
        _print_lines(exc.lines)
        raise click.ClickException(str(exc)) from None
    _print_lines(lines)
    console.print(f"demo city loaded in {time.perf_counter() - started:.1f} s")


def _print_lines(lines) -> None:
    table = Table("layer", "status", "read", "loaded", "rejected", "seconds")
    for line in lines:
        table.add_row(line.name, line.status, f"{line.read:,}", f"{line.loaded:,}",
                      f"{line.rejected:,}", f"{line.seconds:.1f}")
    console.print(table)
    for line in lines:
        if line.error:
            console.print(f"[red]{line.name}[/red]: {line.error}")
