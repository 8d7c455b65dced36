"""Query-string values shared by the list endpoints: bounded integers (limit, offset…)."""
from __future__ import annotations

from gisapp.errors import BadRequest


def bounded_int(value: str | None, name: str, default: int, low: int, high: int | None) -> int:
    """`value` as an integer in low..high (no upper bound when high is None); None → default."""
    if value is None:
        return default
    allowed = f"{low}..{high}" if high is not None else f"{low} or more"
    if not value.isascii() or not value.strip().lstrip("-").isdigit() or len(value) > 12:
        raise BadRequest(f"{name} {value!r} must be an integer ({name} must be {allowed})")
    number = int(value)
    if number < low or (high is not None and number > high):
        raise BadRequest(f"{name} {number} is out of range; {name} must be {allowed}")
    return number
