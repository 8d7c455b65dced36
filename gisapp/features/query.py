"""SQL for collections and items, built with SQLAlchemy Core from the layer declaration."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, ColumnElement, cast, Connection, DateTime, Float, Select, Text, func,
                        literal, null, or_, select)
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on

from gisapp.errors import BadRequest
from gisapp.features.cql2 import SQL_TYPES, build_filter
from gisapp.features.crs import CRS84, output_crs
from gisapp.features.params import ID_FIELD, ItemsQuery
from gisapp.land.source import as_of_parcels_query
from layers import Access, Field, Layer
from layers.land import PARCELS
from store.tables import LAYER_TABLES, VERSION_TABLES


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
    """One page of features, in a stable order (sortby, then id), with the total matched.

    After a keyset position (`after`) the total counts the features from there on.
    """
    source = layer_source(layer, query.as_of, query.datetime)
    conditions = _conditions(layer, source, query, levels)
    if query.after is not None:
        conditions.append(source.c.id > literal(query.after, BigInteger))
    total = conn.execute(select(func.count()).select_from(source).where(*conditions)).scalar_one()
    page = _page(source, query, conditions)
    stmt = _columns(page, query.fields, wkt, query.crs).order_by(page.c._n)
    return Page([_feature(row, query.fields, wkt, query.skip_geometry)
                 for row in conn.execute(stmt)], total)


@dataclass(frozen=True)
class GeoJsonPage:
    """A page as GeoJSON text from PostgreSQL; `matched` is None on keyset pages (uncounted)."""

    features: str  # a GeoJSON array of features
    matched: int | None
    returned: int
    last_id: int | None
    more: bool


def fetch_items_geojson(conn: Connection, layer: Layer, query: ItemsQuery,
                        levels: frozenset[Access], base: str) -> GeoJsonPage:
    """The page's features as a GeoJSON array built by PostgreSQL, with the count and paging.

    One statement: the count and the page's features (json_agg in page order), so a page of
    1,000 features costs no per-feature work in Python. Features in a page carry no links
    (each item's own document has them): 150 bytes a feature that no client reads. A keyset page (`after`) is not
    counted: a client reading a layer page by page then pays the same at any depth.
    """
    source = layer_source(layer, query.as_of, query.datetime)
    conditions = _conditions(layer, source, query, levels)
    counted = query.after is None
    total = (select(func.count()).select_from(source).where(*conditions).scalar_subquery()
             if counted else null())
    rows = _page(source, query, conditions)
    page = _columns(rows, query.fields, False, query.crs).add_columns(rows.c._n).subquery("page")
    geometry = (null() if query.skip_geometry
                else cast(page.c._geometry, JSON))
    properties = func.json_build_object(*(part for f in query.fields
                                          for part in (literal(f.name, Text), page.c[f.name])))
    if not query.fields:
        properties = cast(literal("{}", Text), JSON)
    feature = func.json_build_object(
        literal("type", Text), literal("Feature", Text), literal("id", Text), page.c.id,
        literal("geometry", Text), geometry, literal("properties", Text), properties)
    features = select(cast(func.coalesce(func.json_agg(aggregate_order_by(feature, page.c._n)),
                                         cast(literal("[]", Text), JSON)), Text),
                      func.count(), func.max(page.c.id)).select_from(page)
    features = features.subquery("f")
    # Whether rows follow the page, asked in the same statement: keyset pages are uncounted.
    follows = (select(source.c.id).where(*conditions, source.c.id > features.c[2]).exists()
               if not counted else null())
    row = conn.execute(select(total, features.c[0], features.c[1], features.c[2],
                              follows)).one()
    matched, text, returned, last_id, follows_page = row
    more = (query.offset + returned < matched) if counted else bool(follows_page)
    return GeoJsonPage(text, matched, returned, last_id, more)


def _page(source, query: ItemsQuery, conditions: list):
    """The page's rows with their position `_n`; geometries are encoded after the LIMIT so
    the rows an OFFSET skips cost no ST_AsGeoJSON."""
    order = _order(source, query)
    if query.after is not None:
        conditions = [*conditions, source.c.id > literal(query.after, BigInteger)]
    return (select(source, func.row_number().over(order_by=order).label("_n"))
            .where(*conditions).order_by(*order).limit(query.limit).offset(query.offset)
            .subquery("rows"))


def _order(source, query: ItemsQuery) -> list:
    order = [source.c[k.name].desc() if k.descending else source.c[k.name].asc()
             for k in query.sortby]
    if not any(k.name == ID_FIELD for k in query.sortby):
        order.append(source.c.id.asc())
    return order


def fetch_item(conn: Connection, layer: Layer, feature_id: int, fields: tuple[Field, ...],
               as_of: datetime | None = None, crs: str = CRS84,
               skip_geometry: bool = False) -> Feature | None:
    """One feature by id, or None."""
    source = layer_source(layer, as_of)
    row = conn.execute(_columns(source, fields, False, crs).where(source.c.id == feature_id)).first()
    return None if row is None else _feature(row, fields, False, skip_geometry)


def layer_source(layer: Layer, as_of: datetime | None,
                 when: tuple[datetime | None, datetime | None] | None = None):
    """The layer table, or the versions of a versioned layer valid at `as_of` or during `when`.

    The versions table holds every version, the current one with valid_to NULL; the as_of
    query is the parcels engineer's (gisapp.land.source), so lookups and the collection agree.
    Over an interval a feature may have had several versions: its latest one in it counts.
    """
    table = LAYER_TABLES[layer.id]
    if when is not None and layer.temporal is not None and layer.temporal.in_versions:
        return _versions_during(layer, when)
    if when is not None:
        return table
    if as_of is None:
        return table
    if layer.id != PARCELS.id:  # the only versioned layer; its versions query is parcels-only
        raise BadRequest(f"as_of is not available for {layer.id}")
    versions = as_of_parcels_query(as_of).subquery("as_of")
    return select(versions.c.feature_id.label("id"),
                  *(versions.c[f.name] for f in layer.fields), versions.c.geom).subquery("v")


def _versions_during(layer: Layer, when: tuple[datetime | None, datetime | None]):
    versions = VERSION_TABLES[layer.id]
    stmt = (select(versions.c.feature_id.label("id"), *(versions.c[f.name] for f in layer.fields),
                   versions.c.geom)
            .where(*_during(versions, layer, when))
            .ext(distinct_on(versions.c.feature_id))
            .order_by(versions.c.feature_id, versions.c.valid_from.desc()))
    return stmt.subquery("v")


def _during(source, layer: Layer,
            when: tuple[datetime | None, datetime | None]) -> list[ColumnElement[bool]]:
    """Rows whose time (an instant, or [start, end) when the layer has an end) meets `when`."""
    temporal = layer.temporal
    start = source.c[temporal.start]
    end = source.c[temporal.end] if temporal.end else None
    low, high = when
    conditions = []
    if high is not None:
        conditions.append(start <= literal(high, DateTime(timezone=True)))
    if low is not None:
        if end is None:
            conditions.append(start >= literal(low, DateTime(timezone=True)))
        else:
            conditions.append(or_(end.is_(None), end > literal(low, DateTime(timezone=True))))
    return conditions


def _conditions(layer: Layer, source, query: ItemsQuery,
                levels: frozenset[Access]) -> list[ColumnElement[bool]]:
    conditions = []
    if query.bbox is not None:
        envelope = func.ST_MakeEnvelope(*(literal(v, Float) for v in query.bbox), 4326)
        conditions.append(func.ST_Intersects(source.c.geom, envelope))
    for field, value in query.equals:
        conditions.append(source.c[field.name] == literal(value, SQL_TYPES[field.type]()))
    if (query.datetime is not None and layer.temporal is not None
            and not layer.temporal.in_versions):
        conditions.extend(_during(source, layer, query.datetime))
    if query.filter is not None:
        conditions.append(build_filter(query.filter, query.filter_lang, layer,
                                       source, layer.visible_fields(levels),
                                       query.filter_crs))
    return conditions


def _columns(source, fields: tuple[Field, ...], wkt: bool, crs: str) -> Select:
    out = output_crs(crs)
    geom = source.c.geom
    if out.srid != 4326:
        geom = func.ST_Transform(geom, literal(out.srid))
    if out.flip:
        geom = func.ST_FlipCoordinates(geom)
    geometry = (func.ST_AsText(geom, literal(out.digits + 2)) if wkt
                else func.ST_AsGeoJSON(geom, literal(out.digits)))
    return select(source.c.id, *(source.c[f.name] for f in fields), geometry.label("_geometry"))


def _feature(row, fields: tuple[Field, ...], wkt: bool, skip_geometry: bool = False) -> Feature:
    mapping = row._mapping
    properties = {f.name: _jsonable(mapping[f.name]) for f in fields}
    geometry = mapping["_geometry"]
    if skip_geometry:
        return Feature(mapping["id"], properties, None)
    return Feature(mapping["id"], properties, geometry if wkt else json.loads(geometry))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value
