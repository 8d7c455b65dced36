"""Users and API tokens: create, list, revoke, and resolve a token or password to a user.

Flask-free: every function takes a SQLAlchemy Connection; the caller owns the transaction.
Tokens are 32 random bytes (urlsafe base64); only their SHA-256 hex digest is stored, so a
token is shown once, when it is created, and cannot be recovered later.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from gisapp.db.tables import api_tokens, users
from gisapp.errors import BadRequest, Conflict, NotFound
from layers import ROLES

TOKEN_BYTES = 32
LAST_USED_RESOLUTION = text("interval '1 minute'")


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: user name, role, and the token used (None for a session)."""

    name: str
    role: str
    token_id: int | None = None


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256 hex of its text."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_role(role: str) -> str:
    """The role itself, or BadRequest naming the roles that exist."""
    if role not in ROLES:
        raise BadRequest(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
    return role


def add_user(conn: Connection, name: str, role: str, password: str | None = None,
             display_name: str | None = None) -> int:
    """Create a user (password optional: token-only users have none); returns its id."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise BadRequest("a user name is required (1 to 100 characters)")
    check_role(role)
    if password is not None and len(password) < 8:
        raise BadRequest("a password must have at least 8 characters")
    values = {"name": name, "role": role, "display_name": display_name,
              "password_hash": generate_password_hash(password) if password else None}
    try:
        with conn.begin_nested():
            return conn.execute(users.insert().values(**values).returning(users.c.id)).scalar_one()
    except IntegrityError:
        raise Conflict(f"user {name!r} already exists") from None


def set_password(conn: Connection, name: str, password: str) -> None:
    """Replace a user's password."""
    if len(password) < 8:
        raise BadRequest("a password must have at least 8 characters")
    done = conn.execute(users.update().where(users.c.name == name)
                        .values(password_hash=generate_password_hash(password)))
    if done.rowcount == 0:
        raise NotFound(f"no user named {name!r}")


def list_users(conn: Connection) -> list[dict]:
    """Every user with role, state and count of live tokens, by name."""
    live = (select(func.count()).where(api_tokens.c.user_id == users.c.id,
                                       api_tokens.c.revoked_at.is_(None))
            .scalar_subquery())
    rows = conn.execute(select(users.c.id, users.c.name, users.c.role, users.c.display_name,
                               users.c.disabled, users.c.created_at,
                               live.label("tokens")).order_by(users.c.name))
    return [dict(r._mapping) for r in rows]


def create_token(conn: Connection, user_name: str, label: str | None = None) -> tuple[int, str]:
    """A new token for the user: (token id, token text). The text is not stored."""
    user_id = conn.execute(select(users.c.id).where(users.c.name == user_name)).scalar()
    if user_id is None:
        raise NotFound(f"no user named {user_name!r}; create it with `gisapp users add`")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    token_id = conn.execute(api_tokens.insert().values(
        user_id=user_id, token_hash=hash_token(token), label=label)
        .returning(api_tokens.c.id)).scalar_one()
    return token_id, token


def revoke_token(conn: Connection, token_id: int) -> str:
    """Revoke a token; returns its user's name. NotFound if it does not exist or is revoked."""
    name = conn.execute(
        api_tokens.update()
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None),
               api_tokens.c.user_id == users.c.id)
        .values(revoked_at=func.now()).returning(users.c.name)).scalar()
    if name is None:
        raise NotFound(f"no live token with id {token_id}")
    return name


def identity_for_token(conn: Connection, token: str) -> Identity | None:
    """The live token's user, or None; notes last_used_at at most once a minute."""
    stale = or_(api_tokens.c.last_used_at.is_(None),
                api_tokens.c.last_used_at < func.now() - LAST_USED_RESOLUTION)
    row = conn.execute(
        select(api_tokens.c.id, users.c.name, users.c.role, stale.label("stale"))
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked_at.is_(None),
               users.c.disabled.is_(False))).first()
    if row is None:
        return None
    if row.stale:  # most requests write nothing
        conn.execute(api_tokens.update().where(api_tokens.c.id == row.id, stale)
                     .values(last_used_at=func.now()))
    return Identity(row.name, row.role, row.id)


def identity_for_user(conn: Connection, name: str) -> Identity | None:
    """The enabled user of that name (a session's user), or None."""
    row = conn.execute(select(users.c.name, users.c.role)
                       .where(users.c.name == name, users.c.disabled.is_(False))).first()
    return Identity(row.name, row.role) if row else None


def identity_for_password(conn: Connection, name: str, password: str) -> Identity | None:
    """The enabled user whose password this is, or None."""
    row = conn.execute(select(users.c.name, users.c.role, users.c.password_hash)
                       .where(users.c.name == name, users.c.disabled.is_(False))).first()
    if row is None or not row.password_hash:
        return None
    if not check_password_hash(row.password_hash, password):
        return None
    return Identity(row.name, row.role)
