"""CSRF protection for session-authenticated state changes.

Each session holds a random token; a POST/PUT/PATCH/DELETE made with the session cookie must
echo it in the form field `csrf_token` or the `X-CSRF-Token` header. Bearer-token calls carry
no cookie, so a third-party page cannot forge them, and are exempt.
"""
from __future__ import annotations

import hmac
import secrets

from flask import request, session

from gisapp.errors import Forbidden

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CsrfRefused(Forbidden):
    code = "csrf_failed"


def csrf_token() -> str:
    """This session's token, created on first use."""
    token = session.get(SESSION_KEY)
    if not token:
        token = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return token


def rotate_csrf_token() -> str:
    """A fresh token (after login, so a token seen before login is worthless)."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def check_csrf() -> None:
    """Raise CsrfRefused unless the request echoes this session's token."""
    expected = session.get(SESSION_KEY)
    sent = request.headers.get(HEADER) or request.form.get(FORM_FIELD)
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRefused(f"missing or wrong CSRF token: send this session's token in the "
                          f"{FORM_FIELD!r} form field or the {HEADER} header")
