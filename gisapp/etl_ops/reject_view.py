"""What of a rejected row each caller may see: the columns and values their access allows.

A reject keeps the source row as it came (its own column names). A column is shown when it
maps to a field of the run's declaration whose access level the caller holds. A column that
maps to no field of it is shown only when it is not the name of a field the caller may not
read anywhere in the registry (a holder's `HoTen` or `CCCD` in a rights file) and the caller
may read every field of the declaration. Reasons quoting a hidden field's value lose it.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from etl.fields import column_names
from layers import LAYERS, TABLES, Access, Table, UnknownLayer, get_table

HIDDEN = "(hidden)"
DUPLICATE_KEY = "duplicate key ("


@lru_cache(maxsize=64)
def _hidden_anywhere(levels: frozenset[Access]) -> frozenset[str]:
    """Column names of every registry field these levels may not read."""
    return frozenset(name for table in (*LAYERS.values(), *TABLES.values())
                     for f in table.fields
                     if f.access not in levels
                     for name in column_names(f))


def declaration(layer: str) -> Table | None:
    """The run's layer or table, or None (raster runs, layers since removed)."""
    try:
        return get_table(layer)
    except UnknownLayer:
        return None


def _reads_all(decl: Table | None, levels: frozenset[Access]) -> bool:
    if decl is None:
        return set(Access) <= levels
    return decl.access in levels and all(f.access in levels for f in decl.fields)


def is_visible_column(decl: Table | None, levels: frozenset[Access], column: str) -> bool:
    """Whether a caller with `levels` may see this source column of a rejected row."""
    name = str(column).strip().lower()
    if decl is not None:
        for f in decl.fields:
            if name in column_names(f):
                return f.access in levels
    return _reads_all(decl, levels) and name not in _hidden_anywhere(levels)


def visible_reason(decl: Table | None, levels: frozenset[Access], reason: str) -> str:
    """The reason, without the value it quotes of a field the caller may not read.

    Reasons quoting values are "<field>: '<value>' is not …" (etl.fields) and
    "duplicate key (<values>): …" (etl.validate, etl.load).
    """
    if decl is None or _reads_all(decl, levels):
        return reason
    hidden = [f for f in decl.fields if f.access not in levels]
    for f in hidden:
        prefix = f"{f.name}: "
        if reason.startswith(prefix) and " is not " in reason:
            return f"{prefix}{HIDDEN} is not {reason.rpartition(' is not ')[2]}"
    if reason.startswith(DUPLICATE_KEY) and any(f.name in decl.key for f in hidden):
        return f"{DUPLICATE_KEY}{HIDDEN}): {reason.rpartition('): ')[2]}"
    return reason


def visible_attributes(decl: Table | None, levels: frozenset[Access],
                       attributes: dict[str, Any]) -> dict[str, Any]:
    """The columns of a rejected row this caller may see."""
    return {k: v for k, v in attributes.items() if is_visible_column(decl, levels, k)}
