"""Login rate limiting, counted in PostgreSQL: per user name and address, per address (over
all user names: password spraying), and per user name (over all addresses).

Kept in the database (not in process memory) so the limits hold across gunicorn workers and
web nodes. An attempt is counted before its password is checked, under advisory locks on
its three counts, so concurrent attempts cannot all see room below a limit: at most the
limit get through in any window. The failed ones stay counted; a successful login forgets
its own name and address's failures (never those of the address's other names).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, func, select, text

from gisapp.db.tables import login_failures

WINDOW_SECONDS = 300
LOCK_CLASS = 0x6C6F67  # advisory lock space of login counts ("log"), apart from others' keys


@dataclass(frozen=True)
class Limits:
    """Attempts allowed in WINDOW_SECONDS (GISAPP_LOGIN_FAILURES_PER_*)."""

    per_name: int  # one user name from one address
    per_address: int  # one address, whatever the user names
    per_user: int  # one user name, whatever the addresses


def _window():
    return text("make_interval(secs => :window)").bindparams(window=WINDOW_SECONDS)


def _wait(conn: Connection, where: ColumnElement, limit: int) -> int | None:
    """Seconds until fewer than `limit` attempts matching `where` are in the window."""
    recent = (select(login_failures.c.at)
              .where(where, login_failures.c.at > func.now() - _window())
              .order_by(login_failures.c.at.desc()).limit(limit).subquery())
    count, wait = conn.execute(select(
        func.count(), func.extract("epoch", func.min(recent.c.at) + _window() - func.now()))).one()
    if count < limit:
        return None
    return max(1, int(float(wait)) + 1)


def reserve_attempt(conn: Connection, username: str, remote_addr: str,
                    limits: Limits) -> int | None:
    """Count one login attempt: None when it may go on, else the seconds to wait.

    Call it in a transaction of its own and commit before checking the password: the
    locks are held until then, and the attempt must be visible to the next one.
    """
    keys = sorted({f"name:{username}\x1f{remote_addr}", f"addr:{remote_addr}",
                   f"user:{username}"})
    for key in keys:  # one order for every caller, so two attempts cannot deadlock
        conn.execute(text("SELECT pg_advisory_xact_lock(:cls, hashtext(:key))"),
                     {"cls": LOCK_CLASS, "key": key})
    by_name, by_addr = login_failures.c.username == username, \
        login_failures.c.remote_addr == remote_addr
    waits = [_wait(conn, and_(by_name, by_addr), limits.per_name),
             _wait(conn, by_addr, limits.per_address),
             _wait(conn, by_name, limits.per_user)]
    if any(w is not None for w in waits):
        return max(w for w in waits if w is not None)
    conn.execute(login_failures.insert().values(username=username, remote_addr=remote_addr))
    conn.execute(login_failures.delete().where(login_failures.c.at < func.now() - _window()))
    return None


def clear_failures(conn: Connection, username: str, remote_addr: str) -> None:
    """Forget the attempts of a user name and address after a successful login."""
    conn.execute(login_failures.delete().where(login_failures.c.username == username,
                                               login_failures.c.remote_addr == remote_addr))
