"""Administration API: users, API tokens and the audit log (admin only)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from gisapp import accounts
from gisapp.audit import MAX_PAGE, AuditQuery, audit, list_audit
from gisapp.auth import require_role
from gisapp.context import engine
from gisapp.errors import BadRequest
from gisapp.openapi.annotate import documented, query_param
from gisapp.response_privacy import note_restricted
from layers import ROLES

bp = Blueprint("admin", __name__, url_prefix="/api/admin")
DAY = {"type": "string", "format": "date"}
TEXT = {"type": "string", "minLength": 1}
CREATED = {"201": {"description": "Created", "content": {"application/json": {"schema": {
    "type": "object"}}}}}


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object body (Content-Type: application/json)")
    return body


def _text(body: dict, name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name!r} must be a non-empty string")
    return value


@bp.get("/audit")
@documented([query_param("actor", {"type": "string"}, "User name"),
             query_param("action", {"type": "string"}, "e.g. parcel.read_personal"),
             query_param("since", DAY, "First day (UTC), YYYY-MM-DD"),
             query_param("until", DAY, "Last day (UTC), YYYY-MM-DD"),
             query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, ""),
             query_param("offset", {"type": "integer", "minimum": 0}, "")])
@require_role("admin")
def audit_entries():
    """Audit log entries, newest first; filter by actor, action, since/until (YYYY-MM-DD)."""
    q = AuditQuery.parse(request.args)
    note_restricted()  # who read which holder's data, and the owner searches they made
    with engine().connect() as conn:
        rows, total = list_audit(conn, q)
    return jsonify({"entries": rows, "numberMatched": total, "numberReturned": len(rows),
                    "limit": q.limit, "offset": q.offset})


@bp.get("/users")
@require_role("admin")
def users_list():
    """Every user with role and number of live tokens."""
    with engine().connect() as conn:
        rows = accounts.list_users(conn)
    for r in rows:
        r["created_at"] = r["created_at"].isoformat()
    return jsonify({"users": rows})


@bp.post("/users")
@documented(request_body={"type": "object", "required": ["name", "role"], "properties": {
    "name": TEXT, "role": {"type": "string", "enum": list(ROLES)},
    "password": {"type": "string", "minLength": 8}, "display_name": TEXT}},
    responses=CREATED)
@require_role("admin")
def users_create():
    """Create a user: {name, role, password?, display_name?}."""
    body = _json_body()
    name, role = _text(body, "name"), _text(body, "role")
    password = _text(body, "password", required=False)
    display = _text(body, "display_name", required=False)
    with engine().begin() as conn:
        user_id = accounts.add_user(conn, name, role, password, display)
        audit("user.create", name, {"role": role, "password": password is not None}, conn=conn)
    return jsonify({"id": user_id, "name": name, "role": role}), 201


@bp.post("/tokens")
@documented(request_body={"type": "object", "required": ["user"],
                          "properties": {"user": TEXT, "label": TEXT}}, responses=CREATED)
@require_role("admin")
def tokens_create():
    """Create an API token for a user: {user, label?}; the token is in this response only."""
    body = _json_body()
    user, label = _text(body, "user"), _text(body, "label", required=False)
    with engine().begin() as conn:
        token_id, token = accounts.create_token(conn, user, label)
        audit("token.create", user, {"token_id": token_id, "label": label}, conn=conn)
    return jsonify({"id": token_id, "user": user, "label": label, "token": token}), 201


@bp.delete("/tokens/<int:token_id>")
@require_role("admin")
def tokens_revoke(token_id: int):
    """Revoke an API token by id."""
    with engine().begin() as conn:
        user = accounts.revoke_token(conn, token_id)
        audit("token.revoke", user, {"token_id": token_id}, conn=conn)
    return jsonify({"id": token_id, "user": user, "revoked": True})
