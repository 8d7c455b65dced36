"""JSON request bodies parse only into values every view can store and compute with.

Python's json module reads `Infinity`, `NaN` and `1e999` as floats that PostgreSQL's json
columns, GEOS and the rule arithmetic cannot take, and `"\\ud800"` as a string no UTF-8 driver
can send. Numbers are held to I-JSON's range (RFC 7493: magnitude at most 2**53 - 1), so no
product of two inputs overflows a double. Every refusal is a 400 naming the JSON path.
"""
from __future__ import annotations

import math
from typing import Any

from flask import Request

from gisapp.errors import BadRequest

MAX_MAGNITUDE = 2**53 - 1


class CheckedRequest(Request):
    """flask.Request whose get_json refuses values the app could not store or compute."""

    _json_checked = False

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            value = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise BadRequest("the JSON body nests too deeply") from None
        if not self._json_checked:
            check_json_value(value)
            self._json_checked = True
        return value


def check_json_value(value: Any) -> None:
    """BadRequest naming the first number out of range or string with a lone surrogate."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                _check_text(path or "the body", key, "a key")
                stack.append((f"{path}.{key}" if path else str(key), sub))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", sub) for i, sub in enumerate(item))
        elif isinstance(item, str):
            _check_text(path or "the body", item, "text")
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            _check_number(path or "the body", item)


def _check_number(path: str, number: int | float) -> None:
    if isinstance(number, float) and not math.isfinite(number):
        raise BadRequest(f"{path}: {number} is not a finite number; JSON numbers must be "
                         f"finite (no Infinity, NaN or overflowing exponents)")
    if abs(number) > MAX_MAGNITUDE:
        raise BadRequest(f"{path}: the number is too large; JSON numbers must be at most "
                         f"{MAX_MAGNITUDE} (2**53 - 1) in magnitude")


def _check_text(path: str, text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{path}: {what} holds an unpaired UTF-16 surrogate (\\ud800-\\udfff),"
                         " which is not a character") from None


def text_member(body: dict, name: str) -> str | None:
    """`body[name]` when it is text, None when absent or null; BadRequest naming it otherwise."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be text, not {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "an array" if isinstance(value, list) else "an object"
