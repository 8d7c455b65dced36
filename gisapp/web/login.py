"""Session sign-in for the web UI: /login and /logout, rate-limited, CSRF-protected."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Blueprint, redirect, render_template, request

from gisapp import login_limit
from gisapp.accounts import identity_for_password
from gisapp.audit import write_audit
from gisapp.auth import current_role, current_user, sign_in, sign_out
from gisapp.context import engine, settings
from gisapp.csrf import check_csrf, rotate_csrf_token

bp = Blueprint("login", __name__)
MAX_NEXT_LENGTH = 2000


def _lang() -> str:
    return "en" if (request.values.get("lang") == "en") else "vi"


def _is_site_path(path: str) -> bool:
    """Whether `path` starts with exactly one "/" and holds no backslash or control character."""
    return (path.startswith("/") and not path.startswith("//") and "\\" not in path
            and path.isprintable() and not urlsplit(path).netloc)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect off-site after login.

    The path is checked as sent and percent-decoded: browsers drop tabs and newlines from a
    URL and read a backslash as "/", so "/" + tab + "/evil.example" or "/" + backslash +
    "evil.example" would leave the site, and a decoding proxy could make "/%2F%2Fevil" do so.
    """
    if not target or len(target) > MAX_NEXT_LENGTH or any(c.isspace() for c in target):
        return "/"
    decoded = target
    for _ in range(3):  # %252F%252F decoded twice is //
        decoded = unquote(decoded)
    return target if _is_site_path(target) and _is_site_path(decoded) else "/"


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
    """Check the password; too many attempts per name and address, per address or per
    name in 5 minutes → 429 (gisapp.login_limit)."""
    check_csrf()
    name = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    addr = request.remote_addr or "-"
    cfg = settings()
    limits = login_limit.Limits(cfg.login_failures_per_name, cfg.login_failures_per_address,
                                cfg.login_failures_per_user)
    with engine().begin() as conn:  # counted and committed before the password is checked
        wait = login_limit.reserve_attempt(conn, name, addr, limits)
        if wait is not None:
            write_audit(conn, name, "public", "login.throttled", name, {}, addr)
    if wait is not None:
        return _page(429, "throttled", wait)
    with engine().begin() as conn:
        identity = identity_for_password(conn, name, password) if name else None
        if identity is None:
            write_audit(conn, name, "public", "login.failed", name, {}, addr)
        else:
            login_limit.clear_failures(conn, name, addr)
            write_audit(conn, identity.name, identity.role, "login", identity.name, {}, addr)
    if identity is None:
        return _page(401, "bad_credentials")
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
