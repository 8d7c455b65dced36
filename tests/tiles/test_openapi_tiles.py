"""/openapi.json describes the tile, OGC API – Tiles and raster operations; they keep to it."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from layers import LAYERS

from .conftest import center_tile
from .test_raster import raster_client  # noqa: F401 (fixture)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
FUZZ = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def fuzz(app, tag: str, checks: list, budget=FUZZ) -> tuple[set[str], list[str]]:
    """Run schemathesis over one tag's operations: the operations, the failures."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).include(tag=tag)
    failures, operations = [], set()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations.add(f"{operation.method.upper()} {operation.path}")

        @budget
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(checks=checks)

        try:
            run()
        except Exception as exc:  # each operation's failure is collected, then all reported
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:1500])
    return operations, failures


def test_ogc_tiles_paths_are_described(city_client):
    doc = city_client.get("/openapi.json").get_json()
    tile = doc["paths"]["/collections/{layer_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/"
                        "{tile_col}"]["get"]
    params = {p["name"]: p["schema"] for p in tile["parameters"]}
    assert params["layer_id"]["enum"] == list(LAYERS)
    assert params["tms_id"]["enum"] == ["WebMercatorQuad", "WorldCRS84Quad"]
    assert set(tile["responses"]) >= {"200", "204", "400"}
    assert "application/vnd.mapbox-vector-tile" in tile["responses"]["200"]["content"]
    for path in ("/tileMatrixSets", "/tileMatrixSets/{tms_id}", "/tiles", "/tiles/{tms_id}",
                 "/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
                 "/collections/{layer_id}/tiles", "/collections/{layer_id}/tiles/{tms_id}",
                 "/rasters/{name}.tif", "/rasters/{name}/value", "/rasters/{name}/summary"):
        assert doc["paths"][path]["get"]["summary"], path
    value = {p["name"]: p for p in doc["paths"]["/rasters/{name}/value"]["get"]["parameters"]}
    assert value["lon"]["required"] and value["lat"]["required"]


def test_ogc_tiles_responses_conform_to_the_document(make_app):
    operations, failures = fuzz(make_app(), "ogc_tiles", CHECKS, FUZZ)
    assert len(operations) == 8
    assert failures == []


def test_tile_and_raster_responses_conform_to_the_document(raster_client):
    app = raster_client.application
    for tag in ("tiles", "raster_data"):
        operations, failures = fuzz(app, tag, CHECKS, FUZZ)
        assert operations and failures == []


def validate(app, path: str, method: str = "GET", **parts) -> int:
    """Call one operation with these parts and check the answer against the document."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    case = schema[path][method].Case(**parts)
    response = case.call_and_validate(checks=CHECKS)
    return response.status_code


def test_real_tiles_documents_and_files_conform_to_the_document(make_app, raster_client):
    tile = center_tile()
    app = make_app()
    ogc = "/collections/{layer_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}"
    assert validate(app, ogc, path_parameters={
        "layer_id": "parcels", "tms_id": "WebMercatorQuad", "tile_matrix": str(tile.z),
        "tile_row": str(tile.y), "tile_col": str(tile.x)}) == 200
    assert validate(app, "/tiles/{layers}/{z}/{x}/{y}.mvt", path_parameters={
        "layers": "parcels", "z": str(tile.z), "x": str(tile.x), "y": str(tile.y)}) == 200
    assert validate(app, "/collections/{layer_id}/tiles/{tms_id}", path_parameters={
        "layer_id": "parcels", "tms_id": "WebMercatorQuad"}) == 200
    assert validate(app, "/tileMatrixSets/{tms_id}",
                    path_parameters={"tms_id": "WebMercatorQuad"}) == 200
    rasters = raster_client.application
    assert validate(rasters, "/rasters/{name}.tif", path_parameters={"name": "elevation"}) == 200
    assert validate(rasters, "/rasters/{name}.tif", path_parameters={"name": "elevation"},
                    headers={"Range": "bytes=0-99"}) == 206
    assert validate(rasters, "/rasters/{name}/summary", path_parameters={"name": "elevation"},
                    query={"bbox": "108.2,16.0,108.3,16.1"}) == 200
