"""The audit log: who read personal data or changed state, what, when, from where."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, func, select

from gisapp.db.tables import audit_log
from gisapp.errors import BadRequest
from gisapp.query_args import bounded_int

MAX_PAGE = 500


def write_audit(conn: Connection, actor: str | None, role: str, action: str,
                target: str | None = None, details: dict | None = None,
                remote_addr: str | None = None) -> None:
    """Append one audit row inside the caller's transaction."""
    conn.execute(audit_log.insert().values(actor=actor, role=role, action=action,
                                           target=target, details=details or {},
                                           remote_addr=remote_addr))


def audit(action: str, target: str | None = None, details: dict | None = None,
          conn: Connection | None = None) -> None:
    """Audit the current request's caller. Pass `conn` to write inside a change's transaction."""
    from flask import g, request

    from gisapp.auth import current_role
    from gisapp.context import engine

    args = (getattr(g, "user", None), current_role(), action, target, details,
            request.remote_addr)
    if conn is not None:
        write_audit(conn, *args)
        return
    with engine().begin() as own:
        write_audit(own, *args)


@dataclass(frozen=True)
class AuditQuery:
    """Filters for reading the log: actor, action, a date range (UTC days), a page."""

    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 100
    offset: int = 0

    @classmethod
    def parse(cls, args: Any) -> "AuditQuery":
        """From query-string arguments; BadRequest naming the bad one."""
        def day(name: str) -> date | None:
            value = args.get(name)
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise BadRequest(f"{name}={value!r} is not a date; use YYYY-MM-DD") from None

        return cls(actor=args.get("actor") or None, action=args.get("action") or None,
                   since=day("since"), until=day("until"),
                   limit=bounded_int(args.get("limit") or None, "limit", 100, 1, MAX_PAGE),
                   offset=bounded_int(args.get("offset") or None, "offset", 0, 0, 10**9))


def list_audit(conn: Connection, q: AuditQuery) -> tuple[list[dict], int]:
    """Matching rows, newest first, one page of them, and the total count."""
    conds = []
    if q.actor:
        conds.append(audit_log.c.actor == q.actor)
    if q.action:
        conds.append(audit_log.c.action == q.action)
    if q.since:
        conds.append(audit_log.c.at >= datetime.combine(q.since, time(), timezone.utc))
    if q.until:
        end = datetime.combine(q.until + timedelta(days=1), time(), timezone.utc)
        conds.append(audit_log.c.at < end)
    total = conn.execute(select(func.count()).select_from(audit_log).where(*conds)).scalar_one()
    rows = conn.execute(select(audit_log).where(*conds)
                        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
                        .limit(q.limit).offset(q.offset))
    out = []
    for r in rows:
        item = dict(r._mapping)
        item["at"] = item["at"].isoformat()
        out.append(item)
    return out, total
