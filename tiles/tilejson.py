"""TileJSON 3.0 for a layer list: URL template, data bounds and centre, vector_layers."""
from __future__ import annotations

from typing import Any

from psycopg import sql

from layers import Access, Layer
from layers.sources import OPENSTREETMAP
from tiles.grid import MAX_LATITUDE
from tiles.sql import label_fields, label_layer_name, label_zooms, tile_fields

WORLD = (-180.0, -MAX_LATITUDE, 180.0, MAX_LATITUDE)
OSM_FORMAT = "OSM"  # etl_runs.source_format of .osm / .osm.pbf imports (etl.readers.FORMATS)


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
    return f"{field.label['en']} ({field.label['vi']}{unit})"


def osm_sql(layers: tuple[Layer, ...]) -> sql.Composed:
    """One statement: the ids of these layers holding features an OSM extract loaded."""
    return sql.SQL(" UNION ALL ").join(
        # runs first: most layers never had an OSM import, and then no table is scanned
        sql.SQL("SELECT {id} WHERE EXISTS (SELECT 1 FROM etl_runs AS r WHERE r.layer = {id}"
                " AND r.source_format = {fmt} AND EXISTS (SELECT 1 FROM {table} AS t"
                " WHERE t.source_run_id = r.id))").format(
            id=sql.Literal(layer.id), table=sql.Identifier(layer.table),
            fmt=sql.Literal(OSM_FORMAT))
        for layer in layers)


def osm_layers(conn: Any, layers: tuple[Layer, ...]) -> frozenset[str]:
    """Ids of the layers whose current data includes OpenStreetMap features."""
    cur = conn.cursor()
    try:
        cur.execute(osm_sql(layers))
        return frozenset(row[0] for row in cur.fetchall())
    finally:
        cur.close()


def layer_credits(layer: Layer, osm: frozenset[str] = frozenset()) -> list[str]:
    """One layer's credit lines: its source's, and OpenStreetMap's when it is in `osm`.

    A layer in `osm` (it shows features imported from an OpenStreetMap extract) also
    credits OpenStreetMap, as the ODbL requires wherever its data is shown.
    """
    lines = [layer.source.attribution]
    if layer.id in osm:
        lines.append(OPENSTREETMAP.attribution)
    return list(dict.fromkeys(lines))


def attribution(layers: tuple[Layer, ...], osm: frozenset[str] = frozenset()) -> str:
    """The layers' credit lines from the registry, each once, in layer order."""
    return "; ".join(dict.fromkeys(line for layer in layers for line in layer_credits(layer, osm)))


def build_tilejson(layers: tuple[Layer, ...], levels: frozenset[Access], tiles_url: str,
                   bounds: tuple[float, ...] | None,
                   osm: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The TileJSON 3.0 document; `tiles_url` holds {z}/{x}/{y}, `osm` as for attribution."""
    minzoom = min(layer.minzoom for layer in layers)
    maxzoom = max(layer.maxzoom for layer in layers)
    box = bounds or WORLD
    center_zoom = min(max(minzoom, 14 if bounds else minzoom), maxzoom)
    return {
        "tilejson": "3.0.0",
        "name": ",".join(layer.id for layer in layers),
        "description": "; ".join(f"{layer.title['en']} ({layer.title['vi']})" for layer in layers),
        "version": "1.0.0",
        "attribution": attribution(layers, osm),
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": list(box),
        "center": [round((box[0] + box[2]) / 2, 6), round((box[1] + box[3]) / 2, 6),
                   center_zoom],
        "vector_layers": [
            {"id": layer.id,
             "description": layer.description.get("en") or layer.title["en"],
             "minzoom": layer.minzoom,
             "maxzoom": layer.maxzoom,
             "fields": {f.name: field_description(f) for f in tile_fields(layer, levels)}}
            for layer in layers] + label_vector_layers(layers, levels),
    }


def label_vector_layers(layers: tuple[Layer, ...], levels: frozenset[Access]) -> list[dict]:
    """vector_layers entries of the areas' label points (`<layer>_labels`), after the layers."""
    out = []
    for layer in layers:
        zooms = label_zooms(layer)
        if zooms is not None:
            out.append({"id": label_layer_name(layer),
                        "description": f"Label points of {layer.title['en']}: one per feature",
                        "minzoom": zooms[0], "maxzoom": zooms[1],
                        "fields": {f.name: field_description(f)
                                   for f in label_fields(layer, levels)}})
    return out
