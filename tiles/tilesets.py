"""OGC API – Tiles documents: the tile matrix sets and vector tileset metadata.

Tiles are cut in two OGC 2D Tile Matrix Set 2.0 grids. WebMercatorQuad is the grid
`tiles.grid` serves (EPSG:3857, 256-pixel tiles, zoom 0–22, row 0 at the top), so
{tileMatrix}/{tileRow}/{tileCol} is z/y/x and its tiles are the /tiles/{layers}/{z}/{x}/{y}.mvt
tiles. WorldCRS84Quad (lon/lat, 2×1 tiles at level 0) is there for readers that work in
lon/lat: GDAL's OGCAPI driver picks it by default and, from 3.7.1 up to at least 3.12,
computes a tileset's tile range from the collection's CRS84 extent without reprojecting it,
so in a Web Mercator tileset it finds no tile. A tileset is one layer (a collection's
tiles) or several (the dataset's composite tiles); its documents derive from the registry.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from layers import Access, FieldType, Layer
from tiles.grid import MAX_CRS84_LEVEL, MAX_ZOOM, MIN_ZOOM, WORLD_HALF_M, tile_range
from tiles.sql import label_fields, label_layer_name, label_zooms, tile_fields
from tiles.tilejson import attribution

CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MVT_TYPE = "application/vnd.mapbox-vector-tile"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
REL_GEODATA = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
TILE_TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"
TILE_SIZE = 256
METRES_PER_PIXEL_AT_SCALE_1 = 0.00028  # the OGC standardized rendering pixel
# OGC API – Tiles 1.0 conformance classes this server implements (added to /conformance).
TILES_CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
]
PROPERTY_TYPES = {FieldType.TEXT: "string", FieldType.INTEGER: "integer",
                  FieldType.FLOAT: "number", FieldType.DATE: "string",
                  FieldType.BOOLEAN: "boolean"}
GEOMETRY_DIMENSIONS = {"Point": 0, "LineString": 1, "Polygon": 2}


@dataclass(frozen=True)
class MatrixSet:
    """A tile matrix set tiles are cut in: its level 0 and how levels map to zooms.

    Level L has (width × height) · 2^L tiles of `cell` / 2^L CRS units per pixel from
    `origin` (top left). Its tiles are as wide, in degrees, as Web Mercator tiles at zoom
    L + `zoom_offset`, so a layer's zoom range maps to levels by that offset.
    """

    id: str
    title: str
    crs: str
    axes: tuple[str, str]
    origin: tuple[float, float]
    cell: float
    width: int
    height: int
    metres_per_unit: float
    zoom_offset: int
    max_level: int
    scale_set: str

    @property
    def uri(self) -> str:
        return f"http://www.opengis.net/def/tilematrixset/OGC/1.0/{self.id}"

    def level(self, zoom: int) -> int:
        """The level whose tiles are as wide as Web Mercator tiles at `zoom`, in range."""
        return min(max(zoom - self.zoom_offset, MIN_ZOOM), self.max_level)

    def tile_range(self, bbox: tuple[float, ...], level: int) -> tuple[int, int, int, int]:
        """(mincol, minrow, maxcol, maxrow) of the level's tiles touching a lon/lat bbox."""
        if self.crs == CRS_3857:
            return tile_range(tuple(bbox), level)
        west, south, east, north = bbox
        size = self.cell * TILE_SIZE / (1 << level)
        cols, rows = (self.width << level) - 1, (self.height << level) - 1

        def clamp(value: float, last: int) -> int:
            return min(max(int(math.floor(value)), 0), last)

        return (clamp((west - self.origin[0]) / size, cols),
                clamp((self.origin[1] - north) / size, rows),
                clamp((east - self.origin[0]) / size, cols),
                clamp((self.origin[1] - south) / size, rows))


WEB_MERCATOR_QUAD = MatrixSet(
    "WebMercatorQuad", "Google Maps Compatible for the World", CRS_3857, ("X", "Y"),
    (-WORLD_HALF_M, WORLD_HALF_M), 2 * WORLD_HALF_M / TILE_SIZE, 1, 1, 1.0, 0, MAX_ZOOM,
    "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible")
WORLD_CRS84_QUAD = MatrixSet(
    "WorldCRS84Quad", "CRS84 for the World", CRS84, ("Lon", "Lat"), (-180.0, 90.0),
    180.0 / TILE_SIZE, 2, 1, 6378137 * math.pi / 180, 1, MAX_CRS84_LEVEL,
    "http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad")
MATRIX_SETS = {tms.id: tms for tms in (WEB_MERCATOR_QUAD, WORLD_CRS84_QUAD)}
TMS_ID = WEB_MERCATOR_QUAD.id  # the grid of the /tiles/{layers}/{z}/{x}/{y}.mvt tiles
TMS_URI = WEB_MERCATOR_QUAD.uri


def link(href: str, rel: str, media_type: str, title: str, **extra: Any) -> dict[str, Any]:
    """One OGC API link object."""
    return {"href": href, "rel": rel, "type": media_type, "title": title, **extra}


def tile_matrix_set(tms: MatrixSet, base: str) -> dict[str, Any]:
    """A tile matrix set definition (TMS 2.0 JSON) of a grid this server cuts tiles in.

    It also carries the TMS 1.0 names of the same values (identifier, supportedCRS,
    topLeftCorner), which GDAL 3.6's parser reads.
    """
    matrices = []
    for level in range(MIN_ZOOM, tms.max_level + 1):
        cell = tms.cell / (1 << level)
        matrices.append({
            "id": str(level),
            "scaleDenominator": cell * tms.metres_per_unit / METRES_PER_PIXEL_AT_SCALE_1,
            "cellSize": cell, "cornerOfOrigin": "topLeft", "pointOfOrigin": list(tms.origin),
            "tileWidth": TILE_SIZE, "tileHeight": TILE_SIZE,
            "matrixWidth": tms.width << level, "matrixHeight": tms.height << level,
            "identifier": str(level), "topLeftCorner": list(tms.origin)})
    west, north = tms.origin
    east = west + tms.cell * TILE_SIZE * tms.width
    south = north - tms.cell * TILE_SIZE * tms.height
    return {
        "id": tms.id,
        "identifier": tms.id,
        "supportedCRS": tms.crs,
        "title": tms.title,
        "uri": tms.uri,
        "crs": tms.crs,
        "orderedAxes": list(tms.axes),
        "wellKnownScaleSet": tms.scale_set,
        "boundingBox": {"lowerLeft": [west, south], "upperRight": [east, north],
                        "crs": tms.crs},
        "tileMatrices": matrices,
        "links": [link(f"{base}/tileMatrixSets/{tms.id}", "self", "application/json",
                       "This tile matrix set")],
    }


def tile_matrix_sets(base: str) -> dict[str, Any]:
    """The list of tile matrix sets tiles are served in."""
    listed = []
    for tms in MATRIX_SETS.values():
        url = f"{base}/tileMatrixSets/{tms.id}"
        listed.append({"id": tms.id, "title": tms.title, "uri": tms.uri, "crs": tms.crs,
                       "links": [link(url, "self", "application/json", tms.id),
                                 link(url, REL_TILING_SCHEME, "application/json", tms.id)]})
    return {"tileMatrixSets": listed,
            "links": [link(f"{base}/tileMatrixSets", "self", "application/json",
                           "Tile matrix sets")]}


def _tileset_links(tms: MatrixSet, tileset_url: str, base: str) -> list[dict[str, Any]]:
    return [
        link(tileset_url, "self", "application/json", "This tileset"),
        link(f"{base}/tileMatrixSets/{tms.id}", REL_TILING_SCHEME, "application/json",
             f"The {tms.id} tile matrix set"),
        link(f"{tileset_url}/{TILE_TEMPLATE}", "item", MVT_TYPE, "Mapbox vector tiles",
             templated=True),
    ]


def tileset_list(title: str, tilesets_url: str, base: str) -> dict[str, Any]:
    """The tilesets of a collection or of the dataset: one vector tileset per grid."""
    return {
        "links": [link(tilesets_url, "self", "application/json", "Tilesets")],
        "tilesets": [{"title": title, "dataType": "vector", "crs": tms.crs,
                      "tileMatrixSetURI": tms.uri,
                      "links": _tileset_links(tms, f"{tilesets_url}/{tms.id}", base)}
                     for tms in MATRIX_SETS.values()],
    }


def _properties_schema(layer: Layer, levels: frozenset[Access]) -> dict[str, Any]:
    properties = {"id": {"type": "integer", "title": "Feature id"}}
    for field in tile_fields(layer, levels):
        properties[field.name] = {"type": PROPERTY_TYPES[field.type], "title": field.label["en"],
                                  "description": field.label["vi"]}
    return {"type": "object", "properties": properties}


def _label_layers(tms: MatrixSet, layers: tuple[Layer, ...],
                  levels: frozenset[Access]) -> list[dict[str, Any]]:
    """The areas' label point layers (`<layer>_labels`) the tiles carry, after the layers."""
    out = []
    for layer in layers:
        zooms = label_zooms(layer)
        if zooms is None:
            continue
        properties = {"id": {"type": "integer", "title": "Feature id"}}
        for field in label_fields(layer, levels):
            properties[field.name] = {"type": PROPERTY_TYPES[field.type],
                                      "title": field.label["en"],
                                      "description": field.label["vi"]}
        out.append({"id": label_layer_name(layer),
                    "title": f"{layer.title['en']}: label points",
                    "description": f"{layer.title['vi']}: điểm ghi nhãn",
                    "dataType": "vector", "geometryDimension": 0,
                    "minTileMatrix": str(tms.level(zooms[0])),
                    "maxTileMatrix": str(tms.level(zooms[1])),
                    "propertiesSchema": {"type": "object", "properties": properties}})
    return out


def _geometry_dimension(layer: Layer) -> int:
    return GEOMETRY_DIMENSIONS[layer.geometry_type.removeprefix("Multi")]


def matrix_limits(tms: MatrixSet, layers: tuple[Layer, ...],
                  bounds: tuple[float, ...] | None) -> list[dict[str, Any]]:
    """Per level the layers are drawn at, the rows and columns of tiles holding their data."""
    if bounds is None:
        return []
    low = tms.level(min(layer.minzoom for layer in layers))
    high = tms.level(max(layer.maxzoom for layer in layers))
    limits = []
    for level in range(low, high + 1):
        mincol, minrow, maxcol, maxrow = tms.tile_range(bounds, level)
        limits.append({"tileMatrix": str(level), "minTileRow": minrow, "maxTileRow": maxrow,
                       "minTileCol": mincol, "maxTileCol": maxcol})
    return limits


def tileset(tms: MatrixSet, title: str, layers: tuple[Layer, ...], levels: frozenset[Access],
            tileset_url: str, base: str, bounds: tuple[float, ...] | None,
            osm: frozenset[str] = frozenset(), collection_url: str | None = None) -> dict[str, Any]:
    """Tileset metadata (TMS 2.0): tile URL template, limits, layers and their properties.

    `bounds` is the lon/lat extent of the layers' data (None when they are empty); `osm`
    the layers showing OpenStreetMap data; `collection_url` links a collection's tileset
    to the collection it tiles.
    """
    links = _tileset_links(tms, tileset_url, base)
    if collection_url:
        links.append(link(collection_url, REL_GEODATA, "application/json", "The collection"))
    doc: dict[str, Any] = {
        "title": title,
        "description": "; ".join(layer.description.get("en") or layer.title["en"] for layer in layers),
        "dataType": "vector",
        "crs": tms.crs,
        "tileMatrixSetURI": tms.uri,
        "attribution": attribution(layers, osm),
        "links": links,
        "layers": [{"id": layer.id, "title": layer.title["en"], "description": layer.title["vi"],
                    "dataType": "vector", "geometryDimension": _geometry_dimension(layer),
                    "minTileMatrix": str(tms.level(layer.minzoom)),
                    "maxTileMatrix": str(tms.level(layer.maxzoom)),
                    "propertiesSchema": _properties_schema(layer, levels)}
                   for layer in layers] + _label_layers(tms, layers, levels),
    }
    limits = matrix_limits(tms, layers, bounds)
    if limits:
        doc["tileMatrixSetLimits"] = limits
    if bounds is not None:
        west, south, east, north = bounds
        zoom = min(max(min(layer.minzoom for layer in layers), 14),
                   max(layer.maxzoom for layer in layers))
        doc["boundingBox"] = {"lowerLeft": [west, south], "upperRight": [east, north],
                              "crs": CRS84}
        doc["centerPoint"] = {"coordinates": [round((west + east) / 2, 6),
                                              round((south + north) / 2, 6)],
                              "tileMatrix": str(tms.level(zoom)), "crs": CRS84}
    return doc
