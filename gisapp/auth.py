"""Who is asking: the caller's role and access levels for this request.

Authentication (tokens, sessions) sets `g.role` and `g.user` before each request;
without it a caller is `public`.
"""
from __future__ import annotations

from flask import g

from layers import Access, levels_for


def current_role() -> str:
    return getattr(g, "role", "public")


def current_levels() -> frozenset[Access]:
    return levels_for(current_role())
