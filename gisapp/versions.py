"""A versioned layer's past: its features as they were at a moment, and their versions.

Every layer declared `versioned` keeps each state of its features in its versions table
(`Layer.versions_table`) with valid_from and valid_to (NULL: still current); the ETL writes
them in the transaction of each load. Parcels, zoning and any layer marked later share this.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Select, func, or_, select

from gisapp.errors import NotFound
from layers import LAYERS, Access, Layer
from store.tables import VERSION_TABLES


def versions_at(layer: Layer, as_of: datetime) -> Select:
    """The layer's features at `as_of`: `feature_id`, the declared fields and `geom`.

    A version counts when valid_from < as_of <= valid_to (valid_to NULL: still current).
    """
    v = VERSION_TABLES[layer.id]
    return (select(v.c.feature_id, *(v.c[f.name] for f in layer.fields), v.c.geom)
            .where(v.c.valid_from < as_of, or_(v.c.valid_to.is_(None), v.c.valid_to >= as_of)))


def version_history(conn: Connection, layer: Layer, where: ColumnElement[bool],
                    levels: frozenset[Access], with_geometry: bool = False) -> list[dict]:
    """The versions matching `where` (on the versions table), oldest first.

    Each: validity, change, lineage and the fields these access levels may read.
    """
    v = VERSION_TABLES[layer.id]
    names = [f.name for f in layer.visible_fields(levels)]
    cols = [v.c.version_id, v.c.feature_id, v.c.valid_from, v.c.valid_to, v.c.change,
            v.c.lineage, *(v.c[n] for n in names)]
    if with_geometry:
        cols.append(func.ST_AsGeoJSON(v.c.geom, 7).label("geometry"))
    rows = conn.execute(select(*cols).where(where)
                        .order_by(v.c.valid_from, v.c.version_id)).mappings().all()
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


def feature_history(conn: Connection, layer: Layer, feature_id: int,
                    levels: frozenset[Access], with_geometry: bool = False) -> list[dict]:
    """Every version of one feature (the items' id) of a versioned layer, oldest first.

    NotFound for a layer that keeps no history (naming those these levels may see that do)
    and for an id with no recorded version.
    """
    if not layer.versioned:
        kept = ", ".join(lid for lid, other in LAYERS.items()
                         if other.versioned and other.access in levels)
        raise NotFound(f"{layer.id} keeps no history; versioned layers: {kept}")
    out = version_history(conn, layer, VERSION_TABLES[layer.id].c.feature_id == feature_id,
                          levels, with_geometry)
    if not out:
        raise NotFound(f"{layer.id} has no recorded versions of feature {feature_id}")
    return out
