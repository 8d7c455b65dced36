"""SQL for collections and items, built with SQLAlchemy Core from the layer declaration."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import (ColumnElement, Connection, Float, Select, and_, exists, func,
                        literal, or_, select, union_all)

from gisapp.db.schema import LAYER_TABLES, VERSION_TABLES
from gisapp.features.cql2 import build_filter
from gisapp.features.params import ID_FIELD, ItemsQuery
from layers import Access, Field, Layer

VIETNAM = timezone(timedelta(hours=7))
COORDINATE_DIGITS = 7  # about 1 cm at Da Nang's latitude


@dataclass(frozen=True)
class Feature:
    id: int
    properties: dict[str, Any]
    geometry: Any  # GeoJSON mapping, or WKT for CSV


@dataclass(frozen=True)
class Page:
    features: list[Feature]
    number_matched: int


def fetch_items(conn: Connection, layer: Layer, query: ItemsQuery,
                levels: frozenset[Access], wkt: bool = False) -> Page:
    """One page of features, in a stable order (sortby, then id), with the total matched."""
    source = layer_source(layer, query.as_of)
    conditions = _conditions(layer, source, query, levels)
    total = conn.execute(select(func.count()).select_from(source).where(*conditions)).scalar_one()
    order = [source.c[k.name].desc() if k.descending else source.c[k.name].asc()
             for k in query.sortby]
    if not any(k.name == ID_FIELD for k in query.sortby):
        order.append(source.c.id.asc())
    stmt = (_columns(source, query.fields, wkt).where(*conditions).order_by(*order)
            .limit(query.limit).offset(query.offset))
    return Page([_feature(row, query.fields, wkt) for row in conn.execute(stmt)], total)


def fetch_item(conn: Connection, layer: Layer, feature_id: int, fields: tuple[Field, ...],
               as_of: date | None = None) -> Feature | None:
    """One feature by id, or None."""
    source = layer_source(layer, as_of)
    row = conn.execute(_columns(source, fields, False).where(source.c.id == feature_id)).first()
    return None if row is None else _feature(row, fields, False)


def fetch_extent(conn: Connection, layer: Layer) -> list[float] | None:
    """The layer's bounding box in CRS84, or None when it is empty."""
    table = LAYER_TABLES[layer.id]
    box = func.ST_Extent(table.c.geom)
    row = conn.execute(select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box),
                              func.ST_YMax(box))).one()
    return None if row[0] is None else [float(v) for v in row]


def layer_source(layer: Layer, as_of: date | None):
    """The layer table, or for `as_of` the state of a versioned layer at the end of that day.

    The day ends at midnight in Viet Nam (UTC+7). A feature's state is the version whose
    validity covers that instant; a current row counts when it was written by then and no
    version of it covers the instant (the versions table may or may not mirror current rows).
    """
    table = LAYER_TABLES[layer.id]
    if as_of is None:
        return table
    versions = VERSION_TABLES[layer.id]
    instant = datetime.combine(as_of + timedelta(days=1), time(), VIETNAM)
    at = literal(instant)
    covers = and_(versions.c.valid_from <= at,
                  or_(versions.c.valid_to.is_(None), versions.c.valid_to > at))
    names = [f.name for f in layer.fields]
    past = select(versions.c.feature_id.label("id"), *(versions.c[n] for n in names),
                  versions.c.geom).where(covers)
    shadowed = exists().where(versions.c.feature_id == table.c.id,
                              or_(covers, versions.c.valid_to.is_(None)))
    current = select(table.c.id, *(table.c[n] for n in names), table.c.geom).where(
        table.c.updated_at <= at, ~shadowed)
    return union_all(past, current).subquery("as_of")


def _conditions(layer: Layer, source, query: ItemsQuery,
                levels: frozenset[Access]) -> list[ColumnElement[bool]]:
    conditions = []
    if query.bbox is not None:
        envelope = func.ST_MakeEnvelope(*(literal(v, Float) for v in query.bbox), 4326)
        conditions.append(func.ST_Intersects(source.c.geom, envelope))
    if query.filter is not None:
        conditions.append(build_filter(query.filter, query.filter_lang, layer,
                                       source, layer.visible_fields(levels),
                                       query.filter_crs))
    return conditions


def _columns(source, fields: tuple[Field, ...], wkt: bool) -> Select:
    geometry = (func.ST_AsText(source.c.geom) if wkt
                else func.ST_AsGeoJSON(source.c.geom, COORDINATE_DIGITS))
    return select(source.c.id, *(source.c[f.name] for f in fields), geometry.label("_geometry"))


def _feature(row, fields: tuple[Field, ...], wkt: bool) -> Feature:
    mapping = row._mapping
    properties = {f.name: _jsonable(mapping[f.name]) for f in fields}
    geometry = mapping["_geometry"]
    return Feature(mapping["id"], properties, geometry if wkt else json.loads(geometry))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value
