"""`gisapp etl import-raster`: a GeoTIFF into the data directory as a Cloud-Optimized GeoTIFF."""
from __future__ import annotations

from pathlib import Path

import click
import psycopg

from etl.errors import ImportRefused
from etl.rasters import import_raster
from gisapp.db.timeouts import etl_conninfo
from gisapp.secret_masking import mask_passwords
from gisapp.settings import Settings


@click.command("import-raster")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", help="Unit of the pixel values, e.g. m for elevation or flood depth.")
def import_raster_cmd(name: str, path: Path, unit: str | None) -> None:
    """Import the GeoTIFF PATH as raster NAME (replacing an earlier one atomically)."""
    settings = Settings.load()
    conninfo = etl_conninfo(settings)
    try:
        row = import_raster(conninfo, name, path, settings.data_dir, unit=unit)
    except ImportRefused as exc:
        raise click.ClickException(str(exc)) from None
    except psycopg.OperationalError as exc:
        raise click.ClickException(
            mask_passwords(f"database {conninfo} unreachable: {exc}")) from None
    for warning in row["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    bands = ", ".join(f"band {b['band']}: {b['min']}..{b['max']} mean {b['mean']:.3f}"
                      for b in row["stats"]["bands"] if b["mean"] is not None)
    click.echo(f"run {row['run_id']}: raster {name} {row['width']}x{row['height']} "
               f"{row['crs']} -> {row['path']} ({bands})")
