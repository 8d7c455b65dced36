"""Refuse request text PostgreSQL cannot store: NUL (U+0000) in the path, query, form or JSON.

A NUL in any bound text value makes psycopg raise DataError, which would surface as a 500;
one check before every view turns it into a 400 that says what was wrong.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request

from gisapp.errors import BadRequest

NUL = "\x00"
FORM_TYPE = "application/x-www-form-urlencoded"  # multipart uploads are left to their views


def has_nul(value: Any) -> bool:
    """Whether a string, or any key or value nested in dicts, lists and tuples, holds NUL."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def refuse_nul() -> None:
    """before_request: a 400 naming the part of the request that holds a NUL character."""
    parts = [("path", lambda: request.path),
             ("query string", lambda: list(request.args.items(multi=True)))]
    if request.mimetype == FORM_TYPE:
        parts.append(("form", lambda: list(request.form.items(multi=True))))
    if request.is_json:
        parts.append(("JSON body", _json_body))
    for name, read in parts:
        if has_nul(read()):
            raise BadRequest(f"the {name} contains a NUL character (U+0000), which no "
                             "parameter may hold")


def _json_body() -> Any:
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("the JSON body nests too deeply") from None


def init_app(app: Flask) -> None:
    """Check every request before authentication and the views."""
    app.before_request(refuse_nul)
