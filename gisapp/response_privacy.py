"""Caching of responses by what they carry: restricted fields are never stored by a cache.

A view notes the registry fields its response carries (`note_fields`, or `note_tables` for
every field of some declarations the caller may read). When any of them is above the public
access level (staff or personal), the response is `Cache-Control: private, no-store` and
`Vary: Authorization, Cookie`: neither a browser's disk nor a shared cache keeps it, and
nothing serves it to another caller. Responses to a signed-in caller are never `public`,
since what they hold depends on the caller's role.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable, Iterable

from flask import Flask, Response, current_app, g, request

from layers import Access, Field, Table

RESTRICTED = "private, no-store"
VARY_ON = ("Authorization", "Cookie")


def is_restricted(fields: Iterable[Field]) -> bool:
    """Whether any of these fields is above the public access level."""
    return any(f.access is not Access.PUBLIC for f in fields)


def note_fields(fields: Iterable[Field]) -> None:
    """Record that this response carries these fields (restricted ones make it no-store)."""
    if is_restricted(fields):
        g.carries_restricted = True


def note_tables(levels: frozenset[Access], *tables: Table) -> None:
    """Record that this response carries what `levels` may read of these declarations."""
    for table in tables:
        if table.access in levels:
            note_fields(table.visible_fields(levels))


def carries(*tables: Table) -> Callable:
    """View decorator: the response carries what the caller may read of these declarations."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def noted(*args, **kwargs):
            from gisapp.auth import current_levels

            note_tables(current_levels(), *tables)
            return view(*args, **kwargs)
        return noted
    return decorate


def note_restricted() -> None:
    """Record restricted content that is not a registry field (raw source rows, the audit log)."""
    g.carries_restricted = True


def privately(cache_control: str) -> str:
    """The same directives, for the caller's own cache only: `public` becomes `private`."""
    directives = [d.strip() for d in cache_control.split(",") if d.strip()]
    kept = [d for d in directives if d.lower() != "public"]
    if not {"private", "no-store"} & {d.lower() for d in kept}:
        kept.insert(0, "private")
    return ", ".join(kept)


def _signed_in() -> bool:
    return (getattr(g, "user", None) is not None or "Authorization" in request.headers
            or current_app.config["SESSION_COOKIE_NAME"] in request.cookies)


def _vary(response: Response) -> None:
    for header in VARY_ON:
        response.vary.add(header)


def apply_policy(response: Response) -> Response:
    """after_request: no-store for restricted content; never `public` for a signed-in caller."""
    if request.endpoint == "static":  # the same files for everyone
        return response
    if getattr(g, "carries_restricted", False):
        response.headers["Cache-Control"] = RESTRICTED
        response.headers.pop("Expires", None)
        _vary(response)
    elif _signed_in():
        value = response.headers.get("Cache-Control")
        if value:
            response.headers["Cache-Control"] = privately(value)
        _vary(response)
    return response


def init_app(app: Flask) -> None:
    app.after_request(apply_policy)
