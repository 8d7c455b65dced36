"""The caller as the API sees them: user, role, access levels and the session's CSRF token."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from gisapp.auth import current_levels, current_role, current_user
from gisapp.csrf import csrf_token

bp = Blueprint("me", __name__)


@bp.get("/api/me")
def me():
    """Who the server thinks is calling; the CSRF token is given to session callers only."""
    body = {"user": current_user(), "role": current_role(),
            "levels": sorted(level.value for level in current_levels()),
            "auth": getattr(g, "auth", None)}
    if g.auth == "session":
        body["csrf_token"] = csrf_token()
    return jsonify(body)
