"""A parcel's history: every version with its validity, change and lineage."""
from __future__ import annotations

import json

from sqlalchemy import Connection, func, select

from gisapp.errors import NotFound
from gisapp.land.source import VERSIONS
from layers import Access
from layers.land import PARCELS


def parcel_history(conn: Connection, uid: str, levels: frozenset[Access],
                   with_geometry: bool = False) -> list[dict]:
    """Versions of the parcel with this id, oldest first; fields as the caller may see them."""
    names = [f.name for f in PARCELS.visible_fields(levels)]
    cols = [VERSIONS.c.version_id, VERSIONS.c.feature_id, VERSIONS.c.valid_from,
            VERSIONS.c.valid_to, VERSIONS.c.change, VERSIONS.c.lineage,
            *(VERSIONS.c[n] for n in names)]
    if with_geometry:
        cols.append(func.ST_AsGeoJSON(VERSIONS.c.geom, 7).label("geometry"))
    rows = conn.execute(select(*cols).where(VERSIONS.c.parcel_uid == uid)
                        .order_by(VERSIONS.c.valid_from, VERSIONS.c.version_id)).mappings().all()
    if not rows:
        raise NotFound(f"parcel {uid!r} has no recorded versions")
    out = []
    for r in rows:
        item = {
            "version_id": r["version_id"], "feature_id": r["feature_id"],
            "valid_from": r["valid_from"].isoformat(),
            "valid_to": r["valid_to"].isoformat() if r["valid_to"] else None,
            "current": r["valid_to"] is None, "change": r["change"], "lineage": r["lineage"],
            "properties": {n: r[n] for n in names},
        }
        if with_geometry:
            item["geometry"] = json.loads(r["geometry"])
        out.append(item)
    return out
