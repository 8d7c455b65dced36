"""Who is asking: authentication before each request, the caller's role, role checks.

A caller is identified by `Authorization: Bearer <token>` (scripts, other systems) or by a
session cookie set at /login (the web UI); otherwise they are `public`. A bad or revoked
token is refused (401), never downgraded to public. Session-authenticated state changes
must carry the CSRF token (gisapp.csrf).
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface

from gisapp.accounts import Identity, identity_for_token, identity_for_user
from gisapp.context import autocommit
from gisapp.csrf import UNSAFE_METHODS, check_csrf, csrf_token
from gisapp.errors import Forbidden, Unauthorized
from layers import ROLES, Access, levels_for

SESSION_USER = "user"


def current_role() -> str:
    """The caller's role; `public` when anonymous."""
    return getattr(g, "role", "public")


def current_user() -> str | None:
    """The caller's user name, or None when anonymous."""
    return getattr(g, "user", None)


def current_levels() -> frozenset[Access]:
    """The access levels the caller's role holds."""
    return levels_for(current_role())


def sign_in(identity: Identity) -> None:
    """Start a session for this user (the caller checked the password)."""
    session.clear()
    session[SESSION_USER] = identity.name
    session.permanent = False
    g.user, g.role, g.auth = identity.name, identity.role, "session"


def sign_out() -> None:
    """End the session."""
    session.clear()
    g.user, g.role, g.auth = None, "public", None


def authenticate() -> None:
    """before_request: set g.user, g.role and g.auth ("token", "session" or None)."""
    g.user, g.role, g.auth = None, "public", None
    if request.endpoint == "static":  # files are public; spare the database a lookup
        return
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        with autocommit() as conn:
            identity = identity_for_token(conn, token.strip())
        if identity is None:
            raise Unauthorized("this API token is unknown or revoked")
        g.user, g.role, g.auth = identity.name, identity.role, "token"
        g.token_id = identity.token_id
        return
    name = session.get(SESSION_USER)
    if name:
        with autocommit() as conn:
            identity = identity_for_user(conn, name)
        if identity is None:  # user deleted or disabled since sign-in
            session.clear()
            return
        g.user, g.role, g.auth = identity.name, identity.role, "session"
        if request.method in UNSAFE_METHODS:
            check_csrf()


def require_role(*roles: str) -> Callable:
    """View decorator: 401 when anonymous, 403 when the caller's role is not among `roles`."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"require_role needs roles from {', '.join(ROLES)}; got {roles}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args, **kwargs):
            if current_user() is None:
                raise Unauthorized(f"sign in or send 'Authorization: Bearer <token>'; "
                                   f"this needs role {' or '.join(roles)}")
            if current_role() not in roles:
                raise Forbidden(f"role {current_role()} may not do this; "
                                f"allowed roles: {', '.join(roles)}")
            return view(*args, **kwargs)
        return checked
    return decorate


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened without building the signer when the request
    carries no session cookie (map tiles, API calls with a token): it cost 3 % of a
    cached tile."""

    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Authenticate every request; give templates `csrf_token()` and the caller."""
    app.session_interface = CookieSessions()
    # Flask's defaults hold these keys already (SameSite None), so set them, not setdefault.
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SECURE=app.extensions["settings"].is_https)
    app.before_request(authenticate)

    @app.after_request
    def _challenge(response):
        if response.status_code == 401:  # RFC 6750: say how to authenticate
            response.headers.setdefault("WWW-Authenticate", 'Bearer realm="gisapp"')
        return response

    @app.context_processor
    def _auth_context() -> dict:
        return {"csrf_token": csrf_token, "current_user": current_user(),
                "current_role": current_role()}
