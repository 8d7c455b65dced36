"""OGC API – Features JSON documents: landing page, conformance, collections, queryables."""
from __future__ import annotations

from typing import Any

from gisapp.features.crs import CRS84, SUPPORTED_CRS
from gisapp.features.extents import Extent
from layers import LAYERS, Access, Field, FieldType, Layer
from tiles.tilesets import REL_TILESETS_VECTOR, REL_TILING_SCHEMES, TILES_CONFORMANCE

# Exactly the classes tests/gisapp/features/test_conformance.py checks, one test group each.
# Other OGC APIs (Tiles) append theirs to this list.
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
]
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
JSON_SCHEMA_TYPES = {FieldType.TEXT: "string", FieldType.INTEGER: "integer",
                     FieldType.FLOAT: "number", FieldType.DATE: "string",
                     FieldType.BOOLEAN: "boolean"}
GEOMETRY_SCHEMAS = {"Point": "point", "MultiPoint": "multipoint", "LineString": "linestring",
                    "MultiLineString": "multilinestring", "Polygon": "polygon",
                    "MultiPolygon": "multipolygon"}


def visible_layers(levels: frozenset[Access]) -> list[Layer]:
    """The layers a caller with these levels may list; the others do not exist for them."""
    return [layer for layer in LAYERS.values() if layer.access in levels]


def landing_page(base: str) -> dict[str, Any]:
    return {
        "title": "gisapp: Da Nang urban infrastructure and land records",
        "description": "OGC API – Features over every layer of the gisapp registry",
        "links": landing_links(base),
    }


def landing_links(base: str) -> list[dict[str, str]]:
    """The landing page's links; other OGC APIs (Tiles: rel=tiles) add theirs here."""
    return [
        _link(base + "/?f=json", "self", "application/json", "This document"),
        _link(base + "/?f=html", "alternate", "text/html", "This document as HTML"),
        _link(base + "/openapi.json", "service-desc", OPENAPI_TYPE, "The API definition"),
        _link(base + "/api", "service-doc", "text/html", "The API documentation"),
        _link(base + "/conformance", "conformance", "application/json", "Conformance classes"),
        _link(base + "/collections", "data", "application/json", "Collections"),
        *tiles_links(base),
    ]


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE + TILES_CONFORMANCE}


def collection(layer: Layer, base: str, extent: Extent | None = None) -> dict[str, Any]:
    """A collection's description, with its extent when the caller computed one."""
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title["en"],
        "description": layer.description.get("en") or layer.title["en"],
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "storageCrs": CRS84,
        "links": collection_links(layer, base),
        "titles": dict(layer.title),
        "geometryType": layer.geometry_type,
    }
    if extent is not None and (extent.bbox is not None or extent.interval is not None):
        doc["extent"] = extent_document(extent)
    return doc


def collection_links(layer: Layer, base: str) -> list[dict[str, str]]:
    """A collection's links; other OGC APIs (Tiles: rel=tiles) add theirs here."""
    url = f"{base}/collections/{layer.id}"
    return [
        _link(url + "?f=json", "self", "application/json", layer.title["en"]),
        _link(url + "?f=html", "alternate", "text/html", layer.title["en"] + " as HTML"),
        _link(url + "/items", "items", "application/geo+json", "Features as GeoJSON"),
        _link(url + "/items?f=csv", "items", "text/csv", "Features as CSV"),
        _link(url + "/items?f=html", "items", "text/html", "Features as a table and map"),
        _link(url + "/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
              "application/schema+json", "Queryable properties"),
        *tiles_links(base, layer),
    ]


def extent_document(extent: Extent) -> dict[str, Any]:
    """OGC extent: spatial bbox in CRS84 and, for layers with a time field, the interval."""
    doc: dict[str, Any] = {}
    if extent.bbox is not None:
        doc["spatial"] = {"bbox": [list(extent.bbox)], "crs": CRS84}
    if extent.interval is not None:
        doc["temporal"] = {"interval": [list(extent.interval)],
                           "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return doc


def collections(layers: list[Layer], base: str,
                extents: dict[str, Extent] | None = None) -> dict[str, Any]:
    extents = extents or {}
    return {
        "links": [_link(base + "/collections?f=json", "self", "application/json", "Collections"),
                  _link(base + "/collections?f=html", "alternate", "text/html",
                        "Collections as HTML")],
        "collections": [collection(layer, base, extents.get(layer.id)) for layer in layers],
    }


def queryables(layer: Layer, fields: tuple[Field, ...], base: str) -> dict[str, Any]:
    """JSON Schema of the properties a caller may filter on, from the declaration."""
    properties: dict[str, Any] = {
        "geom": {"title": "Geometry", "x-ogc-role": "primary-geometry",
                 "format": f"geometry-{GEOMETRY_SCHEMAS.get(layer.geometry_type, 'any')}"},
        "id": {"title": "Feature id", "type": "integer", "x-ogc-role": "id"},
    }
    for field in fields:
        properties[field.name] = field_schema(field)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{layer.id}/queryables",
        "type": "object",
        "title": layer.title["en"],
        "properties": properties,
        "additionalProperties": False,
    }


def field_schema(field: Field) -> dict[str, Any]:
    """One field as JSON Schema: type, labels, unit, allowed values."""
    schema: dict[str, Any] = {"title": field.label["en"], "description": field.label["vi"],
                              "type": JSON_SCHEMA_TYPES[field.type]}
    if field.type is FieldType.DATE:
        schema["format"] = "date"
    if field.choices:
        schema["enum"] = list(field.choices)
    if field.unit:
        schema["x-unit"] = field.unit
    return schema


def _link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


# --- OGC API – Tiles links (the tiles work; kept apart from the Features lists above) ---
def tiles_links(base: str, layer: Layer | None = None) -> list[dict[str, str]]:
    """Links to the vector tilesets of a collection, or of the dataset and the tiling schemes."""
    if layer is not None:
        return [_link(f"{base}/collections/{layer.id}/tiles", REL_TILESETS_VECTOR,
                      "application/json", "Vector tilesets of this collection")]
    return [_link(base + "/tiles", REL_TILESETS_VECTOR, "application/json",
                  "Vector tilesets of all layers"),
            _link(base + "/tileMatrixSets", REL_TILING_SCHEMES, "application/json",
                  "Tile matrix sets")]
