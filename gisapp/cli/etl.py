"""`gisapp etl …`: import a file into a layer with a progress bar; list recent runs."""
from __future__ import annotations

from pathlib import Path

import click
import psycopg
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from etl.encodings import ENCODINGS
from etl.pipeline import MODES, ImportFailed, ImportRequest, ImportResult, run_import
from gisapp.analysis.import_check import network_checked
from gisapp.db.timeouts import etl_conninfo
from gisapp.secret_masking import mask_passwords
from gisapp.settings import Settings
from gisapp.tile_purge import purging_tiles

console = Console(stderr=True)
REJECTS_SHOWN = 5


def _conninfo() -> str:
    return etl_conninfo(Settings.load())


@click.group("etl")
def etl() -> None:
    """Import files into layers and inspect import runs."""


@etl.command("import")
@click.argument("layer")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--crs", help="Source CRS overriding the file's, e.g. EPSG:5899.")
@click.option("--encoding", help=f"Attribute text encoding: {', '.join(ENCODINGS)} "
              "(default: the .cpg file, else detected per column).")
@click.option("--mode", type=click.Choice(MODES), default="replace", show_default=True)
@click.option("--source-layer", help="Layer inside a GeoPackage or .shp inside a zip.")
@click.option("--confirm-crs", is_flag=True,
              help="Accept a CRS without datum shift (Ballpark transformation, ~225 m off).")
@click.option("--dry-run", is_flag=True, help="Validate and record rejects; load nothing.")
def import_cmd(layer: str, path: Path, crs: str | None, encoding: str | None, mode: str,
               source_layer: str | None, confirm_crs: bool, dry_run: bool) -> None:
    """Import PATH (GeoJSON, GeoPackage, zipped Shapefile, CSV) into LAYER."""
    request = ImportRequest(layer=layer, path=path, mode=mode, crs=crs, encoding=encoding,
                            source_layer=source_layer, confirm_crs=confirm_crs,
                            dry_run=dry_run, started_by="cli")
    settings = Settings.load()
    conninfo = etl_conninfo(settings)
    columns = (TextColumn("{task.description:<10}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[count]}"), TimeElapsedColumn())
    try:
        with network_checked(conninfo), purging_tiles(conninfo, settings), \
                Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("start", total=None, count="")

            def report(phase: str, done: int, total: int | None) -> None:
                count = f"{done:,}/{total:,}" if total else f"{done:,}"
                bar.update(task, description=phase, completed=done, total=total, count=count)

            result = run_import(conninfo, request, progress=report)
    except ImportFailed as exc:
        if exc.result.rows_read:  # a run that read rows: show what it found before failing
            _print_summary(exc.result, conninfo)
        raise click.ClickException(f"run {exc.result.run_id} failed: {exc.message}") from None
    except psycopg.OperationalError as exc:
        raise click.ClickException(
            mask_passwords(f"database {conninfo} unreachable: {exc}")) from None
    _print_summary(result, conninfo)


def _print_summary(result: ImportResult, conninfo: str) -> None:
    out = Console()
    table = Table(title=f"run {result.run_id}: {result.layer} {result.status}", show_header=False)
    table.add_column("item")
    table.add_column("value", justify="right")
    for name in ("rows_read", "rows_valid", "rows_loaded", "rows_rejected", "rows_repaired"):
        table.add_row(name.removeprefix("rows_"), f"{getattr(result, name):,}")
    for name, n in result.summary.items():
        table.add_row(name, f"{n:,}")
    for phase, seconds in result.timings.items():
        table.add_row(f"{phase} (s)", f"{seconds:.2f}")
    out.print(table)
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}")
    if result.rows_rejected and result.run_id:
        with psycopg.connect(conninfo) as conn:
            rows = conn.execute("SELECT row_number, reason FROM etl_rejects WHERE run_id = %s"
                                " ORDER BY row_number LIMIT %s",
                                (result.run_id, REJECTS_SHOWN)).fetchall()
        for row_number, reason in rows:
            out.print(f"[red]rejected[/red] row {row_number}: {reason}")
        if result.rows_rejected > len(rows):
            out.print(f"… {result.rows_rejected - len(rows):,} more in etl_rejects "
                      f"(run_id {result.run_id})")


@etl.command("runs")
@click.option("--layer", help="Only runs of this layer.")
@click.option("--limit", default=20, show_default=True)
def runs_cmd(layer: str | None, limit: int) -> None:
    """List recent import runs, newest first."""
    conninfo = _conninfo()
    try:
        with psycopg.connect(conninfo) as conn:
            rows = conn.execute(
                "SELECT id, layer, mode, status, phase, rows_read, rows_loaded, rows_rejected,"
                " to_char(created_at, 'YYYY-MM-DD HH24:MI:SS'), coalesce(error, '')"
                " FROM etl_runs WHERE %(layer)s::text IS NULL OR layer = %(layer)s"
                " ORDER BY id DESC LIMIT %(n)s", {"layer": layer, "n": limit}).fetchall()
    except psycopg.OperationalError as exc:
        raise click.ClickException(
            mask_passwords(f"database {conninfo} unreachable: {exc}")) from None
    table = Table("run", "layer", "mode", "status", "phase", "read", "loaded", "rejected",
                  "created (UTC)", "error")
    for row in rows:
        table.add_row(*(f"{v:,}" if isinstance(v, int) and i > 0 else str(v)
                        for i, v in enumerate(row)))
    Console(width=200).print(table)
