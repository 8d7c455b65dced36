"""Walk `app.url_map`: every route becomes a path item; features routes get full schemas."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from gisapp.openapi import features_spec, tiles_spec
from gisapp.openapi.annotate import view_spec
from layers import Access

SKIPPED_ENDPOINTS = ("static",)
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"},
                                            "message": {"type": "string"}}}},
}
ERROR_RESPONSE = {"description": "An error: what was wrong and what is allowed",
                  "content": {"application/json": {
                      "schema": {"$ref": "#/components/schemas/Error"}}}}


def build_document(app: Flask, levels: frozenset[Access], max_limit: int) -> dict[str, Any]:
    """The OpenAPI document as the caller with these access levels may use it."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        path, parameters = openapi_path(rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            operation = (features_spec.operation(rule.endpoint, levels, max_limit)
                         or tiles_spec.operation(rule.endpoint) or view_spec(view))
            operation = {
                "operationId": f"{method.lower()}_{rule.endpoint.replace('.', '_')}",
                "summary": summary(view),
                "tags": [rule.endpoint.split(".")[0]],
                "parameters": [*parameters, *operation.pop("parameters", [])],
                "responses": {**generic_responses(), **operation.pop("responses", {})},
                **operation,
            }
            paths.setdefault(path, {})[method.lower()] = operation
    for path, item in features_spec.collection_paths(levels, max_limit).items():
        for op in item.values():
            op["responses"] = {**generic_responses(), **op["responses"]}
        paths[path] = item
    return {
        "openapi": "3.0.3",
        "info": {"title": "gisapp API",
                 "description": "Da Nang urban infrastructure and land records: OGC API – "
                                "Features with CQL2, parcels, permits, tiles, imports, "
                                "accounts. Errors are {\"error\": {\"code\", \"message\"}}.",
                 "version": "1.0"},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **features_spec.schemas(levels)},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
    }


def openapi_path(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """`/a/<int:b>` as `/a/{b}`, with a path parameter per converter."""
    parameters = []
    for name, converter in rule._converters.items():
        parameters.append({"name": name, "in": "path", "required": True,
                           "schema": features_spec.path_schema(rule.endpoint, name)
                           or tiles_spec.path_schema(rule.endpoint, name)
                           or converter_schema(converter)})
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
    return path, parameters


def converter_schema(converter: Any) -> dict[str, Any]:
    kind = type(converter).__name__
    if isinstance(converter, IntegerConverter):
        return {"type": "integer", "minimum": 0 if not getattr(converter, "signed", False)
                else -2**63, "maximum": 2**63 - 1}
    if kind == "FloatConverter":
        return {"type": "number"}
    if kind == "AnyConverter":
        return {"type": "string", "enum": sorted(getattr(converter, "items", []))}
    if kind == "PathConverter":
        return {"type": "string", "minLength": 1}
    return {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}


def summary(view: Any) -> str:
    doc = (view.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else view.__name__.replace("_", " ")


def generic_responses() -> dict[str, Any]:
    return {"200": {"description": "Success"}, "4XX": ERROR_RESPONSE}
