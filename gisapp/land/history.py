"""A parcel's history: every version with its validity, change and lineage."""
from __future__ import annotations

from sqlalchemy import Connection

from gisapp.errors import NotFound
from gisapp.land.source import VERSIONS
from gisapp.versions import version_history
from layers import Access
from layers.land import PARCELS


def parcel_history(conn: Connection, uid: str, levels: frozenset[Access],
                   with_geometry: bool = False) -> list[dict]:
    """Versions of the parcel with this id, oldest first; fields as the caller may see them."""
    out = version_history(conn, PARCELS, VERSIONS.c.parcel_uid == uid, levels, with_geometry)
    if not out:
        raise NotFound(f"parcel {uid!r} has no recorded versions")
    return out
