"""Authenticating in tests: make a user of a role and an API token or a session for it.

    from tests.auth_helpers import auth_headers, make_token, login
    client.get("/api/...", headers=auth_headers(test_url, "permit_officer"))

Users are created through the same functions the CLI uses (gisapp.accounts), named
`test-<role>`, once per database; each call makes a fresh token.
"""
from __future__ import annotations

import re

from gisapp import accounts
from gisapp.db.engine import make_engine
from layers import ROLES

PASSWORD = "correct horse battery"
_ENGINES: dict[str, object] = {}


def _engine(url: str):
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url, pool_size=1, max_overflow=1)
    return _ENGINES[url]


def ensure_user(url: str, role: str, name: str | None = None, password: bool = True) -> str:
    """A user with this role, created if missing; with `password`, its password is PASSWORD."""
    assert role in ROLES, role
    name = name or f"test-{role}"
    with _engine(url).begin() as conn:
        if accounts.identity_for_user(conn, name) is None:
            accounts.add_user(conn, name, role, PASSWORD if password else None)
        elif password and accounts.identity_for_password(conn, name, PASSWORD) is None:
            accounts.set_password(conn, name, PASSWORD)
    return name


def make_token(url: str, role: str, name: str | None = None) -> str:
    """A new API token for a user of this role in the database at `url`."""
    user = ensure_user(url, role, name, password=False)
    with _engine(url).begin() as conn:
        _, token = accounts.create_token(conn, user, "test")
    return token


def auth_headers(url: str, role: str) -> dict[str, str]:
    """Request headers authenticating as `role`; public gets none."""
    if role == "public":
        return {}
    return {"Authorization": f"Bearer {make_token(url, role)}"}


def csrf_from(html: str) -> str:
    """The CSRF token in a rendered form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def login(client, url: str, role: str) -> str:
    """Sign a Flask test client in as `role` via /login; returns the session's CSRF token."""
    user = ensure_user(url, role)
    form = client.get("/login")
    resp = client.post("/login", data={"username": user, "password": PASSWORD,
                                       "csrf_token": csrf_from(form.get_data(as_text=True))})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client.get("/api/me").json["csrf_token"]
