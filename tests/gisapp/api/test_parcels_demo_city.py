"""Parcel lookup, search and history over the demo city, checked against the database."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from pyproj import Transformer

from layers.city import CITY

TO_TM3 = Transformer.from_crs("OGC:CRS84", CITY.metric_crs, always_xy=True)


def rows(url: str, query: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def held(test_url) -> dict:
    """The first demo parcel (by id) that has rights: its stored facts, from the database."""
    (uid, ward, former, sheet, number, use, legal, address, area, lon, lat, ward_name), = rows(
        test_url,
        "SELECT p.parcel_uid, p.ward_code, p.former_ward_code, p.sheet_no, p.parcel_no,"
        " p.land_use, p.legal_area, p.address,"
        " round(ST_Area(ST_Transform(p.geom, %s))::numeric, 1)::float,"
        " ST_X(ST_PointOnSurface(p.geom)), ST_Y(ST_PointOnSurface(p.geom)), w.name"
        " FROM parcels p JOIN wards w ON w.code = p.ward_code"
        " WHERE EXISTS (SELECT 1 FROM rights r WHERE r.parcel_uid = p.parcel_uid)"
        " ORDER BY p.id LIMIT 1", CITY.metric_srid)
    holders = [r[0] for r in rows(test_url, "SELECT pa.name FROM rights r JOIN parties pa"
                                            " USING (party_id) WHERE r.parcel_uid = %s", uid)]
    neighbours = [r[0] for r in rows(
        test_url, "SELECT n.parcel_uid FROM parcels p JOIN parcels n ON n.id <> p.id"
                  " AND ST_DWithin(ST_Transform(n.geom, %s), ST_Transform(p.geom, %s), 1)"
                  " WHERE p.parcel_uid = %s ORDER BY n.parcel_uid",
        CITY.metric_srid, CITY.metric_srid, uid)]
    return {"uid": uid, "key": {"ward_code": ward, "former_ward_code": former,
                                "sheet_no": sheet, "parcel_no": number},
            "land_use": use, "legal_area": legal, "address": address, "area": area,
            "lonlat": (lon, lat), "ward": {"code": ward, "name": ward_name},
            "holders": holders, "neighbours": neighbours}


def test_demo_parcel_by_id_matches_the_database(client, held):
    doc = client.get(f"/api/parcels/{held['uid']}").json
    assert doc["key"] == held["key"] and doc["ward"] == held["ward"]
    assert doc["land_use"]["code"] == held["land_use"]
    assert doc["land_use"]["name_vi"] and doc["land_use"]["name_en"]
    assert doc["legal_area"] == held["legal_area"] and doc["address"] == held["address"]
    assert doc["computed_area"] == pytest.approx(held["area"], abs=0.05)
    assert sorted(n["parcel_uid"] for n in doc["neighbours"]) == held["neighbours"]
    assert held["neighbours"], "a demo parcel in a block has neighbours"


def test_demo_parcel_for_the_public_names_no_holder(client, held):
    doc = client.get(f"/api/parcels/{held['uid']}").json
    assert "rights" not in doc and "certificate_numbers" not in doc
    assert held["holders"] and not [h for h in held["holders"] if h in str(doc)]


def test_demo_parcel_by_key_and_by_point(client, held):
    key = held["key"]
    query = {"ward": key["ward_code"], "sheet": key["sheet_no"], "parcel": key["parcel_no"],
             "former": key["former_ward_code"]}
    assert client.get("/api/parcels", query_string=query).json["parcel_uid"] == held["uid"]
    lon, lat = held["lonlat"]
    at = client.get("/api/parcels/at", query_string={"lon": lon, "lat": lat})
    assert at.json["parcel_uid"] == held["uid"]
    x, y = TO_TM3.transform(lon, lat)
    at = client.get("/api/parcels/at", query_string={"x": x, "y": y, "crs": CITY.metric_crs})
    assert at.json["parcel_uid"] == held["uid"]


def test_demo_key_repeated_across_former_wards_is_409_naming_every_candidate(client, test_url):
    (ward, sheet, number, uids), = rows(
        test_url, "SELECT ward_code, sheet_no, parcel_no, array_agg(parcel_uid ORDER BY"
                  " parcel_uid) FROM parcels GROUP BY 1, 2, 3 HAVING count(*) > 1"
                  " ORDER BY 1, 2, 3 LIMIT 1")
    resp = client.get("/api/parcels", query_string={"ward": ward, "sheet": sheet,
                                                    "parcel": number})
    assert resp.status_code == 409
    assert all(uid in resp.json["error"]["message"] for uid in uids)


def test_demo_search_without_diacritics_finds_the_same_parcels(client):
    def uids(q: str) -> list[str]:
        resp = client.get("/api/parcels/search", query_string={"q": q, "limit": 50})
        return [h["parcel_uid"] for h in resp.json["results"]]
    assert uids("Hoàng Diệu") == uids("hoang dieu") == uids("HOANG DIEU")
    hits = client.get("/api/parcels/search", query_string={"q": "Hoang Dieu Hai Chau"}).json
    assert hits["results"] and all("Hoàng Diệu" in h["address"] for h in hits["results"][:10])
    scores = [h["score"] for h in hits["results"]]
    assert scores == sorted(scores, reverse=True)


def test_demo_history_and_as_of(client, held):
    versions = client.get(f"/api/parcels/{held['uid']}/history").json["versions"]
    assert len(versions) >= 1 and versions[-1]["current"] and versions[-1]["valid_to"] is None
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    now = client.get(f"/api/parcels/{held['uid']}", query_string={"as_of": today})
    assert now.status_code == 200 and now.json["parcel_uid"] == held["uid"]
    before = client.get(f"/api/parcels/{held['uid']}", query_string={"as_of": "2000-01-01"})
    assert before.status_code == 404
