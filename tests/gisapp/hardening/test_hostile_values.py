"""Hostile values are 400s naming the field: non-finite and huge numbers in JSON bodies and
query strings, unpaired surrogates, wrong JSON types; and every 405 carries Allow
(issue 11, class 1)."""
from __future__ import annotations

import pytest

from layers.city import CITY
from tests.auth_helpers import auth_headers
from tests.gisapp.permits.known_site import copy_rules
from tests.land_world import E0, N0, UID, load_land_world

SQUARE = {"type": "Polygon", "coordinates": [[[E0 + 11, N0 + 1], [E0 + 19, N0 + 1],
                                              [E0 + 19, N0 + 19], [E0 + 11, N0 + 19],
                                              [E0 + 11, N0 + 1]]]}
CHECK = {"parcel_uid": UID, "use": "residential", "floors": 3, "height_m": 12.0}


@pytest.fixture()
def permits(scratch_app, scratch_url, test_url):
    load_land_world(scratch_url)
    copy_rules(test_url, scratch_url)
    client = scratch_app.test_client()
    headers = {**auth_headers(scratch_url, "permit_officer"),
               "Content-Type": "application/json"}
    return lambda text: client.post("/api/permits/checks", data=text, headers=headers)


def test_a_finite_permit_check_is_saved(permits):
    assert permits('{"parcel_uid": "%s", "use": "residential", "floors": 3, "height_m": 12, '
                   '"footprint_area_m2": 144.5}' % UID).status_code == 201


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e999", "1e308",
                                    "1" + "0" * 30])
def test_a_non_finite_or_huge_footprint_area_is_400_naming_it(permits, number):
    text = ('{"parcel_uid": "%s", "use": "residential", "floors": 3, "height_m": 12, '
            '"footprint_area_m2": %s}' % (UID, number))
    resp = permits(text)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.json["error"]["message"].startswith("footprint_area_m2: ")


def test_a_nested_non_finite_coordinate_is_named_by_its_path(permits):
    import json
    text = json.dumps({**CHECK, "footprint": SQUARE, "footprint_crs": CITY.metric_crs})
    text = text.replace(str(N0 + 19), "NaN", 1)
    resp = permits(text)
    assert resp.status_code == 400
    assert resp.json["error"]["message"].startswith("footprint.coordinates[0][2][1]: ")


def test_an_unpaired_surrogate_is_400_naming_the_field(permits):
    resp = permits('{"parcel_uid": "\\ud800", "use": "residential"}')
    assert resp.status_code == 400
    assert resp.json["error"]["message"].startswith("parcel_uid: ")


@pytest.mark.parametrize("url,name", [
    ("/api/analysis/lighting/unlit?ward=20242&distance_m=Infinity", "distance_m"),
    ("/api/analysis/lighting/unlit?ward=20242&offset_m=NaN", "offset_m"),
    ("/api/analysis/lighting/unlit?ward=20242&min_length_m=1e999", "min_length_m"),
    ("/api/analysis/drainage/trace?node=x&catchment_m=-inf", "catchment_m"),
    ("/api/parcels/at?lon=1e999&lat=16", "lon"),
    ("/api/parcels/at?x=550000&y=nan", "y"),
    ("/rasters/elevation/14/13079/7566.png?min=NaN&max=1", "min"),
    ("/rasters/elevation/14/13079/7566.png?min=0&max=1e999", "max"),
    ("/collections/parcels/items?bbox=Infinity,0,1,1", "bbox"),
])
def test_non_finite_query_numbers_are_400_naming_the_parameter(client, test_url, url, name):
    resp = client.get(url, headers=auth_headers(test_url, "admin"))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert name in resp.json["error"]["message"]


def test_every_405_carries_allow(app):
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if "PUT" in rule.methods:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", "1").replace(f"<int:{name}>", "1") \
                .replace(f"<string:{name}>", "1").replace(f"<path:{name}>", "1")
        resp = client.put(path)
        assert resp.status_code == 405, (rule.rule, resp.status_code)
        assert set(resp.headers["Allow"].split(", ")) >= rule.methods - {"OPTIONS"}, rule.rule
        assert resp.json["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("check_id", ["9223372036854775808", "9" * 5000])
def test_an_id_beyond_bigint_names_nothing(client, test_url, check_id):
    resp = client.get(f"/api/permits/checks/{check_id}",
                      headers=auth_headers(test_url, "permit_officer"))
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("body,name", [
    ({"layer": "parcels", "polygon": None, "group_by": ["land_use"]}, "group_by"),
    ({"layer": "parcels", "polygon": None, "sum": {"a": 1}}, "sum"),
])
def test_a_list_or_object_where_text_belongs_is_400_naming_it(client, body, name):
    resp = client.post("/api/analysis/within", json=body)
    assert resp.status_code == 400
    assert resp.json["error"]["message"] == f"{name} must be text, not " + (
        "an array" if isinstance(body[name], list) else "an object")
