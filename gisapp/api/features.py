"""OGC API – Features: conformance, collections, items, one item, queryables (JSON/CSV/HTML)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, jsonify, render_template, request

from gisapp.audit import audit
from gisapp.auth import current_levels
from gisapp.context import engine, settings
from gisapp.errors import BadRequest, NotFound
from gisapp.features import documents, formats
from gisapp.features.crs import parse_crs
from gisapp.features.params import (parse_as_of, parse_feature_id, parse_format,
                                    parse_items_query)
from gisapp.features.query import fetch_extent, fetch_item, fetch_items
from gisapp.heavy_requests import claim_heavy_slot
from gisapp.public_url import base_url
from gisapp.response_privacy import note_fields
from layers import Access, Field, Layer, get_layer

bp = Blueprint("features", __name__)


def wants(*choices: str) -> str:
    """The `f` value the Accept header prefers among `choices` (the first when indifferent)."""
    types = {"json": "application/json", "html": "text/html", "csv": "text/csv"}
    best = request.accept_mimetypes.best_match([types[c] for c in choices]
                                               + ["application/geo+json"])
    return next((c for c in choices if types[c] == best), choices[0])


def visible_layer(layer_id: str) -> Layer:
    """The layer, or 404 when it does not exist or the caller may not see it."""
    layer = get_layer(layer_id)
    if layer.access not in current_levels():
        raise NotFound(f"unknown collection {layer_id!r}")
    return layer


def audit_personal(layer: Layer, fields: tuple[Field, ...], ids: list[int]) -> None:
    """Every read that returns personal fields goes to the audit log; restricted ones are
    never cached."""
    note_fields(fields)
    personal = [f.name for f in fields if f.access is Access.PERSONAL]
    if personal and ids:
        audit("read_personal", f"collections/{layer.id}/items",
              {"fields": personal, "feature_ids": ids[:1000], "returned": len(ids)})


def json_only() -> None:
    """These documents come as JSON only; another `f` is a 400."""
    if request.args.get("f") not in (None, "json"):
        raise BadRequest(f"f {request.args['f']!r} is not supported here; allowed: json")


@bp.get("/conformance")
def conformance():
    """The conformance classes this API implements."""
    json_only()
    return jsonify(documents.conformance())


@bp.get("/collections")
def collections():
    """Every feature collection the caller may read."""
    json_only()
    return jsonify(documents.collections(documents.visible_layers(current_levels()), base_url()))


@bp.get("/collections/<layer_id>")
def collection(layer_id: str):
    """One feature collection, with its spatial extent."""
    json_only()
    layer = visible_layer(layer_id)
    with engine().connect() as conn:
        extent = fetch_extent(conn, layer)
    return jsonify(documents.collection(layer, base_url(), extent))


@bp.get("/collections/<layer_id>/queryables")
def queryables(layer_id: str):
    """The properties the caller may filter and sort on, as JSON Schema."""
    json_only()
    layer = visible_layer(layer_id)
    response = jsonify(documents.queryables(layer, layer.visible_fields(current_levels()),
                                            base_url()))
    response.mimetype = "application/schema+json"
    return response


@bp.get("/collections/<layer_id>/items")
def items(layer_id: str):
    """Features of a collection: bbox, CQL2 filter, properties, sortby, paging, as_of."""
    layer = visible_layer(layer_id)
    levels = current_levels()
    query = parse_items_query(request.args, layer, levels, settings().max_features_per_page,
                              preferred=wants("json", "html"))
    if query.limit > settings().heavy_page_features:
        claim_heavy_slot(f"a page of {query.limit} features")
    with engine().connect() as conn:
        page = fetch_items(conn, layer, query, levels, wkt=query.format == "csv")
    audit_personal(layer, query.fields, [f.id for f in page.features])
    if query.format == "csv":
        return Response(formats.features_csv(page, query.fields), mimetype="text/csv",
                        headers={"Content-Disposition": f"inline; filename={layer.id}.csv",
                                 "Content-Crs": f"<{query.crs}>"})
    args = {k: v for k, v in request.args.items(multi=False)}
    links = formats.paging_links(base_url() + quote(request.path), args, query, page)
    if query.format == "html":
        return render_template("features/items.html", layer=layer, query=query, page=page,
                               links=links)
    response = jsonify(formats.feature_collection(page, layer, base_url(), links))
    response.mimetype = "application/geo+json"
    response.headers["Content-Crs"] = f"<{query.crs}>"
    return response


@bp.get("/collections/<layer_id>/items/<feature_id>")
def item(layer_id: str, feature_id: str):
    """One feature by id."""
    layer = visible_layer(layer_id)
    fmt = parse_format(request.args.get("f"), wants("json", "html"))
    if fmt == "csv":
        raise BadRequest("f 'csv' is for item lists; one feature is json or html")
    as_of = parse_as_of(request.args.get("as_of"), layer)
    crs = parse_crs(request.args.get("crs"), "crs")
    number = parse_feature_id(feature_id)
    fields = layer.visible_fields(current_levels())
    feature = None
    if number is not None:
        with engine().connect() as conn:
            feature = fetch_item(conn, layer, number, fields, as_of, crs)
    if feature is None:
        raise NotFound(f"{layer.id} has no feature {feature_id!r}")
    audit_personal(layer, fields, [feature.id])
    if fmt == "html":
        page = formats.Page([feature], 1)
        return render_template("features/items.html", layer=layer, page=page, links=[],
                               query=None)
    response = jsonify(formats.feature_json(feature, layer, base_url()))
    response.mimetype = "application/geo+json"
    response.headers["Content-Crs"] = f"<{crs}>"
    return response
