"""SQL for collections and items, built with SQLAlchemy Core from the layer declaration."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Float, Select, func, literal, select

from gisapp.db.schema import LAYER_TABLES
from gisapp.errors import BadRequest
from gisapp.features.cql2 import build_filter
from gisapp.features.crs import CRS84, output_crs
from gisapp.features.params import ID_FIELD, ItemsQuery
from gisapp.land.source import as_of_parcels_query
from layers import Access, Field, Layer
from layers.land import PARCELS



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
    stmt = (_columns(source, query.fields, wkt, query.crs).where(*conditions).order_by(*order)
            .limit(query.limit).offset(query.offset))
    return Page([_feature(row, query.fields, wkt) for row in conn.execute(stmt)], total)


def fetch_item(conn: Connection, layer: Layer, feature_id: int, fields: tuple[Field, ...],
               as_of: datetime | None = None, crs: str = CRS84) -> Feature | None:
    """One feature by id, or None."""
    source = layer_source(layer, as_of)
    row = conn.execute(_columns(source, fields, False, crs).where(source.c.id == feature_id)).first()
    return None if row is None else _feature(row, fields, False)


def fetch_extent(conn: Connection, layer: Layer) -> list[float] | None:
    """The layer's bounding box in CRS84, or None when it is empty."""
    table = LAYER_TABLES[layer.id]
    box = func.ST_Extent(table.c.geom)
    row = conn.execute(select(func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box),
                              func.ST_YMax(box))).one()
    return None if row[0] is None else [float(v) for v in row]


def layer_source(layer: Layer, as_of: datetime | None):
    """The layer table, or for `as_of` the versions of a versioned layer valid at that instant.

    The versions table holds every version, the current one with valid_to NULL; the query is
    the parcels engineer's (gisapp.land.source), so lookups and the collection agree.
    """
    table = LAYER_TABLES[layer.id]
    if as_of is None:
        return table
    if layer.id != PARCELS.id:  # the only versioned layer; its versions query is parcels-only
        raise BadRequest(f"as_of is not available for {layer.id}")
    versions = as_of_parcels_query(as_of).subquery("as_of")
    return select(versions.c.feature_id.label("id"),
                  *(versions.c[f.name] for f in layer.fields), versions.c.geom).subquery("v")


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


def _feature(row, fields: tuple[Field, ...], wkt: bool) -> Feature:
    mapping = row._mapping
    properties = {f.name: _jsonable(mapping[f.name]) for f in fields}
    geometry = mapping["_geometry"]
    return Feature(mapping["id"], properties, geometry if wkt else json.loads(geometry))


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value
