"""/openapi.json describes the tile, OGC API – Tiles and raster operations; they keep to it."""
from __future__ import annotations

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from layers import LAYERS
from tests.gisapp.features.test_openapi import FUZZ, fuzz

from .test_raster import raster_client  # noqa: F401 (fixture)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_ogc_tiles_paths_are_described(city_client):
    doc = city_client.get("/openapi.json").get_json()
    tile = doc["paths"]["/collections/{layer_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/"
                        "{tile_col}"]["get"]
    params = {p["name"]: p["schema"] for p in tile["parameters"]}
    assert params["layer_id"]["enum"] == list(LAYERS)
    assert params["tms_id"]["enum"] == ["WebMercatorQuad"]
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
