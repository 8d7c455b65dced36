"""Where an analysis looks: a whole city, one ward, or a drawn polygon, in EPSG:5899."""
from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, func, select

from gisapp.errors import NotFound
from gisapp.spatial import METRIC_SRID
from layers.base import WARDS
from store.tables import LAYER_TABLES


def ward_area(conn: Connection, code: str) -> tuple[dict, BaseGeometry]:
    """A ward's attributes and its boundary in EPSG:5899; NotFound for an unknown code."""
    t = LAYER_TABLES[WARDS.id]
    cols = [t.c[f.name] for f in WARDS.fields]
    row = conn.execute(select(*cols, func.ST_AsBinary(func.ST_Transform(t.c.geom, METRIC_SRID))
                              .label("wkb")).where(t.c[WARDS.key[0]] == code)).first()
    if row is None:
        raise NotFound(f"no ward with code {code!r}")
    return ({f.name: row._mapping[f.name] for f in WARDS.fields}, shapely.from_wkb(row.wkb))


def ward_codes(conn: Connection) -> list[str]:
    """Every ward's code, in order."""
    t = LAYER_TABLES[WARDS.id]
    key = t.c[WARDS.key[0]]
    return list(conn.execute(select(key).order_by(key)).scalars())
