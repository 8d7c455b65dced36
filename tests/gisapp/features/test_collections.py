"""Landing page, conformance, collections and queryables, derived from the registry."""
from __future__ import annotations

import pytest
import shapely

from layers import LAYERS, levels_for
from tests.gisapp.features.conftest import BRIDGE_LONLAT, light_rows

PUBLIC = levels_for("public")


def test_landing_page_is_json_for_clients_and_html_for_browsers(lights):
    body = lights.get("/?f=json").get_json()
    rels = {l["rel"] for l in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels
    assert lights.get("/", headers={"Accept": "application/json"}).get_json() == body
    assert lights.get("/", headers={"Accept": "text/html"}).mimetype == "text/html"
    assert lights.get("/", headers={"Accept": "*/*"}).get_json() == body
    assert lights.get("/").mimetype == "text/html"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert lights.get("/", headers={"Accept": browser}).mimetype == "text/html"


def test_conformance_lists_core_geojson_and_cql2(lights):
    classes = lights.get("/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in classes


def test_collections_list_every_public_layer(lights):
    body = lights.get("/collections").get_json()
    assert [c["id"] for c in body["collections"]] == [
        lid for lid, layer in LAYERS.items() if layer.access in PUBLIC]
    assert all(c["itemType"] == "feature" for c in body["collections"])


@pytest.mark.parametrize("layer_id", LAYERS)
def test_every_layer_has_a_collection_with_items_and_queryables_links(lights, layer_id):
    body = lights.get(f"/collections/{layer_id}").get_json()
    assert body["id"] == layer_id and body["title"] == LAYERS[layer_id].title["en"]
    hrefs = {l["rel"] + " " + l["type"]: l["href"] for l in body["links"]}
    assert hrefs["items application/geo+json"].endswith(f"/collections/{layer_id}/items")
    assert "http://www.opengis.net/def/rel/ogc/1.0/queryables application/schema+json" in hrefs


@pytest.mark.parametrize("layer_id", LAYERS)
def test_queryables_are_the_visible_declared_fields(lights, layer_id):
    resp = lights.get(f"/collections/{layer_id}/queryables")
    assert resp.mimetype == "application/schema+json"
    props = resp.get_json()["properties"]
    assert set(props) == {"geom", "id", *(f.name for f in LAYERS[layer_id].visible_fields(PUBLIC))}


def test_queryables_carry_types_and_choices(lights):
    props = lights.get("/collections/street_lights/queryables").get_json()["properties"]
    assert props["wattage"]["type"] == "integer" and props["pole_height"]["type"] == "number"
    assert props["lamp_type"]["enum"] == ["LED", "HPS", "MH"]
    assert "install_year" not in props


def test_collection_extent_is_the_data_bbox(lights):
    bbox = lights.get("/collections/street_lights").get_json()["extent"]["spatial"]["bbox"][0]
    points = [shapely.from_wkt(r["geom"].split(";")[1]) for r in light_rows()]
    expected = shapely.MultiPoint(points).bounds
    assert bbox == pytest.approx(list(expected), abs=1e-5)
    assert bbox[0] == pytest.approx(BRIDGE_LONLAT[0], abs=1e-5)


def test_empty_collection_has_no_extent(lights):
    assert "extent" not in lights.get("/collections/wards").get_json()


def test_unknown_collection_is_404_naming_it(lights):
    body = lights.get("/collections/parcels_secret").get_json()
    assert body["error"]["code"] == "unknown_layer" and "parcels_secret" in body["error"]["message"]


def test_json_documents_refuse_other_formats(lights):
    assert lights.get("/collections?f=xml").status_code == 400
