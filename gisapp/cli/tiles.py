"""`gisapp tiles seed|export|changed`: pre-render tiles into the shared store or an archive,
or list the tiles an import changed (a CDN's purge list)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click
import psycopg
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from gisapp.db.provision import libpq_url
from gisapp.settings import Settings
from layers import LAYERS, UnknownLayer, levels_for
from layers.access import ROLES
from tiles.archive import ArchiveError, export_archive
from tiles.grid import (GridError, changed_tiles, count_tiles, parse_layer_list,
                        parse_zoom_range)
from tiles.seed import seed_tiles
from tiles.service import TileService
from tiles.sql import BUFFER, EXTENT
from tiles.tilejson import data_bounds


@click.group("tiles")
def tiles() -> None:
    """Pre-render vector tiles (seed) or write them to a PMTiles/MBTiles archive (export)."""


def _layers(text: str):
    try:
        return parse_layer_list(",".join(LAYERS) if text == "all" else text)
    except (GridError, UnknownLayer) as exc:
        raise click.BadParameter(str(exc), param_hint="LAYERS") from None


def _zooms(text: str) -> range:
    try:
        return parse_zoom_range(text)
    except GridError as exc:
        raise click.BadParameter(str(exc), param_hint="--zoom") from None


def _bbox(conn, layers, text: str | None) -> tuple[float, float, float, float]:
    if text:
        try:
            west, south, east, north = (float(v) for v in text.split(","))
        except ValueError:
            raise click.BadParameter("use west,south,east,north in degrees",
                                     param_hint="--bbox") from None
        if not (-180 <= west < east <= 180 and -85.06 <= south < north <= 85.06):
            raise click.BadParameter("west < east within ±180, south < north within ±85.05",
                                     param_hint="--bbox")
        return (west, south, east, north)
    bounds = data_bounds(conn, layers)
    if bounds is None:
        raise click.ClickException("those layers hold no features; load data or give --bbox")
    return bounds


def _progress(total: int, label: str) -> Progress:
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    transient=False)


def _connect(conninfo: str) -> psycopg.Connection:
    return psycopg.connect(conninfo, options="-c jit=off")


LAYERS_HELP = "one layer, a comma list, or 'all'"


@tiles.command("seed")
@click.argument("layers", metavar="LAYERS")
@click.option("--zoom", "zoom", required=True, help="zoom range, e.g. 10-16")
@click.option("--bbox", help="west,south,east,north in degrees (default: the data's extent)")
@click.option("--role", default="public", show_default=True, type=click.Choice(list(ROLES)),
              help="seed the tiles this role sees")
def seed(layers: str, zoom: str, bbox: str | None, role: str) -> None:
    """Render LAYERS (one layer, a comma list, or 'all') into the shared tile store."""
    settings = Settings.load()
    if settings.tile_cache != "memory+disk":
        raise click.ClickException("seeding fills the disk store: set GISAPP_TILE_CACHE="
                                   f"memory+disk (it is {settings.tile_cache})")
    chosen, zooms = _layers(layers), _zooms(zoom)
    conninfo = libpq_url(settings.direct_url)
    with _connect(conninfo) as conn:
        area = _bbox(conn, chosen, bbox)

        @contextmanager
        def connect() -> Iterator[psycopg.Connection]:
            yield conn
            conn.rollback()

        service = TileService(conninfo, connect, cache="memory+disk", memory_bytes=1 << 20,
                              disk_root=settings.data_dir / "tiles",
                              max_features=settings.tile_max_features)
        total = count_tiles(area, zooms)
        with _progress(total, f"seeding {total} tiles") as bar:
            task = bar.add_task("seed", total=total)
            summary = seed_tiles(service, chosen, zooms, area, levels_for(role),
                                 lambda n: bar.advance(task, n))
    click.echo(f"seeded {summary.tiles} tiles ({summary.empty} empty) of "
               f"{','.join(layer.id for layer in chosen)} at zoom {zoom} in "
               f"{summary.seconds} s ({summary.tiles_per_second} tiles/s); "
               f"{summary.size_bytes / 1e6:.1f} MB gzip, largest {summary.largest // 1024} KB; "
               f"store: {settings.data_dir / 'tiles'}")


@tiles.command("export")
@click.argument("layers", metavar="LAYERS")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--zoom", "zoom", required=True, help="zoom range, e.g. 10-16")
@click.option("--bbox", help="west,south,east,north in degrees (default: the data's extent)")
def export(layers: str, out: Path, zoom: str, bbox: str | None) -> None:
    """Write LAYERS' public tiles to OUT, a .pmtiles or .mbtiles archive."""
    settings = Settings.load()
    chosen, zooms = _layers(layers), _zooms(zoom)
    with _connect(libpq_url(settings.direct_url)) as conn:
        area = _bbox(conn, chosen, bbox)
        total = count_tiles(area, zooms)
        try:
            with _progress(total, f"exporting {total} tiles") as bar:
                task = bar.add_task("export", total=total)
                summary = export_archive(conn, chosen, zooms, area, out,
                                         settings.tile_max_features,
                                         lambda n: bar.advance(task, n))
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {summary.path}: {summary.stored} tiles with data of {summary.tiles}, "
               f"{summary.size_bytes / 1e6:.1f} MB, in {summary.seconds} s")


@tiles.command("changed")
@click.argument("run_id", type=int)
@click.option("--zoom", "zoom", required=True, help="zoom range, e.g. 10-16")
def changed(run_id: int, zoom: str) -> None:
    """Print z/x/y of every tile import RUN_ID can have changed, one a line: what a CDN
    holding /tiles/<layers>/{z}/{x}/{y}.mvt for any layer list with the run's layer
    purges after it (the same tiles the shared tile store drops)."""
    settings = Settings.load()
    zooms = _zooms(zoom)
    with _connect(libpq_url(settings.direct_url)) as conn:
        row = conn.execute("SELECT layer, status, ST_XMin(extent), ST_YMin(extent),"
                           " ST_XMax(extent), ST_YMax(extent) FROM etl_runs WHERE id = %s",
                           (run_id,)).fetchone()
    if row is None:
        raise click.ClickException(f"there is no run {run_id} (gisapp etl runs lists them)")
    layer, status, *box = row
    if box[0] is None:
        raise click.ClickException(f"run {run_id} of {layer} ({status}) recorded no extent: "
                                   f"purge every tile holding {layer}")
    click.echo(f"run {run_id} of {layer}: tiles touching {', '.join(f'{v:.6f}' for v in box)}",
               err=True)
    for z, x, y in changed_tiles(tuple(box), zooms, BUFFER / EXTENT):
        click.echo(f"{z}/{x}/{y}")
