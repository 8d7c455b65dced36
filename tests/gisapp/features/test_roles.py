"""Who sees what: each role gets exactly the fields its access levels allow, everywhere."""
from __future__ import annotations

import csv
import io

import pytest

from layers import LAYERS, levels_for
from tests.auth_helpers import auth_headers

ROLES = ("public", "planner", "permit_officer", "admin")
LIGHTS = LAYERS["street_lights"]


def visible(layer_id: str, role: str) -> set[str]:
    return {f.name for f in LAYERS[layer_id].visible_fields(levels_for(role))}


@pytest.fixture()
def as_role(lights_url):
    def headers(role: str) -> dict[str, str]:
        return auth_headers(lights_url, role)
    return headers


@pytest.mark.parametrize("role", ROLES)
def test_items_carry_exactly_the_roles_fields(lights, as_role, role):
    body = lights.get("/collections/street_lights/items?limit=3", headers=as_role(role)).get_json()
    assert all(set(f["properties"]) == visible("street_lights", role) for f in body["features"])
    assert ("install_year" in body["features"][0]["properties"]) == (role != "public")


@pytest.mark.parametrize("role", ROLES)
def test_one_item_queryables_and_csv_follow_the_role(lights, as_role, role):
    headers = as_role(role)
    item = lights.get("/collections/street_lights/items/1", headers=headers).get_json()
    assert set(item["properties"]) == visible("street_lights", role)
    props = lights.get("/collections/street_lights/queryables", headers=headers).get_json()
    assert set(props["properties"]) - {"geom", "id"} == visible("street_lights", role)
    text = lights.get("/collections/street_lights/items?f=csv", headers=headers).get_data(
        as_text=True)
    header = next(csv.reader(io.StringIO(text)))
    assert set(header) - {"id", "wkt"} == visible("street_lights", role)


@pytest.mark.parametrize("role, status", [("public", 400), ("planner", 200), ("admin", 200)])
def test_filtering_and_sorting_on_staff_fields_needs_a_staff_role(lights, as_role, role, status):
    headers = as_role(role)
    assert lights.get("/collections/street_lights/items?filter=install_year%3E2030",
                      headers=headers).status_code == status
    assert lights.get("/collections/street_lights/items?sortby=-install_year",
                      headers=headers).status_code == status


def test_staff_filter_finds_the_right_lights_for_a_planner(lights, as_role):
    body = lights.get("/collections/street_lights/items?filter=install_year%20%3E%3D%202030",
                      headers=as_role("planner")).get_json()
    assert [f["properties"]["install_year"] for f in body["features"]] == list(range(2030, 2037))


@pytest.mark.parametrize("role", ROLES)
def test_parcel_items_hide_staff_fields_from_the_public(history_app, scratch_url, role):
    client = history_app.test_client()
    body = client.get("/collections/parcels/items", headers=auth_headers(scratch_url, role)
                      ).get_json()
    assert {k for f in body["features"] for k in f["properties"]} == visible("parcels", role)


@pytest.mark.parametrize("role", ["public", "planner"])
def test_openapi_describes_the_roles_fields(lights, as_role, role):
    doc = lights.get("/openapi.json", headers=as_role(role)).get_json()
    schema = doc["components"]["schemas"]["street_lights_properties"]["properties"]
    assert set(schema) == visible("street_lights", role)
