"""Splitting and merging parcels: checks, lineage, rights, history, audit and notification."""
from __future__ import annotations

import json

import psycopg
import pytest

from tests.auth_helpers import auth_headers, login
from tests.land_world import E0, N0, LEFT, OTHER_FORMER, RIGHT, UID, load_land_world, lonlat


@pytest.fixture()
def world(scratch_app, scratch_url):
    load_land_world(scratch_url)
    return scratch_app.test_client()


def _polygon(e1: float, n1: float, e2: float, n2: float) -> dict:
    ring = [lonlat(e, n) for e, n in ((e1, n1), (e2, n1), (e2, n2), (e1, n2), (e1, n1))]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


# parcel 125 spans E0+10..E0+20, N0..N0+20
SOUTH = _polygon(E0 + 10, N0, E0 + 20, N0 + 10)
NORTH = _polygon(E0 + 10, N0 + 10, E0 + 20, N0 + 20)


def _officer(url: str) -> dict:
    return auth_headers(url, "permit_officer")


def _one(url: str, query: str, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()


def test_split_replaces_the_parcel_by_children_with_lineage(world, scratch_url):
    resp = world.post(f"/api/parcels/{UID}/split", json={"parts": [{"geometry": SOUTH},
                                                                   {"geometry": NORTH}]},
                      headers=_officer(scratch_url))
    assert resp.status_code == 201, resp.json
    children = resp.json["children"]
    assert children == ["20242-20245-14-127", "20242-20245-14-128"]
    assert world.get(f"/api/parcels/{UID}").status_code == 404
    parent = world.get(f"/api/parcels/{UID}/history").json["versions"]
    assert parent[-1]["valid_to"] is not None
    assert parent[-1]["lineage"] == {"split_into": children}
    for child in children:
        versions = world.get(f"/api/parcels/{child}/history").json["versions"]
        assert [(v["change"], v["lineage"], v["current"]) for v in versions] == [
            ("split", {"split_from": UID}, True)]
        assert versions[0]["valid_from"] == parent[-1]["valid_to"]
        doc = world.get(f"/api/parcels/{child}", headers=_officer(scratch_url)).json
        assert doc["computed_area"] == pytest.approx(100.0, abs=0.2)
        assert doc["land_use"]["code"] == "ODT"
        assert [r["party"]["name"] for r in doc["rights"]] == ["Nguyễn Văn An"]
        assert {u["land_use"]: u["area"] for u in doc["land_uses"]} == pytest.approx(
            {"ODT": 60.0, "CLN": 39.8}, abs=0.2)
        assert "properties" in doc and doc["properties"]["certificate_no"] is None


def test_split_keeps_the_past_queryable(world, scratch_url):
    world.post(f"/api/parcels/{UID}/split",
               json={"parts": [{"geometry": SOUTH}, {"geometry": NORTH}]},
               headers=_officer(scratch_url))
    past = world.get(f"/api/parcels/{UID}?as_of=2025-01-01")
    assert past.status_code == 200 and past.json["computed_area"] == pytest.approx(200, abs=0.2)
    assert world.get("/api/parcels/20242-20245-14-127?as_of=2025-01-01").status_code == 404


def test_split_and_merge_keep_the_overview_in_step(world, scratch_url):
    count = ("SELECT (SELECT count(*) FROM parcels),"
             " (SELECT coalesce(sum(feature_count), 0) FROM parcels_overview)")
    world.post(f"/api/parcels/{UID}/split",
               json={"parts": [{"geometry": SOUTH}, {"geometry": NORTH}]},
               headers=_officer(scratch_url))
    parcels, merged = _one(scratch_url, count)
    assert merged == parcels > 0  # the two children are in the overview, the parent is gone
    world.post("/api/parcels/merge", json={"parcels": ["20242-20245-14-127",
                                                       "20242-20245-14-128"]},
               headers=_officer(scratch_url))
    parcels_after, merged_after = _one(scratch_url, count)
    assert merged_after == parcels_after == parcels - 1


def test_split_is_audited_bumps_data_version_and_notifies(world, scratch_url):
    with psycopg.connect(scratch_url, autocommit=True) as listener:
        listener.execute("LISTEN gisapp_layer_changed")
        world.post(f"/api/parcels/{UID}/split",
                   json={"parts": [{"geometry": SOUTH}, {"geometry": NORTH}]},
                   headers=_officer(scratch_url))
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert json.loads(notes[0].payload)["layer"] == "parcels"
    assert _one(scratch_url, "SELECT data_version FROM layer_state WHERE layer='parcels'")[0] == 1
    row = _one(scratch_url, "SELECT actor, target, details FROM audit_log "
                            "WHERE action = 'parcel.split'")
    assert row[0] == "test-permit_officer" and row[1] == UID
    assert row[2]["children"] == ["20242-20245-14-127", "20242-20245-14-128"]


def test_split_with_given_numbers_and_a_taken_number(world, scratch_url):
    taken = world.post(f"/api/parcels/{UID}/split",
                       json={"parts": [{"geometry": SOUTH, "parcel_no": 124},
                                       {"geometry": NORTH}]}, headers=_officer(scratch_url))
    assert taken.status_code == 409 and "124" in taken.json["error"]["message"]
    ok = world.post(f"/api/parcels/{UID}/split",
                    json={"parts": [{"geometry": SOUTH, "parcel_no": 300},
                                    {"geometry": NORTH}]}, headers=_officer(scratch_url))
    assert ok.json["children"] == ["20242-20245-14-300", "20242-20245-14-301"]


BOWTIE = {"type": "Polygon", "coordinates": [[list(lonlat(E0 + 10, N0)),
                                              list(lonlat(E0 + 20, N0 + 20)),
                                              list(lonlat(E0 + 20, N0)),
                                              list(lonlat(E0 + 10, N0 + 20)),
                                              list(lonlat(E0 + 10, N0))]]}


@pytest.mark.parametrize("parts,message", [
    ([{"geometry": SOUTH}], "2 to 50 parts"),
    ([{"geometry": SOUTH}, {"geometry": _polygon(E0 + 10, N0 + 10, E0 + 20, N0 + 15)}],
     "differ from the parcel"),
    ([{"geometry": _polygon(E0 + 10, N0, E0 + 20, N0 + 12)}, {"geometry": NORTH}], "overlap"),
    ([{"geometry": SOUTH}, {"geometry": BOWTIE}], "not a valid polygon"),
    ([{"geometry": SOUTH}, {"geometry": {"type": "Point", "coordinates": [108, 16]}}],
     "Polygon or MultiPolygon"),
    ([{"geometry": SOUTH, "parcel_no": 0}, {"geometry": NORTH}], "positive integer"),
    ([{"geometry": SOUTH, "parcel_no": 9}, {"geometry": NORTH, "parcel_no": 9}], "same parcel_no"),
])
def test_bad_splits_are_400_and_change_nothing(world, scratch_url, parts, message):
    resp = world.post(f"/api/parcels/{UID}/split", json={"parts": parts},
                      headers=_officer(scratch_url))
    assert resp.status_code == 400 and message in resp.json["error"]["message"], resp.json
    assert world.get(f"/api/parcels/{UID}").status_code == 200
    assert _one(scratch_url, "SELECT count(*) FROM parcels")[0] == 5


@pytest.mark.parametrize("role,status", [("public", 401), ("planner", 403),
                                         ("etl_operator", 403), ("admin", 201)])
def test_split_needs_permit_officer_or_admin(world, scratch_url, role, status):
    resp = world.post(f"/api/parcels/{UID}/split",
                      json={"parts": [{"geometry": SOUTH}, {"geometry": NORTH}]},
                      headers=auth_headers(scratch_url, role))
    assert resp.status_code == status


def test_session_split_needs_the_csrf_token(world, scratch_url):
    csrf = login(world, scratch_url, "permit_officer")
    body = {"parts": [{"geometry": SOUTH}, {"geometry": NORTH}]}
    assert world.post(f"/api/parcels/{UID}/split", json=body).status_code == 403
    assert world.post(f"/api/parcels/{UID}/split", json=body,
                      headers={"X-CSRF-Token": csrf}).status_code == 201


def test_merge_makes_one_parcel_with_lineage_and_the_union_of_rights(world, scratch_url):
    resp = world.post("/api/parcels/merge", json={"parcels": [UID, RIGHT]},
                      headers=_officer(scratch_url))
    assert resp.status_code == 201, resp.json
    new = resp.json["parcel_uid"]
    assert new == "20242-20245-14-127"
    doc = world.get(f"/api/parcels/{new}", headers=_officer(scratch_url)).json
    assert doc["computed_area"] == pytest.approx(400.0, abs=0.3)
    assert doc["legal_area"] == 399.5
    assert sorted(r["party_id"] for r in doc["rights"]) == ["P1", "P2"]
    assert [n["parcel_uid"] for n in doc["neighbours"]] == [LEFT]
    versions = world.get(f"/api/parcels/{new}/history").json["versions"]
    assert versions[0]["lineage"] == {"merged_from": [UID, RIGHT]}
    for parent in (UID, RIGHT):
        last = world.get(f"/api/parcels/{parent}/history").json["versions"][-1]
        assert last["lineage"]["merged_into"] == new and last["valid_to"] is not None
        assert world.get(f"/api/parcels/{parent}").status_code == 404
    assert _one(scratch_url, "SELECT count(*) FROM audit_log WHERE action='parcel.merge'")[0] == 1


@pytest.mark.parametrize("parcels,status,message", [
    ([LEFT, RIGHT], 400, "not adjacent"),
    ([UID, OTHER_FORMER], 400, "one ward, former ward and map sheet"),
    ([UID, "20242-20245-14-999"], 404, "20242-20245-14-999"),
    ([UID, UID], 400, "listed twice"),
    ([UID], 400, "2 to 50"),
])
def test_bad_merges_are_refused_and_change_nothing(world, scratch_url, parcels, status, message):
    resp = world.post("/api/parcels/merge", json={"parcels": parcels},
                      headers=_officer(scratch_url))
    assert resp.status_code == status and message in resp.json["error"]["message"], resp.json
    assert _one(scratch_url, "SELECT count(*) FROM parcels")[0] == 5


def test_merge_needs_permit_officer_or_admin(world, scratch_url):
    resp = world.post("/api/parcels/merge", json={"parcels": [UID, RIGHT]},
                      headers=auth_headers(scratch_url, "planner"))
    assert resp.status_code == 403
