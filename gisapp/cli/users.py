"""`gisapp users …` and `gisapp tokens …`: accounts and API tokens from the shell."""
from __future__ import annotations

import getpass

import click
from rich.console import Console
from rich.table import Table

from gisapp import accounts
from gisapp.audit import write_audit
from gisapp.db.engine import make_engine
from gisapp.errors import GisappError
from gisapp.settings import Settings
from layers import ROLES


def _engine():
    return make_engine(Settings.load().direct_url, pool_size=1, max_overflow=0)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _run(change):
    """Run change(conn) in one transaction; GisappError becomes a clean CLI error."""
    engine = _engine()
    try:
        with engine.begin() as conn:
            return change(conn)
    except GisappError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()


@click.group()
def users() -> None:
    """Create and list users."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--password", default=None, help="For web sign-in; token-only users need none.")
@click.option("--display-name", default=None)
def users_add(name: str, role: str, password: str | None, display_name: str | None) -> None:
    """Create user NAME with a role."""
    def change(conn):
        user_id = accounts.add_user(conn, name, role, password, display_name)
        write_audit(conn, _actor(), "admin", "user.create", name,
                    {"role": role, "password": password is not None})
        return user_id
    user_id = _run(change)
    click.echo(f"user {name} ({role}) created with id {user_id}")


@users.command("list")
def users_list() -> None:
    """List users with role and number of live tokens."""
    rows = _run(accounts.list_users)
    table = Table("id", "name", "role", "display name", "disabled", "tokens")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["role"], r["display_name"] or "",
                      "yes" if r["disabled"] else "", str(r["tokens"]))
    Console(width=120).print(table)


@click.group()
def tokens() -> None:
    """Create and revoke API tokens."""


@tokens.command("create")
@click.argument("name")
@click.option("--label", default=None, help="What the token is for, e.g. 'permit desk script'.")
def tokens_create(name: str, label: str | None) -> None:
    """Create an API token for user NAME; the token is printed once, on the last line."""
    def change(conn):
        token_id, token = accounts.create_token(conn, name, label)
        write_audit(conn, _actor(), "admin", "token.create", name,
                    {"token_id": token_id, "label": label})
        return token_id, token
    token_id, token = _run(change)
    click.echo(f"token {token_id} for {name}; it is shown only now, store it safely:")
    click.echo(token)


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke API token TOKEN_ID."""
    def change(conn):
        user = accounts.revoke_token(conn, token_id)
        write_audit(conn, _actor(), "admin", "token.revoke", user, {"token_id": token_id})
        return user
    user = _run(change)
    click.echo(f"token {token_id} of {user} revoked")
