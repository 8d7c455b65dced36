"""`gisapp db …`: provision, migrate, inspect the database."""
from __future__ import annotations

from pathlib import Path

import click
import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from gisapp.db import migrate, provision
from gisapp.secret_masking import mask_passwords
from gisapp.settings import Settings
from store.layer_changes import reset_foreign_commit_lsns

console = Console()


def current_url() -> str:
    return Settings.load().direct_url


@click.group()
def db() -> None:
    """Provision, migrate and inspect the database."""


@db.command("url")
def url_cmd() -> None:
    """Print the connection URL in use (psql "$(gisapp db url)" works)."""
    click.echo(provision.libpq_url(current_url()))


@db.command("provision")
def provision_cmd() -> None:
    """Create and start the local cluster when the URL is local; create database and extensions."""
    url = current_url()
    try:
        provision.ensure_database(url, log=lambda m: click.echo(f"db: {m}", err=True))
        provision.wait_until_ready(url)
    except (provision.ProvisionError, OSError) as exc:
        raise click.ClickException(mask_passwords(str(exc))) from None
    except Exception as exc:  # psycopg errors: say which database
        raise click.ClickException(mask_passwords(f"cannot prepare {provision.libpq_url(url)}: "
                                                  f"{exc}")) from None


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade_cmd(revision: str) -> None:
    """Apply Alembic migrations; then (at head) reset commit LSNs of another WAL history."""
    url = current_url()
    migrate.upgrade(url, revision)
    if revision != "head":
        return
    with psycopg.connect(provision.libpq_url(url), autocommit=True) as conn:
        reset = reset_foreign_commit_lsns(conn)
    if reset:
        click.echo(f"{reset} layer version(s) had no commit LSN of this database's WAL "
                   "history (restored from a dump?): set to the position now, so replicas "
                   "serve them once they have replayed the restore")


@db.command("revision")
@click.argument("message")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Write the migration here instead of gisapp/db/migrations/versions.")
@click.option("--rev-id", help="Revision id; default: the head's number plus one.")
def revision_cmd(message: str, directory: Path | None, rev_id: str | None) -> None:
    """Autogenerate a migration from the registry against the database (migrated to head)."""
    url = current_url()
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    changes = migrate.pending_changes(url)
    path = migrate.new_revision(url, message, directory, rev_id)
    click.echo(f"{path}: {len(changes)} change(s)" if changes else
               f"{path}: no changes, the database matches the registry (an empty migration)")


@db.command("stop")
def stop_cmd() -> None:
    """Stop the local cluster."""
    provision.stop_cluster()


@db.command("status")
def status_cmd() -> None:
    """Server and PostGIS versions, migration head, row counts per layer."""
    from gisapp.db.engine import make_engine
    from gisapp.layer_counts import count_rows

    url = current_url()
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            server = conn.execute(text("SHOW server_version")).scalar()
            postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar()
            current = migrate.current_revision(engine)
            counts = count_rows(conn) if current else {}
    except Exception as exc:
        raise click.ClickException(mask_passwords(
            f"database {provision.libpq_url(url)} unreachable: "
            f"{str(getattr(exc, 'orig', exc)).strip()}")) from None
    console.print(f"database  {mask_passwords(provision.libpq_url(url))}")
    console.print(f"server    PostgreSQL {server}, PostGIS {postgis}")
    head = migrate.head_revision()
    state = "current" if current == head else "PENDING: run `gisapp db upgrade`"
    console.print(f"migration {current} (head {head}, {state})")
    table = Table("layer / table", "rows")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
