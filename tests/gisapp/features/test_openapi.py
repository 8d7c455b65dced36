"""/openapi.json covers every route; schemathesis fuzzes it in-process and finds no 5xx."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               missing_required_header,
                                               response_headers_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from layers import LAYERS
from tests.auth_helpers import auth_headers
from tests.land_world import load_land_world

FUZZ = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
FUZZ_FEATURES = settings(FUZZ, max_examples=30)


def test_every_route_has_a_path_item_with_summary(lights_app):
    doc = lights_app.test_client().get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.0")
    for rule in lights_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<([a-z]+:)?{name}>", "{%s}" % name, path)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = doc["paths"][path][method.lower()]
            assert operation["summary"] and operation["responses"]
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == set(rule.arguments)


def test_features_operations_are_fully_described(lights_app):
    doc = lights_app.test_client().get("/openapi.json").get_json()
    items = doc["paths"]["/collections/{layer_id}/items"]["get"]
    params = {p["name"]: p for p in items["parameters"]}
    assert params["layer_id"]["schema"]["enum"] == list(LAYERS)
    assert {"bbox", "bbox-crs", "limit", "offset", "properties", "sortby", "filter",
            "filter-lang", "filter-crs", "f"} <= set(params)
    assert params["limit"]["schema"]["maximum"] == lights_app.extensions[
        "settings"].max_features_per_page
    assert set(items["responses"]["200"]["content"]) == {"application/geo+json", "text/csv",
                                                         "text/html"}
    assert items["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}
    schemas = doc["components"]["schemas"]
    assert set(schemas["street_lights_properties"]["properties"]) == {
        f.name for f in LAYERS["street_lights"].fields if f.access.value == "public"}


def test_api_page_loads_swagger_ui_from_npm(lights_app):
    html = lights_app.test_client().get("/api").get_data(as_text=True)
    assert "/openapi.json" in html and "swagger-ui-bundle.js" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        resp = lights_app.test_client().get(f"/static/node_modules/swagger-ui-dist/{asset}")
        assert resp.status_code == 200 and len(resp.data) > 10_000
        resp.close()


def fuzz(app, tag: str | None, checks: list, budget=FUZZ,
         headers: dict[str, str] | None = None,
         skip: str | None = None) -> tuple[set[str], list[str]]:
    """Run schemathesis over every operation (or one tag's, or all but the `skip` tag's):
    the operations, the failures."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    if tag is not None:
        schema = schema.include(tag=tag)
    if skip is not None:
        schema = schema.exclude(tag=skip)
    failures, operations = [], set()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations.add(f"{operation.method.upper()} {operation.path}")

        @budget
        @given(case=operation.as_strategy())
        def run(case):
            # The in-process transport does not undo gzip; the live-server test covers it.
            case.call_and_validate(checks=checks,
                                   headers={"Accept-Encoding": "identity", **(headers or {})})

        try:
            run()
        except Exception as exc:  # each operation's failure is collected, then all reported
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:1500])
    return operations, failures


def test_no_operation_answers_with_a_server_error(lights_app):
    """Every operation but the features' (73 of 157): the test below fuzzes those with five
    times the examples and not_a_server_error among its checks."""
    operations, failures = fuzz(lights_app, None, [not_a_server_error], skip="features")
    assert {"GET /api/parcels/at", "POST /api/permits/checks", "GET /api/etl/runs",
            "GET /tiles/{layers}/{z}/{x}/{y}.mvt"} <= operations and len(operations) > 60
    assert not {"GET /conformance", "GET /collections/{layer_id}/items"} & operations
    assert failures == []


def test_parcel_operations_give_a_permit_officer_no_server_error(scratch_app, scratch_url):
    load_land_world(scratch_url)
    headers = auth_headers(scratch_url, "permit_officer")
    operations, failures = fuzz(scratch_app, "parcels", [not_a_server_error], FUZZ, headers)
    assert {"GET /api/parcels", "GET /api/parcels/at", "GET /api/parcels/search",
            "POST /api/parcels/{uid}/split", "POST /api/parcels/merge"} <= operations
    assert failures == []


def test_features_responses_conform_to_the_document(lights_app):
    operations, failures = fuzz(lights_app, "features", [
        not_a_server_error, status_code_conformance, content_type_conformance,
        response_schema_conformance], FUZZ_FEATURES)
    assert {"GET /conformance", "GET /collections", "GET /collections/{layer_id}",
            "GET /collections/{layer_id}/items", "GET /collections/{layer_id}/items/{feature_id}",
            "GET /collections/{layer_id}/queryables"} <= operations
    for layer in LAYERS:  # each collection's own paths, with its queryables as parameters
        assert {f"GET /collections/{layer}/items", f"GET /collections/{layer}/queryables",
                f"GET /collections/{layer}/items/{{featureId}}"} <= operations
    assert failures == []


def test_views_add_parameters_bodies_and_responses_with_documented(scratch_app):
    from flask import Blueprint, jsonify

    from gisapp.openapi.annotate import documented, query_param

    bp = Blueprint("example", __name__)

    @bp.post("/example/<int:n>")
    @documented(parameters=[query_param("q", {"type": "string", "maxLength": 5}, "words")],
                request_body={"type": "object", "required": ["a"]},
                responses={"201": {"description": "Made",
                                   "content": {"application/json": {"schema": {}}}}})
    def make(n: int):
        """Make an example."""
        return jsonify({"n": n}), 201

    scratch_app.register_blueprint(bp)
    op = scratch_app.test_client().get("/openapi.json").get_json()["paths"]["/example/{n}"]["post"]
    assert op["summary"] == "Make an example."
    assert [p["name"] for p in op["parameters"]] == ["n", "q"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["required"] == ["a"]
    assert {"201", "4XX"} <= set(op["responses"])


def test_parcel_and_admin_operations_declare_their_parameters_and_bodies(lights_app):
    paths = lights_app.test_client().get("/openapi.json").get_json()["paths"]

    def names(path: str) -> set[str]:
        return {p["name"] for p in paths[path]["get"]["parameters"]}
    assert {"ward", "sheet", "parcel", "former", "as_of"} <= names("/api/parcels")
    assert {"lon", "lat", "x", "y", "crs", "as_of"} <= names("/api/parcels/at")
    assert {"q", "owner", "limit"} <= names("/api/parcels/search")
    assert {"as_of"} <= names("/api/parcels/{uid}")
    assert {"actor", "action", "since", "until", "limit", "offset"} <= names("/api/admin/audit")
    for path in ("/api/parcels/{uid}/split", "/api/parcels/merge", "/api/admin/users",
                 "/api/admin/tokens"):
        assert "requestBody" in paths[path]["post"], path


REQUIRED_MESSAGE = re.compile(r"^([\w-]+) is required")


@schemathesis.check
def required_parameters_are_declared(ctx, response, case):
    """A request with no query parameters answered "X is required": X must be declared required.

    (With some parameters sent, "y is required" may be a pair's other half, as x and y of
    /api/parcels/at, which OpenAPI 3.0 cannot declare.)
    """
    if response.status_code != 400 or case.query:
        return None
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return None
    found = REQUIRED_MESSAGE.match(message)
    declared = {p.name: p.is_required for p in case.operation.query}
    if found and not declared.get(found[1], False):
        raise AssertionError(f"{case.operation.label}: {message!r}, yet {found[1]!r} is "
                             f"{'optional' if found[1] in declared else 'not declared'}")
    return None


def test_the_whole_document_holds_against_the_running_server(live_server):
    """Every operation, through a real gunicorn (gzip and all): no server error, and every
    response as the document says: status, content type, headers, body schema."""
    schema = schemathesis.openapi.from_url(live_server.url + "/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_headers_conformance, response_schema_conformance,
              missing_required_header, required_parameters_are_declared]
    failures, operations = [], set()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations.add(f"{operation.method.upper()} {operation.path}")

        @settings(FUZZ, max_examples=5)
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(checks=checks)

        try:
            run()
        except BaseException as exc:  # a FailureGroup is not an Exception: collect them all
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:1500])
    assert "GET /collections/parcels/items" in operations and len(operations) > 100
    assert failures == []
