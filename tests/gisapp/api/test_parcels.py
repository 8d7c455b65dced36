"""Parcel lookup by id, key and point; search; history and as_of; the personal-data matrix."""
from __future__ import annotations

import psycopg
import pytest

from layers import ROLES, levels_for
from layers.city import CITY
from layers.land import PARCELS, PARTIES, RIGHTS
from layers.model import Access
from tests.auth_helpers import auth_headers
from tests.land_world import (HOA_CUONG, LEFT, OTHER_FORMER, POINT_IN_125, RIGHT, UID,
                              load_land_world, lonlat)


@pytest.fixture()
def scratch_url(kept_world) -> str:
    """The land world (built once, kept while the tests leave it unchanged)."""
    return kept_world(load_land_world)


@pytest.fixture()
def world(scratch_app):
    return scratch_app.test_client()


def _audit_actions(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT actor, action, target FROM audit_log ORDER BY id").fetchall()


def test_parcel_by_id_carries_land_use_areas_ward_and_links(world):
    doc = world.get(f"/api/parcels/{UID}").json
    assert doc["parcel_uid"] == UID
    assert doc["key"] == {"ward_code": "20242", "former_ward_code": "20245", "sheet_no": 14,
                          "parcel_no": 125}
    assert doc["land_use"]["code"] == "ODT"
    assert doc["land_use"]["name_vi"] == "Đất ở tại đô thị"
    assert doc["land_use"]["name_en"] == "Urban residential land"
    assert doc["legal_area"] == 199.5
    assert doc["computed_area"] == pytest.approx(200.0, abs=0.1)
    assert doc["ward"] == {"code": "20242", "name": "Hải Châu"}
    assert doc["address"] == "12 Trần Phú"
    assert [u["land_use"] for u in doc["land_uses"]] == ["CLN", "ODT"]
    assert doc["geometry"]["type"] == "MultiPolygon"
    rels = {link["rel"]: link["href"] for link in doc["links"]}
    assert rels["self"] == f"/api/parcels/{UID}" and rels["history"].endswith("/history")
    assert f"/api/parcels/{UID}/report" in [link["href"] for link in doc["links"]]


def test_neighbours_are_the_touching_parcels(world):
    doc = world.get(f"/api/parcels/{UID}").json
    assert [n["parcel_uid"] for n in doc["neighbours"]] == [LEFT, RIGHT]


def test_unknown_parcel_is_404(world):
    resp = world.get("/api/parcels/20242-20245-14-999")
    assert resp.status_code == 404 and "20242-20245-14-999" in resp.json["error"]["message"]


def test_parcel_by_key(world):
    doc = world.get("/api/parcels?ward=20242&sheet=14&parcel=124").json
    assert doc["parcel_uid"] == LEFT


def test_key_needing_the_former_ward_is_409_naming_candidates(world):
    resp = world.get("/api/parcels?ward=20242&sheet=14&parcel=125")
    assert resp.status_code == 409
    assert UID in resp.json["error"]["message"] and OTHER_FORMER in resp.json["error"]["message"]
    doc = world.get("/api/parcels?ward=20242&sheet=14&parcel=125&former=20246").json
    assert doc["parcel_uid"] == OTHER_FORMER


@pytest.mark.parametrize("query", ["sheet=14&parcel=1", "ward=20242&parcel=1",
                                   "ward=20242&sheet=x&parcel=1", "ward=20242&sheet=14&parcel=-3"])
def test_bad_key_parameters_are_400(world, query):
    assert world.get(f"/api/parcels?{query}").status_code == 400


def test_parcel_at_lon_lat(world):
    lon, lat = lonlat(*POINT_IN_125)
    assert world.get(f"/api/parcels/at?lon={lon}&lat={lat}").json["parcel_uid"] == UID


def test_parcel_at_vn2000_xy(world):
    x, y = POINT_IN_125
    assert world.get(f"/api/parcels/at?x={x}&y={y}&crs={CITY.metric_crs}").json["parcel_uid"] == UID
    assert world.get(f"/api/parcels/at?x={x}&y={y}").json["parcel_uid"] == UID


@pytest.mark.parametrize("query,message", [
    ("lon=108.2", "lat is required"),
    ("lon=abc&lat=16", "not a number"),
    ("lon=nan&lat=16", "finite"),
    ("lon=2.35&lat=48.85", "outside Vietnam"),
    (f"x=1777030&y=550415&crs={CITY.metric_crs}", "looks like a northing"),
    ("x=550415&y=1777030&crs=+proj=tmerc", "EPSG code"),
    ("x=550415&y=1777030&crs=EPSG:999999", "not a known CRS"),
    ("", "give lon and lat"),
])
def test_bad_point_parameters_are_400(world, query, message):
    resp = world.get(f"/api/parcels/at?{query}")
    assert resp.status_code == 400 and message in resp.json["error"]["message"]


def test_point_outside_every_parcel_is_404(world):
    lon, lat = lonlat(549_950, 1_776_850)
    assert world.get(f"/api/parcels/at?lon={lon}&lat={lat}").status_code == 404


@pytest.mark.parametrize("q,expected", [
    ("Tran Phu", UID), ("trần phú", UID), ("TRAN PHU 12", UID), ("12 Tran Phu", UID),
    ("Hoa Binh", HOA_CUONG), ("Hoà Bình", HOA_CUONG), ("Hòa Bình", HOA_CUONG),
    ("duong Hoa Binh", HOA_CUONG), ("Đường hoà bình", HOA_CUONG),
    ("Hai Chau", UID), ("Hoa Cuong", HOA_CUONG), ("14/125", UID), ("Le Loi", OTHER_FORMER),
])
def test_search_is_diacritics_insensitive(world, q, expected):
    resp = world.get("/api/parcels/search", query_string={"q": q})
    assert resp.status_code == 200
    assert expected in [hit["parcel_uid"] for hit in resp.json["results"]], resp.json


def test_search_ranks_the_closest_address_first(world):
    hits = world.get("/api/parcels/search", query_string={"q": "12 Tran Phu"}).json["results"]
    assert hits[0]["parcel_uid"] == UID
    assert hits[0]["score"] >= max(h["score"] for h in hits[1:])


def test_search_for_a_decomposed_query_matches_precomposed_data(world):
    import unicodedata

    q = unicodedata.normalize("NFD", "Trần Phú")
    hits = world.get("/api/parcels/search", query_string={"q": q}).json["results"]
    assert UID in [h["parcel_uid"] for h in hits]


@pytest.mark.parametrize("query", ["q=", "q=" + "a" * 201, "q=x&limit=0", "q=x&limit=101"])
def test_bad_search_parameters_are_400(world, query):
    assert world.get(f"/api/parcels/search?{query}").status_code == 400


def test_search_never_returns_personal_fields(world):
    hits = world.get("/api/parcels/search", query_string={"q": "Tran Phu"}).json["results"]
    for hit in hits:
        assert "name" not in hit and "id_number" not in hit and "certificate_no" not in hit


@pytest.mark.parametrize("role,status", [("public", 403), ("planner", 403),
                                         ("etl_operator", 403), ("permit_officer", 200),
                                         ("admin", 200)])
def test_owner_search_only_for_permit_officers_and_admins(world, scratch_url, role, status):
    resp = world.get("/api/parcels/search", query_string={"owner": "Nguyen Van An"},
                     headers=auth_headers(scratch_url, role))
    assert resp.status_code == status
    if status == 200:
        assert [h["parcel_uid"] for h in resp.json["results"]] == [UID]
        assert resp.json["results"][0]["name"] == "Nguyễn Văn An"
        assert ("test-" + role, "parcel.search_owner", None) in _audit_actions(scratch_url)


def test_owner_search_by_id_number(world, scratch_url):
    resp = world.get("/api/parcels/search", query_string={"owner": "048190004321"},
                     headers=auth_headers(scratch_url, "permit_officer"))
    assert [h["parcel_uid"] for h in resp.json["results"]] == [RIGHT]


def _expected_parcel_fields(role: str) -> set[str]:
    return {f.name for f in PARCELS.fields if f.access in levels_for(role)}


def _lookup(world, scratch_url, role, how):
    lon, lat = lonlat(*POINT_IN_125)
    path = {"uid": f"/api/parcels/{UID}",
            "key": "/api/parcels?ward=20242&sheet=14&parcel=125&former=20245",
            "point": f"/api/parcels/at?lon={lon}&lat={lat}",
            "as_of": f"/api/parcels/{UID}?as_of=2025-01-01"}[how]
    resp = world.get(path, headers=auth_headers(scratch_url, role))
    assert resp.status_code == 200, resp.json
    return resp.json


@pytest.mark.parametrize("how", ["uid", "key", "point", "as_of"])
@pytest.mark.parametrize("role", list(ROLES))
def test_personal_data_matrix(world, scratch_url, role, how):
    doc = _lookup(world, scratch_url, role, how)
    levels = levels_for(role)
    assert set(doc["properties"]) == _expected_parcel_fields(role)
    text = str(doc)
    if Access.STAFF not in levels:
        assert "rights" not in doc and "certificate_numbers" not in doc
        assert "CS 00125" not in text and "VS-125" not in text
    else:
        assert doc["certificate_numbers"] == ["CS 00125"]
        right = doc["rights"][0]
        assert set(right) - {"party"} == {f.name for f in RIGHTS.fields
                                          if f.access in levels} - {"parcel_uid"}
    if Access.PERSONAL in levels:
        assert set(doc["rights"][0]["party"]) == {f.name for f in PARTIES.fields}
        assert doc["rights"][0]["party"]["id_number"] == "048090001234"
        assert (f"test-{role}", "parcel.read_personal", UID) in _audit_actions(scratch_url)
    else:
        assert "Nguyễn Văn An" not in text and "048090001234" not in text
        assert all(a[1] != "parcel.read_personal" for a in _audit_actions(scratch_url))


@pytest.mark.parametrize("role", list(ROLES))
def test_history_shows_only_fields_the_role_may_read(world, scratch_url, role):
    versions = world.get(f"/api/parcels/{UID}/history",
                         headers=auth_headers(scratch_url, role)).json["versions"]
    for v in versions:
        assert set(v["properties"]) == _expected_parcel_fields(role)


def test_history_lists_versions_in_order_with_validity(world):
    doc = world.get(f"/api/parcels/{UID}/history?geometry=true").json
    versions = doc["versions"]
    assert [v["properties"]["land_use"] for v in versions] == ["CLN", "ODT"]
    assert versions[0]["valid_to"] == versions[1]["valid_from"]
    assert [v["current"] for v in versions] == [False, True]
    assert versions[1]["change"] == "update" and versions[0]["geometry"]["type"] == "MultiPolygon"


def test_history_of_unknown_parcel_is_404(world):
    assert world.get("/api/parcels/nope/history").status_code == 404


@pytest.mark.parametrize("as_of,land_use", [("2024-05-31", "CLN"), ("2024-06-01", "ODT"),
                                            ("2023-01-01", "CLN"), ("2030-01-01", "ODT")])
def test_as_of_returns_the_parcel_at_the_end_of_that_day(world, as_of, land_use):
    doc = world.get(f"/api/parcels/{UID}?as_of={as_of}").json
    assert doc["land_use"]["code"] == land_use


def test_as_of_before_the_parcel_existed_is_404(world):
    resp = world.get(f"/api/parcels/{UID}?as_of=2022-12-31")
    assert resp.status_code == 404 and "end of 2022-12-31" in resp.json["error"]["message"]


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "2024-1-1", "20240101"])
def test_bad_as_of_is_400(world, value):
    resp = world.get(f"/api/parcels/{UID}?as_of={value}")
    assert resp.status_code == 400 and "YYYY-MM-DD" in resp.json["error"]["message"]


def test_as_of_works_on_key_and_point_lookups(world):
    lon, lat = lonlat(*POINT_IN_125)
    at = world.get(f"/api/parcels/at?lon={lon}&lat={lat}&as_of=2024-01-01").json
    key = world.get("/api/parcels?ward=20242&sheet=14&parcel=125&former=20245"
                    "&as_of=2024-01-01").json
    assert at["land_use"]["code"] == key["land_use"]["code"] == "CLN"
    assert at["address"] == "12 Tran Phu cu"
