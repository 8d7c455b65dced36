"""OGC API – Tiles documents: the WebMercatorQuad tile matrix set and vector tileset metadata.

The tile matrix set is the OGC Two Dimensional Tile Matrix Set 2.0 encoding of the grid
`tiles.grid` serves (EPSG:3857, 256-pixel tiles, zoom 0–22, row 0 at the top), so
{tileMatrix}/{tileRow}/{tileCol} is z/y/x. A tileset is one layer (a collection's tiles) or
several (the dataset's composite tiles); its documents are derived from the registry.
"""
from __future__ import annotations

from typing import Any

from layers import Access, FieldType, Layer
from tiles.grid import MAX_ZOOM, MIN_ZOOM, WORLD_HALF_M, tile_range
from tiles.sql import tile_fields
from tiles.tilejson import attribution

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
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


def link(href: str, rel: str, media_type: str, title: str, **extra: Any) -> dict[str, Any]:
    """One OGC API link object."""
    return {"href": href, "rel": rel, "type": media_type, "title": title, **extra}


def tile_matrix_set(base: str) -> dict[str, Any]:
    """The WebMercatorQuad tile matrix set (TMS 2.0 JSON) of the tiles this server cuts.

    It also carries the TMS 1.0 names of the same values (identifier, supportedCRS,
    topLeftCorner): GDAL 3.6, Debian 12's, reads only those.
    """
    matrices = []
    for z in range(MIN_ZOOM, MAX_ZOOM + 1):
        cell = 2 * WORLD_HALF_M / TILE_SIZE / (1 << z)
        matrices.append({
            "id": str(z), "scaleDenominator": cell / METRES_PER_PIXEL_AT_SCALE_1,
            "cellSize": cell, "cornerOfOrigin": "topLeft",
            "pointOfOrigin": [-WORLD_HALF_M, WORLD_HALF_M],
            "tileWidth": TILE_SIZE, "tileHeight": TILE_SIZE,
            "matrixWidth": 1 << z, "matrixHeight": 1 << z,
            "identifier": str(z), "topLeftCorner": [-WORLD_HALF_M, WORLD_HALF_M]})
    return {
        "id": TMS_ID,
        "identifier": TMS_ID,
        "supportedCRS": CRS_3857,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": CRS_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "boundingBox": {"lowerLeft": [-WORLD_HALF_M, -WORLD_HALF_M],
                        "upperRight": [WORLD_HALF_M, WORLD_HALF_M], "crs": CRS_3857},
        "tileMatrices": matrices,
        "links": [link(f"{base}/tileMatrixSets/{TMS_ID}", "self", "application/json",
                       "This tile matrix set")],
    }


def tile_matrix_sets(base: str) -> dict[str, Any]:
    """The list of tile matrix sets: WebMercatorQuad only."""
    url = f"{base}/tileMatrixSets/{TMS_ID}"
    return {"tileMatrixSets": [{
        "id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI,
        "crs": CRS_3857,
        "links": [link(url, "self", "application/json", "WebMercatorQuad"),
                  link(url, REL_TILING_SCHEME, "application/json", "WebMercatorQuad")]}],
        "links": [link(f"{base}/tileMatrixSets", "self", "application/json",
                       "Tile matrix sets")]}


def _tileset_links(tileset_url: str, base: str) -> list[dict[str, Any]]:
    return [
        link(tileset_url, "self", "application/json", "This tileset"),
        link(f"{base}/tileMatrixSets/{TMS_ID}", REL_TILING_SCHEME, "application/json",
             "The WebMercatorQuad tile matrix set"),
        link(f"{tileset_url}/{TILE_TEMPLATE}", "item", MVT_TYPE, "Mapbox vector tiles",
             templated=True),
    ]


def tileset_list(title: str, tileset_url: str, base: str, list_url: str) -> dict[str, Any]:
    """The tilesets of a collection or of the dataset: one vector tileset in WebMercatorQuad."""
    return {
        "links": [link(list_url, "self", "application/json", "Tilesets")],
        "tilesets": [{"title": title, "dataType": "vector", "crs": CRS_3857,
                      "tileMatrixSetURI": TMS_URI, "links": _tileset_links(tileset_url, base)}],
    }


def _properties_schema(layer: Layer, levels: frozenset[Access]) -> dict[str, Any]:
    properties = {"id": {"type": "integer", "title": "Feature id"}}
    for field in tile_fields(layer, levels):
        properties[field.name] = {"type": PROPERTY_TYPES[field.type], "title": field.label_en,
                                  "description": field.label_vi}
    return {"type": "object", "properties": properties}


def _geometry_dimension(layer: Layer) -> int:
    return GEOMETRY_DIMENSIONS[layer.geometry_type.removeprefix("Multi")]


def matrix_limits(layers: tuple[Layer, ...],
                  bounds: tuple[float, ...] | None) -> list[dict[str, Any]]:
    """Per zoom the layers are drawn at, the rows and columns of tiles holding their data."""
    if bounds is None:
        return []
    low = min(layer.minzoom for layer in layers)
    high = max(layer.maxzoom for layer in layers)
    limits = []
    for z in range(low, high + 1):
        xmin, ymin, xmax, ymax = tile_range(tuple(bounds), z)
        limits.append({"tileMatrix": str(z), "minTileRow": ymin, "maxTileRow": ymax,
                       "minTileCol": xmin, "maxTileCol": xmax})
    return limits


def tileset(title: str, layers: tuple[Layer, ...], levels: frozenset[Access], tileset_url: str,
            base: str, bounds: tuple[float, ...] | None, osm: frozenset[str] = frozenset(),
            collection_url: str | None = None) -> dict[str, Any]:
    """Tileset metadata (TMS 2.0): tile URL template, limits, layers and their properties.

    `bounds` is the lon/lat extent of the layers' data (None when they are empty); `osm`
    the layers showing OpenStreetMap data; `collection_url` links a collection's tileset
    to the collection it tiles.
    """
    links = _tileset_links(tileset_url, base)
    if collection_url:
        links.append(link(collection_url, REL_GEODATA, "application/json", "The collection"))
    doc: dict[str, Any] = {
        "title": title,
        "description": "; ".join(layer.description_en or layer.title_en for layer in layers),
        "dataType": "vector",
        "crs": CRS_3857,
        "tileMatrixSetURI": TMS_URI,
        "attribution": attribution(layers, osm),
        "links": links,
        "layers": [{"id": layer.id, "title": layer.title_en, "description": layer.title_vi,
                    "dataType": "vector", "geometryDimension": _geometry_dimension(layer),
                    "minTileMatrix": str(layer.minzoom), "maxTileMatrix": str(layer.maxzoom),
                    "propertiesSchema": _properties_schema(layer, levels)}
                   for layer in layers],
    }
    limits = matrix_limits(layers, bounds)
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
                              "tileMatrix": str(zoom), "crs": CRS84}
    return doc
