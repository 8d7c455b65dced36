"""Query-string values shared by the endpoints: bounded integers (limit, offset…), finite
numbers (distances, coordinates, value ranges) and instants with a timezone."""
from __future__ import annotations

import math
from datetime import datetime, timezone

from gisapp.errors import BadRequest

MAX_NUMBER_TEXT = 64  # longer number text is no coordinate or distance, only work for float()


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


def finite_number(value: str | None, name: str, default: float | None = None,
                  low: float | None = None, high: float | None = None) -> float:
    """`value` as a finite number in low..high (either bound optional); None → default.

    `float()` alone takes "inf", "NaN" and "1e999" (which overflows to inf); none of them is
    a number any parameter can use, so each is a 400 naming the parameter.
    """
    if value is None:
        if default is None:
            raise BadRequest(f"{name} is required")
        return default
    try:
        if len(value) > MAX_NUMBER_TEXT:
            raise ValueError(value)
        number = float(value)
    except ValueError:
        raise BadRequest(f"{name} {value[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise BadRequest(f"{name} {value[:40]!r} is not a finite number")
    if (low is not None and number < low) or (high is not None and number > high):
        span = (f"{low:g}..{high:g}" if low is not None and high is not None
                else f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise BadRequest(f"{name} {number:g} is out of range; {name} must be {span}")
    return number


def aware_instant(value: str | None, name: str) -> datetime | None:
    """`value` as an ISO 8601 instant with a timezone (Z or an offset), in UTC; None → None.

    A `+` offset that a query string decoded to a space is read as `+`.
    """
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise BadRequest(f"{name} {value[:40]!r} is not an ISO 8601 time "
                         "(e.g. 2026-10-15T14:00:00+07:00)") from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} {value[:40]!r} has no timezone; add Z or an offset like +07:00")
    return moment.astimezone(timezone.utc)
