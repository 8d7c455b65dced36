"""URL converters: `<int:…>` matches only ids that fit PostgreSQL's bigint."""
from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, ValidationError

BIGINT_MAX = 2**63 - 1


class BigintConverter(IntegerConverter):
    """werkzeug's int converter capped at 2**63 - 1: a larger id names nothing (404), where
    binding it made PostgreSQL raise "bigint out of range" (a 500), and 5,000 digits made
    int() itself raise."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = BIGINT_MAX, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-0")) > len(str(BIGINT_MAX)):
            raise ValidationError()
        return super().to_python(value)
