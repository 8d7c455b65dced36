"""SQL for collections and items, built with SQLAlchemy Core from the layer declaration."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg.abc import Buffer
from psycopg.adapt import Loader
from sqlalchemy import (BigInteger, ColumnElement, cast, Connection, DateTime, Float,
                        Integer, Select, Text, bindparam, func, literal, null, or_, select)
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on

from gisapp.errors import BadRequest
from gisapp.features.cql2 import SQL_TYPES, build_filter
from gisapp.features.crs import CRS84, output_crs
from gisapp.features.params import ID_FIELD, ItemsQuery
from gisapp.versions import versions_at
from layers import Access, Field, Layer
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
    values = bound_values(query)
    if query.after is not None:
        conditions.append(source.c.id > bindparam("after", type_=BigInteger))
    total = conn.execute(select(func.count()).select_from(source).where(*conditions),
                         values).scalar_one()
    page = _page(source, query, conditions)
    stmt = _columns(page, query.fields, wkt, query.crs).order_by(page.c._n)
    return Page([_feature(row, query.fields, wkt, query.skip_geometry)
                 for row in conn.execute(stmt, values)], total)


@dataclass(frozen=True)
class GeoJsonPage:
    """A page as GeoJSON text from PostgreSQL; `matched` is None on keyset pages (uncounted)."""

    features: bytes  # a GeoJSON array of features, UTF-8
    matched: int | None
    returned: int
    last_id: int | None
    more: bool


class Utf8Bytes(Loader):
    """Text as the UTF-8 bytes PostgreSQL sent: a page's GeoJSON goes out as it came in,
    not decoded into str and encoded again (1 ms of a 1,000-feature page)."""

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


BBOX_KEYS = ("bbox_west", "bbox_south", "bbox_east", "bbox_north")


def bound_values(query: ItemsQuery) -> dict[str, Any]:
    """The values the items statements bind, by the names _conditions and _page give them."""
    values: dict[str, Any] = {"limit": query.limit, "offset": query.offset, "after": query.after}
    if query.bbox is not None:
        values.update(zip(BBOX_KEYS, query.bbox))
    for field, value in query.equals:
        values[f"eq_{field.name}"] = value
    if query.datetime is not None:
        values["dt_low"], values["dt_high"] = query.datetime
    return values


def _shape(layer: Layer, query: ItemsQuery) -> tuple | None:
    """What the GeoJSON statement's text depends on, or None when it embeds values (filter,
    as_of) and so is built for the request alone."""
    if query.filter is not None or query.as_of is not None:
        return None
    when = None if query.datetime is None else tuple(v is None for v in query.datetime)
    return (layer.id, tuple(f.name for f in query.fields), query.skip_geometry, query.crs,
            query.after is None, query.bbox is None, tuple(f.name for f, _ in query.equals),
            when, query.sortby)


def _is_bound(name: str) -> bool:
    """Whether a parameter of the statement is one of bound_values' (else a constant)."""
    return name in ("limit", "offset", "after") or name.startswith(("bbox_", "eq_", "dt_"))


_STATEMENTS: dict[tuple, tuple[str, dict[str, Any]]] = {}
_STATEMENTS_LOCK = threading.Lock()
MAX_STATEMENTS = 512  # the shapes clients ask for: a few per layer and format


def fetch_items_geojson(conn: Connection, layer: Layer, query: ItemsQuery,
                        levels: frozenset[Access], base: str) -> GeoJsonPage:
    """The page's features as a GeoJSON array built by PostgreSQL, with the count and paging.

    One statement: the count and the page's features (text joined in page order), so a page of
    1,000 features costs no per-feature work in Python. Features in a page carry no links
    (each item's own document has them): 150 bytes a feature that no client reads. A keyset page (`after`) is not
    counted: a client reading a layer page by page then pays the same at any depth.
    The statement's SQL is built and compiled once per shape (_shape) and its values bound
    per request: building it with SQLAlchemy was most of a small page's CPU time.
    """
    shape = _shape(layer, query)
    compiled = _STATEMENTS.get(shape) if shape is not None else None
    if compiled is None:
        text = _geojson_statement(layer, query, levels).compile(dialect=conn.dialect)
        compiled = (str(text), {k: v for k, v in text.params.items() if not _is_bound(k)})
        if shape is not None:
            with _STATEMENTS_LOCK:
                if len(_STATEMENTS) >= MAX_STATEMENTS:
                    _STATEMENTS.clear()
                _STATEMENTS[shape] = compiled
    sql_text, constants = compiled
    with conn.connection.driver_connection.cursor() as cur:
        cur.adapters.register_loader("text", Utf8Bytes)  # this cursor only
        cur.execute(sql_text, {**constants, **bound_values(query)})
        matched, text, returned, last_id, follows_page = cur.fetchone()
    counted = query.after is None
    more = (query.offset + returned < matched) if counted else bool(follows_page)
    return GeoJsonPage(text, matched, returned, last_id, more)


def _geojson_statement(layer: Layer, query: ItemsQuery, levels: frozenset[Access]) -> Select:
    """The one statement of fetch_items_geojson, its values as bind parameters."""
    source = layer_source(layer, query.as_of, query.datetime)
    conditions = _conditions(layer, source, query, levels)
    counted = query.after is None
    total = (select(func.count()).select_from(source).where(*conditions).scalar_subquery()
             if counted else null())
    rows = _page(source, query, conditions)
    page = _columns(rows, query.fields, False, query.crs).add_columns(rows.c._n).subquery("page")
    # Each feature is written as text around ST_AsGeoJSON's text: casting that to json (and
    # json_agg) would make PostgreSQL parse every geometry again, a third of a 1,000-feature
    # page's time.
    geometry = (literal("null", Text) if query.skip_geometry
                else func.coalesce(page.c._geometry, literal("null", Text)))
    properties = func.json_build_object(*(part for f in query.fields
                                          for part in (literal(f.name, Text), page.c[f.name])))
    properties = (cast(properties, Text) if query.fields else literal("{}", Text))
    feature = func.concat(literal('{"type":"Feature","id":', Text), page.c.id,
                          literal(',"geometry":', Text), geometry,
                          literal(',"properties":', Text), properties, literal("}", Text))
    listed = func.string_agg(feature, aggregate_order_by(literal(",", Text), page.c._n))
    features = select(func.concat(literal("[", Text), listed, literal("]", Text)),
                      func.count(), func.max(page.c.id)).select_from(page)
    features = features.subquery("f")
    # Whether rows follow the page, asked in the same statement: keyset pages are uncounted.
    follows = (select(source.c.id).where(*conditions, source.c.id > features.c[2]).exists()
               if not counted else null())
    return select(total, features.c[0], features.c[1], features.c[2], follows)


def _page(source, query: ItemsQuery, conditions: list):
    """The page's rows with their position `_n`; geometries are encoded after the LIMIT so
    the rows an OFFSET skips cost no ST_AsGeoJSON."""
    order = _order(source, query)
    if query.after is not None:
        conditions = [*conditions, source.c.id > bindparam("after", type_=BigInteger)]
    return (select(source, func.row_number().over(order_by=order).label("_n"))
            .where(*conditions).order_by(*order)
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))
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
    query is gisapp.versions', the same for every versioned layer (parcel lookups use it too).
    Over an interval a feature may have had several versions: its latest one in it counts.
    """
    table = LAYER_TABLES[layer.id]
    if when is not None and layer.temporal is not None and layer.temporal.in_versions:
        return _versions_during(layer, when)
    if when is not None:
        return table
    if as_of is None:
        return table
    if not layer.versioned:
        raise BadRequest(f"as_of: {layer.id} keeps no history; as_of works on versioned layers")
    versions = versions_at(layer, as_of).subquery("as_of")
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
    high_value = bindparam("dt_high", type_=DateTime(timezone=True))
    low_value = bindparam("dt_low", type_=DateTime(timezone=True))
    if high is not None:
        conditions.append(start <= high_value)
    if low is not None:
        if end is None:
            conditions.append(start >= low_value)
        else:
            conditions.append(or_(end.is_(None), end > low_value))
    return conditions


def _conditions(layer: Layer, source, query: ItemsQuery,
                levels: frozenset[Access]) -> list[ColumnElement[bool]]:
    conditions = []
    if query.bbox is not None:
        envelope = func.ST_MakeEnvelope(*(bindparam(k, type_=Float) for k in BBOX_KEYS), 4326)
        conditions.append(func.ST_Intersects(source.c.geom, envelope))
    for field, _ in query.equals:
        conditions.append(source.c[field.name] == bindparam(f"eq_{field.name}",
                                                            type_=SQL_TYPES[field.type]()))
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
