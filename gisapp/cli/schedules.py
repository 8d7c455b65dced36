"""`gisapp etl schedule …`: add, list, pause, resume and remove import schedules."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click
import psycopg

from etl.encodings import ENCODINGS
from etl.pipeline import MODES
from gisapp.db import provision
from gisapp.errors import GisappError
from gisapp.etl_ops import schedules as ops
from gisapp.secret_masking import mask_passwords
from gisapp.settings import Settings
from layers import UnknownLayer


def _run(action):
    """Run `action(conn, now, settings)` in one transaction; errors become click errors."""
    settings = Settings.load()
    conninfo = provision.libpq_url(settings.direct_url)
    try:
        with psycopg.connect(conninfo) as conn, conn.transaction():
            return action(conn, datetime.now(timezone.utc), settings)
    except (GisappError, UnknownLayer) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None
    except psycopg.OperationalError as exc:
        raise click.ClickException(
            mask_passwords(f"database {conninfo} unreachable: {exc}")) from None


def _echo(s: dict) -> None:
    state = "enabled" if s["enabled"] else "paused"
    click.echo(f"{s['id']:>4}  {s['layer']:<18} {s['cron']:<16} {s['timezone']:<18} "
               f"{state:<8} next {s['next_run_at'] if s['enabled'] else '-'}  {s['source']}")


@click.group("schedule")
def schedule() -> None:
    """Import a source into a layer on a cron schedule (run by `gisapp worker`)."""


@schedule.command("add")
@click.argument("layer")
@click.argument("source")
@click.argument("cron")
@click.option("--timezone", "tz", default=ops.DEFAULT_TIMEZONE, show_default=True)
@click.option("--mode", type=click.Choice(MODES), default="replace", show_default=True)
@click.option("--crs")
@click.option("--encoding", help=f"Attribute text encoding: {', '.join(ENCODINGS)} "
              "(default: the .cpg file, else detected per column).")
@click.option("--source-layer")
@click.option("--paused", is_flag=True, help="Create it disabled.")
def add_cmd(layer: str, source: str, cron: str, tz: str, mode: str, crs: str | None,
            encoding: str | None, source_layer: str | None, paused: bool) -> None:
    """Add a schedule: SOURCE is a path under GISAPP_IMPORT_DIR or an allowed URL."""
    options = {k: v for k, v in {"mode": mode, "crs": crs, "encoding": encoding,
                                 "source_layer": source_layer}.items() if v}
    data = {"layer": layer, "source": source, "cron": cron, "timezone": tz,
            "options": options, "enabled": not paused}
    created = _run(lambda conn, now, settings: ops.create_schedule(conn, data, "cli", now,
                                                                   settings))
    _echo(created)
    click.echo("next runs: " + ", ".join(created["next_runs"]))


@schedule.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(as_json: bool) -> None:
    """List schedules with their next run."""
    rows = _run(lambda conn, now, settings: ops.list_schedules(conn, now))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        _echo(row)


def _set_enabled(schedule_id: int, enabled: bool) -> None:
    _echo(_run(lambda conn, now, settings: ops.update_schedule(
        conn, schedule_id, {"enabled": enabled}, now, settings)))


@schedule.command("pause")
@click.argument("schedule_id", type=int)
def pause_cmd(schedule_id: int) -> None:
    """Stop a schedule from firing."""
    _set_enabled(schedule_id, False)


@schedule.command("resume")
@click.argument("schedule_id", type=int)
def resume_cmd(schedule_id: int) -> None:
    """Let a paused schedule fire again from its next slot."""
    _set_enabled(schedule_id, True)


@schedule.command("remove")
@click.argument("schedule_id", type=int)
def remove_cmd(schedule_id: int) -> None:
    """Delete a schedule (its past runs stay in the history)."""
    _run(lambda conn, now, settings: ops.delete_schedule(conn, schedule_id))
    click.echo(f"removed schedule {schedule_id}")
