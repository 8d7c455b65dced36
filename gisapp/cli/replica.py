"""`gisapp replica …`: a streaming read replica of the local cluster, beside it."""
from __future__ import annotations

import json

import click

from gisapp.db import replica_cluster
from gisapp.db.provision import ProvisionError
from gisapp.secret_masking import mask_passwords
from gisapp.settings import Settings


@click.group()
def replica() -> None:
    """Make, start, stop and inspect the local streaming replica (reads: DATABASE_READ_URLS)."""


@replica.command("start")
def start_cmd() -> None:
    """Make the replica once (pg_basebackup -R through a slot) and start it; prints its URL."""
    try:
        url = replica_cluster.start_replica(Settings.load().database_url,
                                            log=lambda m: click.echo(f"replica: {m}", err=True))
    except (ProvisionError, OSError) as exc:
        raise click.ClickException(mask_passwords(str(exc))) from None
    click.echo(url)


@replica.command("stop")
def stop_cmd() -> None:
    """Stop the replica (reads fall back to the primary)."""
    click.echo("stopped" if replica_cluster.stop_replica() else "not running")


@replica.command("status")
def status_cmd() -> None:
    """Whether the replica runs, and its replay position and lag (JSON); exit 1 if stopped."""
    doc = replica_cluster.replica_status()
    click.echo(json.dumps(doc, indent=2))
    if not doc["running"]:
        raise SystemExit(1)


@replica.command("url")
@click.option("--if-running", is_flag=True, help="Print nothing when the replica is stopped.")
def url_cmd(if_running: bool) -> None:
    """The replica's URL for DATABASE_READ_URLS (the primary's user and database)."""
    if if_running and not replica_cluster.is_running():
        return
    click.echo(replica_cluster.replica_url(Settings.load().database_url))
