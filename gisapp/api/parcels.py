"""Parcel lookup, search, history, split and merge: thin views over gisapp.land."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from gisapp.audit import audit
from gisapp.auth import current_levels, require_role
from gisapp.context import engine
from gisapp.errors import BadRequest, Forbidden
from gisapp.land import edit_requests, edits, history, lookup, search
from gisapp.land.points import DEFAULT_XY_CRS, parse_point
from gisapp.land.source import parse_as_of
from gisapp.openapi.annotate import documented, query_param
from gisapp.read_routing import read_connection
from gisapp.response_privacy import carries, note_tables
from layers import Access
from layers.land import LAND_USES, PARCELS, PARTIES, RIGHTS

bp = Blueprint("parcels", __name__, url_prefix="/api/parcels")
EDITORS = ("permit_officer", "admin")

# OpenAPI detail for /openapi.json (the views parse and check these themselves).
AS_OF = query_param("as_of", {"type": "string", "format": "date"},
                    "The parcel as it was at the end of this day (Da Nang time), YYYY-MM-DD")
NUMBER = {"type": "integer", "minimum": 0, "maximum": 999_999_999}
POLYGON = {"type": "object", "required": ["type", "coordinates"],
           "properties": {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
                          "coordinates": {"type": "array"}},
           "description": "GeoJSON geometry in WGS 84 lon/lat"}
PARCEL_NO = {"type": "integer", "minimum": 1, "maximum": 99_999_999}
CREATED = {"201": {"description": "Created", "content": {"application/json": {"schema": {
    "type": "object"}}}}}


def _int(name: str, required: bool = True) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        if required:
            raise BadRequest(f"{name} is required")
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise BadRequest(f"{name}={value!r} must be a positive integer")
    return int(value)


def _limit() -> int:
    limit = _int("limit", required=False)
    limit = 20 if limit is None else limit
    if not 1 <= limit <= search.MAX_LIMIT:
        raise BadRequest(f"limit={limit} is outside 1-{search.MAX_LIMIT}")
    return limit


def _links(uid: str) -> list[dict]:
    base = f"/api/parcels/{uid}"
    return [{"rel": "self", "href": base, "type": "application/json"},
            {"rel": "history", "href": f"{base}/history", "type": "application/json"},
            {"rel": "report", "href": f"{base}/report", "type": "application/json"},
            {"rel": "report", "href": f"{base}/report?f=html", "type": "text/html"},
            {"rel": "collection", "href": "/collections/parcels", "type": "application/json"},
            {"rel": "tiles", "href": "/tiles/parcels.json", "type": "application/json"}]


def _respond(doc: dict, endpoint: str):
    """Add links; audit the read when it carried personal data."""
    doc["links"] = _links(doc["parcel_uid"])
    note_tables(current_levels(), PARCELS, LAND_USES, RIGHTS, PARTIES)
    if doc.pop("personal"):
        audit("parcel.read_personal", doc["parcel_uid"],
              {"endpoint": endpoint, "as_of": doc["as_of"]})
    return jsonify(doc)


@bp.get("/<string:uid>")
@documented([AS_OF])
def parcel_by_uid(uid: str):
    """One parcel by its id (ward-former ward-sheet-parcel); `as_of=YYYY-MM-DD` for the past."""
    as_of = parse_as_of(request.args.get("as_of"))
    with read_connection(autocommit=True) as conn:
        doc = lookup.find_by_uid(conn, uid, current_levels(), as_of)
    return _respond(doc, "uid")


@bp.get("")
@documented([query_param("ward", {"type": "string", "minLength": 1}, "Ward code", True),
             query_param("sheet", NUMBER, "Map sheet number", True),
             query_param("parcel", NUMBER, "Parcel number", True),
             query_param("former", {"type": "string"}, "Former ward code, when the key "
                         "exists in several former wards"), AS_OF])
def parcel_by_key():
    """One parcel by key: ward, sheet, parcel (and former ward when needed); `as_of` optional."""
    key = lookup.ParcelKey(ward_code=request.args.get("ward") or _missing("ward"),
                           sheet_no=_int("sheet"), parcel_no=_int("parcel"),
                           former_ward_code=request.args.get("former") or None)
    as_of = parse_as_of(request.args.get("as_of"))
    with read_connection(autocommit=True) as conn:
        doc = lookup.find_by_key(conn, key, current_levels(), as_of)
    return _respond(doc, "key")


def _missing(name: str):
    raise BadRequest(f"{name} is required (e.g. ward=20242&sheet=14&parcel=125)")


@bp.get("/at")
@documented([query_param("lon", {"type": "number"}, "Longitude (WGS 84), with lat"),
             query_param("lat", {"type": "number"}, "Latitude (WGS 84), with lon"),
             query_param("x", {"type": "number"}, "Easting in crs, with y"),
             query_param("y", {"type": "number"}, "Northing in crs, with x"),
             query_param("crs", {"type": "string"}, f"EPSG code of x/y (default {DEFAULT_XY_CRS})"),
             AS_OF])
def parcel_at_point():
    """The parcel at a point: lon/lat (WGS 84) or x/y with crs (default: the city's metric CRS)."""
    lon, lat = parse_point(request.args)
    as_of = parse_as_of(request.args.get("as_of"))
    with read_connection(autocommit=True) as conn:
        doc = lookup.find_at_point(conn, lon, lat, current_levels(), as_of)
    return _respond(doc, "point")


@bp.get("/search")
@documented([query_param("q", {"type": "string", "maxLength": search.MAX_QUERY},
                         "Address, street, ward or parcel number; accents optional"),
             query_param("owner", {"type": "string", "maxLength": search.MAX_QUERY},
                         "Holder name or ID number (permit officers and admins; audited)"),
             query_param("limit", {"type": "integer", "minimum": 1,
                                   "maximum": search.MAX_LIMIT}, "Most results to return")])
def parcel_search():
    """Search by `q` (address, street, ward, parcel number) or `owner` (permit officers)."""
    limit = _limit()
    if "owner" in request.args:
        if Access.PERSONAL not in current_levels():
            raise Forbidden("searching by owner needs role permit_officer or admin")
        owner = request.args["owner"]
        with read_connection(autocommit=True) as conn:
            hits = search.search_owner(conn, owner, limit)
        note_tables(current_levels(), PARTIES)
        audit("parcel.search_owner", None, {"owner": owner, "results": len(hits)})
        return jsonify({"query": {"owner": owner}, "results": hits})
    with read_connection(autocommit=True) as conn:
        hits = search.search_text(conn, request.args.get("q"), limit)
    for hit in hits:
        hit["links"] = [{"rel": "self", "href": f"/api/parcels/{hit['parcel_uid']}"}]
    return jsonify({"query": {"q": request.args.get("q")}, "results": hits})


@bp.get("/<string:uid>/history")
@carries(PARCELS)
@documented([query_param("geometry", {"type": "string", "enum": ["true", "false", "1", "0"]},
                         "Include each version's geometry")])
def parcel_history(uid: str):
    """Every version of a parcel with valid_from/valid_to, change and lineage; ?geometry=true."""
    with_geometry = request.args.get("geometry") in ("1", "true")
    with read_connection(autocommit=True) as conn:
        versions = history.parcel_history(conn, uid, current_levels(), with_geometry)
    return jsonify({"parcel_uid": uid, "versions": versions, "links": _links(uid)})


@bp.post("/<string:uid>/split")
@documented(request_body={
    "type": "object", "required": ["parts"],
    "properties": {"parts": {"type": "array", "minItems": 2, "maxItems": edit_requests.MAX_PARTS,
                             "items": {"type": "object", "required": ["geometry"],
                                       "properties": {"geometry": POLYGON,
                                                      "parcel_no": PARCEL_NO}}}}},
            responses=CREATED)
@require_role(*EDITORS)
def parcel_split(uid: str):
    """Split a parcel into 2+ polygons that cover it without overlapping."""
    body = edit_requests.parse_split(request.get_json(silent=True))
    with engine().begin() as conn:
        children = edits.split_parcel(conn, uid, body)
        audit("parcel.split", uid, {"children": children}, conn=conn)
    return jsonify({"parent": uid, "children": children,
                    "links": [_links(c)[0] for c in children]}), 201


@bp.post("/merge")
@documented(request_body={
    "type": "object", "required": ["parcels"],
    "properties": {"parcels": {"type": "array", "minItems": 2,
                               "maxItems": edit_requests.MAX_PARTS, "uniqueItems": True,
                               "items": {"type": "string", "minLength": 1, "maxLength": 100}},
                   "parcel_no": PARCEL_NO}},
            responses=CREATED)
@require_role(*EDITORS)
def parcel_merge():
    """Merge adjacent parcels of one map sheet into one new parcel."""
    body = edit_requests.parse_merge(request.get_json(silent=True))
    with engine().begin() as conn:
        uid = edits.merge_parcels(conn, body)
        audit("parcel.merge", uid, {"merged_from": list(body.parcels)}, conn=conn)
    return jsonify({"parcel_uid": uid, "merged_from": list(body.parcels),
                    "links": _links(uid)}), 201
