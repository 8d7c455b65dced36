"""OGC API – Features: conformance, collections, items, one item, queryables (JSON/CSV/HTML)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from gisapp.api.public_responses import finish_public_response
from gisapp.audit import audit
from gisapp.auth import current_levels
from gisapp.context import settings
from gisapp import layer_access
from gisapp.errors import NotFound
from gisapp.features import documents, formats
from gisapp.features.crs import parse_crs
from gisapp.features.extents import Extent, ExtentCache
from gisapp.features.params import (ITEM_PARAMETERS, check_known, parse_as_of,
                                    parse_boolean, parse_feature_id, parse_format,
                                    parse_items_query)
from gisapp.features.query import fetch_item, fetch_items, fetch_items_geojson
from gisapp.heavy_requests import claim_heavy_slot
from gisapp.public_url import base_url
from gisapp.read_routing import read_connection
from gisapp.response_privacy import note_fields
from gisapp.versions import feature_history
from layers import Access, Field, Layer

bp = Blueprint("features", __name__)
bp.after_request(finish_public_response)
MEDIA_TYPES = {"json": "application/json", "html": "text/html", "csv": "text/csv"}


def wants(*choices: str) -> str:
    """The format `f` names, else the one the Accept header prefers (JSON when indifferent).

    `f` must be one of `choices`; anything else is a 400 naming the allowed values.
    """
    value = request.args.get("f")
    if value is not None:
        return parse_format(value, choices[0], choices)
    best = request.accept_mimetypes.best_match([MEDIA_TYPES[c] for c in choices]
                                               + ["application/geo+json",
                                                  "application/schema+json"])
    return next((c for c in choices if MEDIA_TYPES[c] == best), choices[0])


def visible_layer(layer_id: str) -> Layer:
    """The layer, or 404 when it does not exist or the caller may not see it."""
    return layer_access.visible_layer(layer_id, current_levels())


def audit_personal(layer: Layer, fields: tuple[Field, ...], ids: list[int]) -> None:
    """Every read that returns personal fields goes to the audit log; restricted ones are
    never cached."""
    note_fields(fields)
    personal = [f.name for f in fields if f.access is Access.PERSONAL]
    if personal and ids:
        audit("read_personal", f"collections/{layer.id}/items",
              {"fields": personal, "feature_ids": ids[:1000], "returned": len(ids)})


def items_url(layer: Layer) -> str:
    """The items URL as clients reach it (the public base URL, never the request's Host)."""
    return f"{base_url()}/collections/{layer.id}/items"


def extents(layers: list[Layer]) -> dict[str, Extent]:
    """The layers' extents, from the app's cache (recomputed when their data changed)."""
    cache = current_app.extensions.setdefault("feature_extents", ExtentCache())
    with read_connection([layer.id for layer in layers]) as conn:
        return cache.extents(conn, layers)


def document(doc: dict, fmt: str, template: str, media_type: str = "application/json",
             **context) -> Response:
    """A JSON document, or the HTML page showing it."""
    if fmt == "html":
        return Response(render_template(template, doc=doc, **context),
                        mimetype="text/html")
    response = jsonify(doc)
    response.mimetype = media_type
    return response


@bp.get("/conformance")
def conformance():
    """The conformance classes this API implements."""
    check_known(request.args, ())
    return document(documents.conformance(), wants("json", "html"),
                    "features/conformance.html")


@bp.get("/collections")
def collections():
    """Every feature collection the caller may read, with its extent."""
    check_known(request.args, ())
    fmt = wants("json", "html")
    layers = documents.visible_layers(current_levels())
    doc = documents.collections(layers, base_url(), extents(layers))
    return document(doc, fmt, "features/collections.html")


@bp.get("/collections/<layer_id>")
def collection(layer_id: str):
    """One feature collection, with its spatial (and temporal) extent."""
    check_known(request.args, ())
    fmt = wants("json", "html")
    layer = visible_layer(layer_id)
    doc = documents.collection(layer, base_url(), extents([layer])[layer.id])
    return document(doc, fmt, "features/collection.html", layer=layer)


@bp.get("/collections/<layer_id>/queryables")
def queryables(layer_id: str):
    """The properties the caller may filter and sort on, as JSON Schema."""
    check_known(request.args, ())
    fmt = wants("json", "html")
    layer = visible_layer(layer_id)
    doc = documents.queryables(layer, layer.visible_fields(current_levels()), base_url())
    return document(doc, fmt, "features/queryables.html", "application/schema+json",
                    layer=layer)


@bp.get("/collections/<layer_id>/items")
def items(layer_id: str):
    """Features of a collection: bbox, datetime, CQL2 filter, queryables, sortby, paging."""
    layer = visible_layer(layer_id)
    levels = current_levels()
    query = parse_items_query(request.args, layer, levels, settings().max_features_per_page,
                              preferred=wants("json", "html", "csv"))
    if query.limit > settings().heavy_page_features:
        claim_heavy_slot(f"a page of {query.limit} features")
    args = {k: v for k, v in request.args.items(multi=False)}
    if query.format == "json":
        with read_connection((layer.id,), autocommit=True) as conn:
            page = fetch_items_geojson(conn, layer, query, levels, base_url())
        note_fields(query.fields)  # restricted fields: never stored by a cache
        if any(f.access is Access.PERSONAL for f in query.fields) and page.returned:
            audit_personal(layer, query.fields, [f["id"] for f in json.loads(page.features)])
        links = formats.paging_links(items_url(layer), args, query, page.matched,
                                     page.returned, page.last_id, page.more)
        body = formats.feature_collection_bytes(page.features, page.matched, page.returned,
                                                links)
        return Response(body, mimetype="application/geo+json",
                        headers={"Content-Crs": f"<{query.crs}>"})
    with read_connection((layer.id,)) as conn:
        page = fetch_items(conn, layer, query, levels, wkt=query.format == "csv")
    audit_personal(layer, query.fields, [f.id for f in page.features])
    if query.format == "csv":
        return Response(formats.features_csv(page, query.fields), mimetype="text/csv",
                        headers={"Content-Disposition": f"inline; filename={layer.id}.csv",
                                 "Content-Crs": f"<{query.crs}>"})
    links = formats.paging_links(items_url(layer), args, query, page.number_matched,
                                 len(page.features),
                                 page.features[-1].id if page.features else None)
    geojson = formats.feature_collection(page, layer, base_url(), links)
    return render_template("features/items.html", layer=layer, query=query, page=page,
                           links=links, geojson=geojson)


@bp.get("/collections/<layer_id>/items/<feature_id>")
def item(layer_id: str, feature_id: str):
    """One feature by id."""
    layer = visible_layer(layer_id)
    check_known(request.args, ITEM_PARAMETERS)
    fmt = wants("json", "html")
    as_of = parse_as_of(request.args.get("as_of"), layer)
    crs = parse_crs(request.args.get("crs"), "crs")
    skip = parse_boolean(request.args.get("skipGeometry"), "skipGeometry")
    number = parse_feature_id(feature_id)
    fields = layer.visible_fields(current_levels())
    feature = None
    if number is not None:
        with read_connection((layer.id,)) as conn:
            feature = fetch_item(conn, layer, number, fields, as_of, crs, skip)
    if feature is None:
        raise NotFound(f"{layer.id} has no feature {feature_id!r}")
    audit_personal(layer, fields, [feature.id])
    doc = formats.feature_json(feature, layer, base_url())
    if fmt == "html":
        return render_template("features/item.html", layer=layer, feature=feature, geojson=doc)
    response = jsonify(doc)
    response.mimetype = "application/geo+json"
    response.headers["Content-Crs"] = f"<{crs}>"
    return response



@bp.get("/collections/<layer_id>/items/<feature_id>/history")
def item_history(layer_id: str, feature_id: str):
    """Every version of one feature of a versioned collection, oldest first; geometry=true."""
    layer = visible_layer(layer_id)
    check_known(request.args, ("geometry",))
    wants("json")
    with_geometry = parse_boolean(request.args.get("geometry"), "geometry")
    number = parse_feature_id(feature_id)
    if number is None:
        raise NotFound(f"{layer.id} has no feature {feature_id!r}")
    levels = current_levels()
    with read_connection((layer.id,)) as conn:
        versions = feature_history(conn, layer, number, levels, with_geometry)
    audit_personal(layer, layer.visible_fields(levels), [number])
    url = f"{items_url(layer)}/{number}"
    return jsonify({"collection": layer.id, "id": number, "versions": versions, "links": [
        {"href": f"{url}/history", "rel": "self", "type": "application/json"},
        {"href": url, "rel": "item", "type": "application/geo+json"}]})
