"""/api/layers: the registry as the web map reads it, filtered by the caller's access."""
from __future__ import annotations

import pytest

from gisapp.api.layer_catalogue import describe_layers
from layers import LAYERS, ROLES, THEMES, Access, levels_for
from layers.city import CITY


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_every_public_layer_is_listed_with_both_titles_theme_and_legend(client, layer_id):
    layer = LAYERS[layer_id]
    listed = {entry["id"]: entry for entry in client.get("/api/layers").json["layers"]}
    entry = listed[layer_id]
    assert entry["title"] == layer.title
    assert entry["theme"] in THEMES
    assert entry["legend"][-1]["color"] == layer.style.color
    assert len(entry["legend"]) == 1 + (len(layer.style.by[1]) if layer.style.by else 0)


def test_features_shown_only_from_a_higher_zoom_are_listed_with_their_names(client):
    listed = {entry["id"]: entry for entry in client.get("/api/layers").json["layers"]}
    assert listed["drainage_nodes"]["feature_minzoom"] == {
        "field": "kind", "minzoom": 15,
        "values": [{"value": "manhole", "label": {"vi": "Hố ga", "en": "Manhole"}},
                   {"value": "inlet", "label": {"vi": "Cửa thu nước", "en": "Inlet"}}]}
    assert listed["parcels"]["feature_minzoom"] is None


def test_the_city_is_served_with_its_view_extent_crs_and_time_zone(client):
    city = client.get("/api/layers").json["city"]
    assert city == {"id": "da_nang", "name": {"vi": "Đà Nẵng", "en": "Da Nang"},
                    "center": [108.2208, 16.0678], "zoom": 13,
                    "bounds": [107.208588, 14.953287, 112.736122, 17.120279],
                    "timezone": "Asia/Ho_Chi_Minh",
                    "metric_crs": {"code": CITY.metric_crs, "name": "VN-2000 / TM-3 107°45′",
                                   "central_meridian": 107.75}}


def test_themes_keep_registry_order_with_both_titles(client):
    themes = client.get("/api/layers").json["themes"]
    assert [t["id"] for t in themes] == list(THEMES)
    assert all(set(t["title"]) == {"vi", "en"} for t in themes)


@pytest.mark.parametrize("role", list(ROLES))
def test_fields_are_those_the_role_may_read(role):
    levels = levels_for(role)
    for entry in describe_layers(levels)["layers"]:
        layer = LAYERS[entry["id"]]
        assert [f["name"] for f in entry["fields"]] == [f.name for f in layer.visible_fields(levels)]


def test_public_callers_get_no_staff_field_labels(client):
    staff = {(layer.id, f.name) for layer in LAYERS.values() for f in layer.fields
             if f.access is not Access.PUBLIC}
    listed = {(entry["id"], f["name"]) for entry in client.get("/api/layers").json["layers"]
              for f in entry["fields"]}
    assert staff and not staff & listed


@pytest.mark.parametrize("role", list(ROLES))
def test_tables_are_listed_only_for_roles_that_may_read_them(role):
    from layers import TABLES

    levels = levels_for(role)
    listed = {t["id"] for t in describe_layers(levels)["tables"]}
    assert listed == {t.id for t in TABLES.values() if t.access in levels}


def test_coded_values_and_legend_entries_carry_their_names(client):
    layers = {la["id"]: la for la in client.get("/api/layers").get_json()["layers"]}
    status = next(f for f in layers["street_lights"]["fields"] if f["name"] == "status")
    assert status["values"]["working"] == {"vi": "Đang hoạt động", "en": "Working"}
    land_use = next(f for f in layers["parcels"]["fields"] if f["name"] == "land_use")
    assert land_use["values"]["ODT"] == {"vi": "Đất ở tại đô thị", "en": "Urban residential land"}
    free_text = next(f for f in layers["parcels"]["fields"] if f["name"] == "address")
    assert free_text["values"] == {}
    odt = next(e for e in layers["parcels"]["legend"] if e["value"] == "ODT")
    assert odt["label"]["vi"] == "Đất ở tại đô thị"


def test_fields_say_how_their_values_are_written(client):
    """Units in both languages, years without grouping, codes shown beside their names."""
    body = client.get("/api/layers").get_json()
    fields = {(layer["id"], f["name"]): f for layer in body["layers"] for f in layer["fields"]}
    assert fields[("flood_zones", "return_period")]["unit_label"] == {"vi": "năm", "en": "years"}
    assert fields[("parcels", "legal_area")]["unit_label"] == {"vi": "m²", "en": "m²"}
    assert fields[("parcels", "land_use")]["shows_code"] is True
    assert fields[("wifi_aps", "status")]["shows_code"] is False
    assert all(f["year"] is False for f in fields.values())  # years installed: staff fields
    assert body["changes"]["split"] == {"vi": "Tách thửa", "en": "Split"}
