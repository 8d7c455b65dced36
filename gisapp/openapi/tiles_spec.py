"""Parameter and response schemas of the tile, OGC API – Tiles and raster operations."""
from __future__ import annotations

from typing import Any

from etl.rasters import RASTER_NAME
from layers import LAYERS
from tiles.grid import MAX_ZOOM
from tiles.tilesets import MATRIX_SETS, MVT_TYPE

BLUEPRINTS = ("tiles.", "ogc_tiles.", "raster_data.")
JSON_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
TILE_NUMBER = {"type": "string", "pattern": "^[0-9]{1,8}$"}
BINARY = {"type": "string", "format": "binary"}
LINKS = {"type": "array", "items": {"type": "object", "required": ["href", "rel"],
                                    "properties": {"href": {"type": "string"},
                                                   "rel": {"type": "string"},
                                                   "type": {"type": "string"},
                                                   "title": {"type": "string"},
                                                   "templated": {"type": "boolean"}}}}
TILESET_LIST = {"type": "object", "required": ["links", "tilesets"], "properties": {
    "links": LINKS, "tilesets": {"type": "array", "items": {
        "type": "object", "required": ["dataType", "crs", "links"],
        "properties": {"dataType": {"type": "string", "enum": ["vector"]},
                       "crs": {"type": "string"}, "tileMatrixSetURI": {"type": "string"},
                       "links": LINKS}}}}}
TILESET = {"type": "object", "required": ["dataType", "crs", "links"], "properties": {
    "title": {"type": "string"}, "dataType": {"type": "string", "enum": ["vector"]},
    "crs": {"type": "string"}, "tileMatrixSetURI": {"type": "string"}, "links": LINKS,
    "attribution": {"type": "string"}, "layers": {"type": "array", "items": {"type": "object"}},
    "tileMatrixSetLimits": {"type": "array", "items": {"type": "object"}}}}
TILE_MATRIX_SET = {"type": "object", "required": ["id", "crs", "tileMatrices"], "properties": {
    "id": {"type": "string"}, "uri": {"type": "string"}, "crs": {"type": "string"},
    "tileMatrices": {"type": "array", "items": {"type": "object"}}}}
VECTOR_TILE = {
    "200": {"description": "A Mapbox vector tile (gzip when accepted)",
            "content": {MVT_TYPE: {"schema": BINARY}}},
    "204": {"description": "No feature in this tile"},
    "304": {"description": "Not modified (If-None-Match)"}}


def path_schema(endpoint: str, name: str) -> dict[str, Any] | None:
    """Path parameters of these blueprints: registry ids, the grid, raster names."""
    if not endpoint.startswith(BLUEPRINTS):
        return None
    if name == "layer_id":
        return {"type": "string", "enum": list(LAYERS)}
    if name == "layers":
        return {"type": "string", "pattern": "^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*$",
                "description": "one layer id or a comma list, each at most once"}
    if name == "tms_id":
        return {"type": "string", "enum": list(MATRIX_SETS)}
    if name in ("z", "tile_matrix"):
        return {"type": "string", "pattern": "^[0-9]{1,2}$",
                "description": f"zoom 0-{MAX_ZOOM}"}
    if name in ("x", "y", "tile_row", "tile_col"):
        return TILE_NUMBER
    if name == "name":
        return {"type": "string", "pattern": RASTER_NAME.pattern}
    return None


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": description,
                    "content": {"application/json": {"schema": schema}}},
            "404": {"description": "No such layer, tile matrix set or raster",
                    "content": JSON_ERROR}}


def operation(endpoint: str) -> dict[str, Any] | None:
    """Responses of one of these operations, or None for other endpoints."""
    if endpoint in ("tiles.tile", "ogc_tiles.collection_tile", "ogc_tiles.dataset_tile"):
        return {"responses": {**VECTOR_TILE,
                              "400": {"description": "Not on the grid", "content": JSON_ERROR}}}
    if endpoint in ("ogc_tiles.collection_tilesets", "ogc_tiles.dataset_tilesets"):
        return {"responses": _json("The tilesets (OGC API – Tiles)", TILESET_LIST)}
    if endpoint in ("ogc_tiles.collection_tileset", "ogc_tiles.dataset_tileset"):
        return {"responses": _json("Tileset metadata (OGC TMS 2.0)", TILESET)}
    if endpoint == "ogc_tiles.tile_matrix_set_document":
        return {"responses": _json("A tile matrix set (OGC TMS 2.0)", TILE_MATRIX_SET)}
    if endpoint == "ogc_tiles.tile_matrix_set_list":
        return {"responses": _json("The tile matrix sets", {"type": "object"})}
    if endpoint == "tiles.raster_tile":
        return {"responses": {
            "200": {"description": "A PNG tile (transparent where the raster has no pixel)",
                    "content": {"image/png": {"schema": BINARY}}},
            "304": {"description": "Not modified (If-None-Match)"}}}
    if endpoint in ("tiles.tilejson", "tiles.raster_tilejson_view", "tiles.style"):
        return {"responses": _json("TileJSON 3.0 or a MapLibre style", {"type": "object"})}
    return None
