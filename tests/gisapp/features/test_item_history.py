"""Every versioned collection answers an item's history, as parcels' own endpoint does."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.pipeline import ImportRequest, run_import
from layers import LAYERS, Access, Layer
from tests.gisapp.features.conftest import BRIDGE_LONLAT
from tests.world import field_value, row_values

VERSIONED = [layer for layer in LAYERS.values() if layer.versioned]


def changed_field(layer: Layer):
    """A public, imported, non-key field whose test values 0 and 1 differ."""
    return next(f for f in layer.imported_fields
                if f.access is Access.PUBLIC and f.name not in layer.key
                and field_value(f, 0) != field_value(f, 1))


def geometry(layer: Layer) -> dict:
    """A small GeoJSON geometry of the layer's type beside the Dragon Bridge."""
    lon, lat = BRIDGE_LONLAT
    ring = [[lon, lat], [lon + .001, lat], [lon + .001, lat + .001], [lon, lat + .001], [lon, lat]]
    line = [[lon, lat], [lon + .001, lat + .001]]
    return {"Point": {"type": "Point", "coordinates": [lon, lat]},
            "LineString": {"type": "LineString", "coordinates": line},
            "MultiLineString": {"type": "MultiLineString", "coordinates": [line]},
            "Polygon": {"type": "Polygon", "coordinates": [ring]},
            "MultiPolygon": {"type": "MultiPolygon", "coordinates": [[ring]]},
            }[layer.geometry_type]


def source_file(tmp_path: Path, layer: Layer, properties: dict, name: str) -> Path:
    """One feature of the layer as GeoJSON."""
    path = tmp_path / f"{layer.id}-{name}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": geometry(layer), "properties": properties}]},
        default=str))
    return path


def test_the_registry_has_versioned_layers():
    assert {layer.id for layer in VERSIONED} >= {"parcels", "zoning"}


@pytest.mark.parametrize("layer", VERSIONED, ids=lambda layer: layer.id)
def test_an_imported_then_updated_feature_has_two_versions(scratch_url, scratch_app, tmp_path,
                                                           layer):
    field = changed_field(layer)
    first = row_values(layer, 0)
    second = {**first, field.name: field_value(field, 1)}
    assert run_import(scratch_url, ImportRequest(
        layer.id, source_file(tmp_path, layer, first, "first"))).status == "succeeded"
    assert run_import(scratch_url, ImportRequest(
        layer.id, source_file(tmp_path, layer, second, "second"), mode="upsert")).status \
        == "succeeded"
    client = scratch_app.test_client()
    [feature] = client.get(f"/collections/{layer.id}/items").get_json()["features"]

    resp = client.get(f"/collections/{layer.id}/items/{feature['id']}/history")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert (body["collection"], body["id"]) == (layer.id, feature["id"])
    assert [(v["change"], v["properties"][field.name], v["current"], v["feature_id"])
            for v in body["versions"]] == [
        ("insert", first[field.name], False, feature["id"]),
        ("update", second[field.name], True, feature["id"])]
    assert body["versions"][0]["valid_to"] == body["versions"][1]["valid_from"]
    assert "geometry" not in body["versions"][0]
    with_geometry = client.get(f"/collections/{layer.id}/items/{feature['id']}/history"
                               "?geometry=true").get_json()["versions"]
    assert [v["geometry"]["type"] for v in with_geometry] == [layer.geometry_type] * 2
    assert {"rel": "item", "type": "application/geo+json",
            "href": f"http://localhost/collections/{layer.id}/items/{feature['id']}"} \
        in body["links"]


@pytest.mark.parametrize("url, status, words", [
    ("/collections/roads/items/1/history", 404, "roads keeps no history; versioned layers: "),
    ("/collections/zoning/items/424242/history", 404, "no recorded versions of feature 424242"),
    ("/collections/zoning/items/x1/history", 404, "zoning has no feature 'x1'"),
    ("/collections/zoning/items/1/history?geometry=maybe", 400, "must be true or false"),
    ("/collections/zoning/items/1/history?as_of=2024-01-01", 400, "'as_of'"),
    ("/collections/zoning/items/1/history?f=html", 400, "html"),
])
def test_bad_history_requests_name_what_is_wrong(scratch_app, url, status, words):
    resp = scratch_app.test_client().get(url)
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert words in resp.get_json()["error"]["message"]


def test_openapi_describes_history_for_versioned_collections_only(scratch_app):
    paths = scratch_app.test_client().get("/openapi.json").get_json()["paths"]
    described = {p.split("/")[2] for p in paths
                 if p.startswith("/collections/") and p.endswith("/{featureId}/history")
                 and p.split("/")[2] != "{layer_id}"}
    assert described == {layer.id for layer in VERSIONED if layer.access is Access.PUBLIC}
