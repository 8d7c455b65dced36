"""Roles and the access levels each role holds."""
from __future__ import annotations

from layers.model import Access

ROLES: dict[str, frozenset[Access]] = {
    "public": frozenset({Access.PUBLIC}),
    "planner": frozenset({Access.PUBLIC, Access.STAFF}),
    "etl_operator": frozenset({Access.PUBLIC, Access.STAFF}),
    "permit_officer": frozenset({Access.PUBLIC, Access.STAFF, Access.PERSONAL}),
    "admin": frozenset({Access.PUBLIC, Access.STAFF, Access.PERSONAL}),
    # a monitored thing's device: reads what the public reads, writes its own observations
    "device": frozenset({Access.PUBLIC}),
}


def levels_for(role: str) -> frozenset[Access]:
    """Access levels of a role; an unknown role gets nothing beyond public."""
    return ROLES.get(role, ROLES["public"])
