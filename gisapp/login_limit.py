"""Login rate limiting: failures per user name and address, counted in PostgreSQL.

Kept in the database (not in process memory) so the limit holds across gunicorn workers.
"""
from __future__ import annotations

from sqlalchemy import Connection, func, select, text

from gisapp.db.schema import login_failures

MAX_FAILURES = 5
WINDOW_SECONDS = 300


def retry_after(conn: Connection, username: str, remote_addr: str) -> int | None:
    """Seconds until a login may be tried again, or None when it may be tried now."""
    window = text("make_interval(secs => :window)").bindparams(window=WINDOW_SECONDS)
    recent = (select(login_failures.c.at)
              .where(login_failures.c.username == username,
                     login_failures.c.remote_addr == remote_addr,
                     login_failures.c.at > func.now() - window)
              .order_by(login_failures.c.at.desc()).limit(MAX_FAILURES).subquery())
    count, wait = conn.execute(select(
        func.count(), func.extract("epoch", func.min(recent.c.at) + window - func.now()))).one()
    if count < MAX_FAILURES:
        return None
    return max(1, int(float(wait)) + 1)


def record_failure(conn: Connection, username: str, remote_addr: str) -> None:
    """Count one failed login; also forget failures older than the window."""
    conn.execute(login_failures.insert().values(username=username, remote_addr=remote_addr))
    window = text("make_interval(secs => :window)").bindparams(window=WINDOW_SECONDS)
    conn.execute(login_failures.delete().where(login_failures.c.at < func.now() - window))


def clear_failures(conn: Connection, username: str, remote_addr: str) -> None:
    """Forget the failures of a user name and address after a successful login."""
    conn.execute(login_failures.delete().where(login_failures.c.username == username,
                                               login_failures.c.remote_addr == remote_addr))
