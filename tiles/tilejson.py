"""TileJSON 3.0 for a layer list: URL template, data bounds and centre, vector_layers."""
from __future__ import annotations

from typing import Any

from psycopg import sql

from layers import Access, Layer
from tiles.grid import MAX_LATITUDE
from tiles.sql import tile_fields

WORLD = (-180.0, -MAX_LATITUDE, 180.0, MAX_LATITUDE)


def bounds_sql(layers: tuple[Layer, ...]) -> sql.Composed:
    """One statement: the lon/lat extent of all features of these layers."""
    parts = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT ST_Extent(geom)::geometry AS b FROM {}").format(
            sql.Identifier(layer.table)) for layer in layers)
    return sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                   "(SELECT ST_Extent(b) AS e FROM ({}) AS u) AS x").format(parts)


def data_bounds(conn: Any, layers: tuple[Layer, ...]) -> tuple[float, ...] | None:
    """(west, south, east, north) of the layers' data, or None when they are empty."""
    cur = conn.cursor()
    try:
        cur.execute(bounds_sql(layers))
        row = cur.fetchone()
    finally:
        cur.close()
    return None if row is None or row[0] is None else tuple(round(v, 6) for v in row)


def field_description(field) -> str:
    """'Land use (Mục đích sử dụng)', with the unit when it has one."""
    unit = f", {field.unit}" if field.unit else ""
    return f"{field.label_en} ({field.label_vi}{unit})"


def attribution(layers: tuple[Layer, ...]) -> str:
    """The layers' credit lines from the registry, each once, in layer order."""
    return "; ".join(dict.fromkeys(layer.source.attribution for layer in layers))


def build_tilejson(layers: tuple[Layer, ...], levels: frozenset[Access], tiles_url: str,
                   bounds: tuple[float, ...] | None) -> dict[str, Any]:
    """The TileJSON 3.0 document; `tiles_url` holds {z}/{x}/{y}."""
    minzoom = min(layer.minzoom for layer in layers)
    maxzoom = max(layer.maxzoom for layer in layers)
    box = bounds or WORLD
    center_zoom = min(max(minzoom, 14 if bounds else minzoom), maxzoom)
    return {
        "tilejson": "3.0.0",
        "name": ",".join(layer.id for layer in layers),
        "description": "; ".join(f"{layer.title_en} ({layer.title_vi})" for layer in layers),
        "version": "1.0.0",
        "attribution": attribution(layers),
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": list(box),
        "center": [round((box[0] + box[2]) / 2, 6), round((box[1] + box[3]) / 2, 6),
                   center_zoom],
        "vector_layers": [
            {"id": layer.id,
             "description": layer.description_en or layer.title_en,
             "minzoom": layer.minzoom,
             "maxzoom": layer.maxzoom,
             "fields": {f.name: field_description(f) for f in tile_fields(layer, levels)}}
            for layer in layers],
    }
