"""Full parameter and response schemas of the OGC API – Features operations."""
from __future__ import annotations

from typing import Any

from gisapp.features.crs import SHORT_NAMES, SUPPORTED_CRS
from gisapp.features.cql2_parse import MAX_FILTER_BYTES
from gisapp.features.documents import field_schema, visible_layers
from gisapp.features.params import DEFAULT_LIMIT, FILTER_LANGS, FORMATS, MAX_OFFSET
from layers import Access, Field, Layer

ERROR = {"$ref": "#/components/schemas/Error"}
JSON_ERROR = {"application/json": {"schema": ERROR}}
ANY_OBJECT = {"type": "object"}
LINKS = {"type": "array", "items": {"type": "object", "required": ["href"],
                                    "properties": {"href": {"type": "string"},
                                                   "rel": {"type": "string"},
                                                   "type": {"type": "string"},
                                                   "title": {"type": "string"}}}}


def _crs_names() -> list[str]:
    return sorted(SUPPORTED_CRS) + sorted(k for k in SHORT_NAMES if k.startswith(("EPSG", "CRS")))


def _ids(levels: frozenset[Access]) -> list[str]:
    return [layer.id for layer in visible_layers(levels)]


def path_schema(endpoint: str, name: str) -> dict[str, Any] | None:
    """Path parameters of the features routes; collection ids come from the registry."""
    if not endpoint.startswith("features."):
        return None
    if name == "layer_id":
        return {"type": "string", "enum": _ids(frozenset(Access))}
    if name == "feature_id":
        return {"type": "string", "pattern": "^[0-9]{1,18}$"}
    return None


def schemas(levels: frozenset[Access]) -> dict[str, Any]:
    """Feature, FeatureCollection and one properties schema per visible collection."""
    props = {f"{layer.id}_properties": {
        "type": "object", "additionalProperties": False,
        "properties": {f.name: {**field_schema(f), "nullable": True}
                       for f in layer.visible_fields(levels)}}
        for layer in visible_layers(levels)}
    feature = {
        "type": "object", "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer"},
            "geometry": {"type": "object", "required": ["type"], "nullable": True,
                         "properties": {"type": {"type": "string"}}},
            "properties": {"anyOf": [{"$ref": f"#/components/schemas/{name}"}
                                     for name in props]},
            "links": LINKS,
        },
    }
    collection = {
        "type": "object",
        "required": ["type", "features", "numberReturned", "links"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string", "format": "date-time"},
            "links": LINKS,
        },
    }
    return {"Feature": feature, "FeatureCollection": collection, **props}


def _param(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, **extra}


def _items_parameters(levels: frozenset[Access], max_limit: int,
                      layer: Layer | None = None) -> list[dict[str, Any]]:
    """The items parameters: for one collection (its queryables too), or for any."""
    if layer is None:
        names = sorted({f.name for x in visible_layers(levels) for f in x.visible_fields(levels)})
    else:
        names = [f.name for f in layer.visible_fields(levels)]
    crs = _crs_names()
    times = [] if layer is not None and layer.temporal is None else [
        _param("datetime", {"type": "string", "minLength": 1},
               "an RFC 3339 instant or interval start/end ('..' open), or a date; "
               "collections with a time field only")]
    as_of = [] if layer is not None and not layer.versioned else [
        _param("as_of", {"type": "string", "format": "date"},
               "state of a versioned collection (parcels) at the end of this day")]
    queryables = [] if layer is None else [
        _param(f.name, _query_schema(f), f"only features whose {f.name} equals this value")
        for f in layer.visible_fields(levels)]
    return [
        _param("bbox", {"type": "array", "minItems": 4, "maxItems": 6,
                        "items": {"type": "number"}},
               "minx,miny,maxx,maxy (or 6 numbers with heights) in bbox-crs axis order",
               style="form", explode=False),
        _param("bbox-crs", {"type": "string", "enum": crs}, "CRS of bbox; CRS84 by default"),
        _param("limit", {"type": "integer", "minimum": 1, "maximum": max_limit,
                         "default": DEFAULT_LIMIT},
               f"page size; larger values are clamped to {max_limit}"),
        _param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
               "features to skip; follow the next/prev links to page"),
        _param("after", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
               "keyset paging in the default order: features with an id above this one "
               "(next links use it; not with sortby or offset; such pages are not counted)"),
        _param("properties", {"type": "array", "items": {"type": "string", "enum": names}},
               "only these properties (each must belong to the collection)",
               style="form", explode=False),
        _param("sortby", {"type": "string", "pattern": r"^[+-]?[a-z_0-9]+(,[+-]?[a-z_0-9]+)*$"},
               "comma-separated properties, each prefixed + (ascending) or - (descending); "
               "ties are broken by id"),
        _param("filter", {"type": "string", "maxLength": MAX_FILTER_BYTES},
               "a CQL2 filter in filter-lang; properties are the collection's queryables"),
        _param("filter-lang", {"type": "string", "enum": list(FILTER_LANGS)},
               "cql2-text (default) or cql2-json; cql-text is the draft's name for cql2-text"),
        _param("filter-crs", {"type": "string", "enum": crs},
               "CRS of geometry literals in the filter; CRS84 by default"),
        *as_of, *times,
        _param("skipGeometry", {"type": "boolean", "default": False},
               "true: features without their geometry"),
        _param("f", {"type": "string", "enum": list(FORMATS)}, "json (GeoJSON), csv or html"),
        _param("crs", {"type": "string", "enum": crs},
               "CRS of the returned geometries (axis order of that CRS); CRS84 by default"),
        *queryables,
    ]


def _query_schema(field: Field) -> dict[str, Any]:
    """A queryable as a query parameter: its JSON Schema type, without null."""
    schema = {k: v for k, v in field_schema(field).items() if k in ("type", "format", "enum")}
    if schema["type"] == "string" and "enum" not in schema and "format" not in schema:
        schema["minLength"] = 1
    if schema["type"] == "integer":
        schema.update(minimum=-2**63 + 1, maximum=2**63 - 1)
    return schema


def collection_paths(levels: frozenset[Access], max_limit: int) -> dict[str, Any]:
    """Concrete paths per collection, each with exactly its own query parameters.

    OpenAPI matches concrete paths before templated ones, so clients (GDAL, QGIS) read
    each collection's queryables as parameters and its limits from here.
    """
    paths: dict[str, Any] = {}
    for layer in visible_layers(levels):
        url = f"/collections/{layer.id}"
        for suffix, endpoint in (("", "features.collection"),
                                 ("/queryables", "features.queryables"),
                                 ("/items", "features.items"),
                                 ("/items/{featureId}", "features.item"),
                                 ("/items/{featureId}/history", "features.item_history")):
            if endpoint == "features.item_history" and not layer.versioned:
                continue
            op = operation(endpoint, levels, max_limit, layer)
            assert op is not None
            name = suffix.replace("/", "_").replace("{featureId}", "item").strip("_")
            op = {"operationId": f"get_{layer.id}{'_' + name if name else ''}",
                  "summary": f"{layer.title['en']}: {ENDPOINT_SUMMARIES[endpoint]}",
                  "tags": ["features"], **op}
            if "{featureId}" in suffix:
                op["parameters"] = [{"name": "featureId", "in": "path", "required": True,
                                     "schema": {"type": "string",
                                                "pattern": "^[0-9]{1,18}$"}},
                                    *op["parameters"]]
            paths[url + suffix] = {"get": op}
    return paths


ENDPOINT_SUMMARIES = {"features.collection": "the collection", "features.queryables":
                      "queryable properties", "features.items": "features",
                      "features.item": "one feature",
                      "features.item_history": "every version of one feature"}


def operation(endpoint: str, levels: frozenset[Access], max_limit: int,
              layer: Layer | None = None) -> dict[str, Any] | None:
    """Parameters and responses of one features operation, or None for other endpoints."""
    errors = {"400": {"description": "A parameter is invalid", "content": JSON_ERROR},
              "404": {"description": "No such collection or feature", "content": JSON_ERROR}}
    html = {"text/html": {"schema": {"type": "string"}}}
    json_doc = {"application/json": {"schema": ANY_OBJECT}, **html}
    f_json = [_param("f", {"type": "string", "enum": ["json", "html"]}, "json or html")]
    if endpoint == "features.items":
        return {"parameters": _items_parameters(levels, max_limit, layer), "responses": {
            "200": {"description": "A page of features", "content": {
                "application/geo+json": {
                    "schema": {"$ref": "#/components/schemas/FeatureCollection"}},
                "text/csv": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}}}},
            **errors}}
    if endpoint == "features.item":
        as_of = [] if layer is not None and not layer.versioned else [
            _param("as_of", {"type": "string", "format": "date"},
                   "state of a versioned collection at the end of this day")]
        return {"parameters": [
            _param("f", {"type": "string", "enum": ["json", "html"]}, "json or html"),
            _param("crs", {"type": "string", "enum": _crs_names()},
                   "CRS of the returned geometry; CRS84 by default"),
            _param("skipGeometry", {"type": "boolean", "default": False},
                   "true: the feature without its geometry"), *as_of],
            "responses": {"200": {"description": "One feature", "content": {
                "application/geo+json": {"schema": {"$ref": "#/components/schemas/Feature"}},
                "text/html": {"schema": {"type": "string"}}}}, **errors}}
    if endpoint == "features.item_history":
        return {"parameters": [
            _param("f", {"type": "string", "enum": ["json"]}, "json"),
            _param("geometry", {"type": "boolean", "default": False},
                   "true: each version with its geometry (WGS 84)")],
            "responses": {"200": {"description": "The feature's versions, oldest first, with "
                                                 "validity, change and lineage",
                                  "content": {"application/json": {"schema": ANY_OBJECT}}},
                          "404": {"description": "No such collection or feature, or the "
                                                 "collection keeps no history",
                                  "content": JSON_ERROR},
                          "400": errors["400"]}}
    if endpoint == "features.queryables":
        return {"parameters": f_json, "responses": {
            "200": {"description": "JSON Schema of the queryable properties",
                    "content": {"application/schema+json": {"schema": ANY_OBJECT}, **html}},
            **errors}}
    if endpoint in ("features.collection", "features.collections", "features.conformance"):
        return {"parameters": f_json, "responses": {
            "200": {"description": "The document", "content": json_doc}, **errors}}
    if endpoint == "home.index":
        return {"parameters": [_param("f", {"type": "string", "enum": ["json", "html"]},
                                      "json for the OGC API landing document, or html")],
                "responses": {"200": {"description": "Landing page (HTML, or JSON for f=json)",
                                      "content": json_doc},
                              "400": errors["400"]}}
    return None
