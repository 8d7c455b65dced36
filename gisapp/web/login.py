"""Session sign-in for the web UI: /login and /logout, rate-limited, CSRF-protected."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request

from gisapp import login_limit
from gisapp.accounts import identity_for_password
from gisapp.audit import write_audit
from gisapp.auth import current_role, current_user, sign_in, sign_out
from gisapp.context import engine
from gisapp.csrf import check_csrf, rotate_csrf_token

bp = Blueprint("login", __name__)


def _lang() -> str:
    return "en" if (request.values.get("lang") == "en") else "vi"


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect off-site after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _page(status: int = 200, error: str | None = None, retry: int | None = None):
    body = render_template("login.html", lang=_lang(), error=error, retry_after=retry,
                           next=_safe_next(request.values.get("next")),
                           username=request.form.get("username", ""))
    headers = {"Retry-After": str(retry)} if retry else {}
    return body, status, headers


@bp.get("/login")
def login_form():
    """The sign-in page (Vietnamese by default, ?lang=en for English)."""
    return _page()


@bp.post("/login")
def login_submit():
    """Check the password; 5 failures per user name and address in 5 minutes → 429."""
    check_csrf()
    name = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    addr = request.remote_addr or "-"
    with engine().begin() as conn:
        wait = login_limit.retry_after(conn, name, addr)
        if wait is not None:
            write_audit(conn, name, "public", "login.throttled", name, {}, addr)
            return _page(429, "throttled", wait)
        identity = identity_for_password(conn, name, password) if name else None
        if identity is None:
            login_limit.record_failure(conn, name, addr)
            write_audit(conn, name, "public", "login.failed", name, {}, addr)
            return _page(401, "bad_credentials")
        login_limit.clear_failures(conn, name, addr)
        write_audit(conn, identity.name, identity.role, "login", identity.name, {}, addr)
    sign_in(identity)
    rotate_csrf_token()
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/logout")
def logout_form():
    """A sign-out button (signing out is a POST, so another site cannot do it for you)."""
    return render_template("login.html", lang=_lang(), logout=True, user=current_user())


@bp.post("/logout")
def logout_submit():
    """End the session."""
    user, role = current_user(), current_role()
    if user is None:
        check_csrf()  # anonymous: authenticate() did not check it
    with engine().begin() as conn:
        write_audit(conn, user, role, "logout", user, {}, request.remote_addr)
    sign_out()
    return redirect("/login")
