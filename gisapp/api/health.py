"""Health checks: /healthz (the process is up) and /readyz (database, migrations, replicas).

/readyz lists each read replica (DATABASE_READ_URLS) with its state and lag; a replica
that is down or lagging does not make the node unready, since reads fall back to the
primary.
"""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from gisapp.context import engine
from gisapp.db.migrate import current_revision, head_revision
from gisapp.read_routing import replicas

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(engine())
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return jsonify({"status": "unavailable", "database": "unreachable",
                        "error": {"code": "database_unreachable", "message": reason}}), 503
    head = head_revision()
    if current != head:
        return jsonify({"status": "unavailable", "database": "ok",
                        "migrations": {"current": current, "head": head},
                        "error": {"code": "migrations_pending",
                                  "message": f"database is at {current}, code expects {head}: "
                                             "run `gisapp db upgrade`"}}), 503
    doc = {"status": "ok", "database": "ok", "migrations": {"current": current}}
    found = replicas()
    if found is not None:
        found.health.check_all()
        doc["replicas"] = found.health.status()
    return jsonify(doc)
