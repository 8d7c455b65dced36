"""Area queries and the ward dashboard on ward 99999 (conftest.py ward_url)."""
import csv
import io
import math

import psycopg
import pytest
from pyproj import Transformer

from gisapp.errors import BadRequest
from gisapp.analysis.within import WithinRequest
from layers import UnknownLayer, levels_for
from layers.city import CITY
from tests.world import FROM_METRIC

E0, N0 = 550_800.0, 1_776_400.0
TO_WGS = Transformer.from_crs(CITY.metric_srid, 4326, always_xy=True)


def wgs_rect(x0, y0, x1, y1) -> dict:
    ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return {"type": "Polygon",
            "coordinates": [[list(TO_WGS.transform(E0 + x, N0 + y)) for x, y in ring]]}


def test_parcels_in_a_drawn_polygon_counted_by_land_use(scratch_app, ward_url):
    client = scratch_app.test_client()
    body = {"layer": "parcels", "polygon": wgs_rect(0, 0, 120, 100), "group_by": "land_use"}
    fc = client.post("/api/analysis/within", json=body).json
    assert fc["properties"]["count"] == 2
    assert fc["properties"]["groups"] == [{"value": "DGD", "count": 1, "sum": None},
                                          {"value": "ODT", "count": 1, "sum": None}]


def test_lights_near_a_feature_summed_by_status_and_exported_as_csv(scratch_app, ward_url):
    client = scratch_app.test_client()
    body = {"layer": "street_lights", "near": {"layer": "roads", "id": 1, "distance_m": 10},
            "group_by": "status", "sum": "wattage"}
    fc = client.post("/api/analysis/within", json=body).json
    assert fc["properties"]["groups"] == [{"value": "out_of_service", "count": 1, "sum": 150.0},
                                          {"value": "working", "count": 1, "sum": 100.0}]
    near = {**body, "near": {"layer": "roads", "id": 1, "distance_m": 4}}  # L1 is 5 m off
    assert client.post("/api/analysis/within", json=near).json["properties"]["count"] == 1
    resp = client.post("/api/analysis/within?f=csv", json=body)
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert resp.mimetype == "text/csv" and [r["light_id"] for r in rows] == ["L1", "L2"]
    assert "install_year" not in rows[0]  # staff field, public caller


@pytest.mark.parametrize("body, message", [
    ({"layer": "nope", "polygon": {}}, "unknown layer"),
    ({"layer": "parcels", "group_by": "owner", "polygon": {"type": "Polygon"}}, "group_by"),
    ({"layer": "parcels", "sum": "address", "polygon": {"type": "Polygon"}}, "numeric"),
    ({"layer": "parcels"}, "exactly one"),
    ({"layer": "parcels", "near": {"layer": "roads", "id": 1, "distance_m": 1e6}}, "distance_m"),
])
def test_bad_area_queries_are_refused(body, message):
    with pytest.raises((BadRequest, UnknownLayer), match=message):
        WithinRequest.parse(body, levels_for("public"))


def test_ward_summary_figures(scratch_app, ward_url):
    with psycopg.connect(ward_url) as c:  # 150 m long, 100 m of it inside the ward
        c.execute("INSERT INTO drainage_pipes (pipe_id, from_node, to_node, diameter_mm, geom) "
                  "VALUES ('X1', 'a', 'b', 600, " + FROM_METRIC + ")",
                  (f"LINESTRING({E0 - 50} {N0 + 20},{E0 + 100} {N0 + 20})",))
    doc = scratch_app.test_client().get("/api/wards/99999/summary").json
    assert doc["parcels_by_land_use"] == [
        {"land_use": "DGD", "parcels": 1, "area_m2": 400.0},
        {"land_use": "DKV", "parcels": 1, "area_m2": 400.0},
        {"land_use": "ODT", "parcels": 1, "area_m2": 400.0}]
    assert doc["pipe_length_by_diameter"] == [{"diameter_mm": 600, "pipes": 1, "length_m": 100.0}]
    assert doc["lights_by_status"] == {"out_of_service": 1, "working": 1}
    assert doc["wifi"]["covered_pct"] == pytest.approx(
        100 * (math.pi * 900 + math.pi * 400 / 4) / 20_000, rel=5e-4)
    assert doc["ward"]["computed_area_km2"] == 0.02
    assert scratch_app.test_client().get("/api/wards/00000/summary").status_code == 404


def test_analysis_endpoints_answer_geojson(scratch_app, ward_url):
    client = scratch_app.test_client()
    for url in ("/api/analysis/lighting/unlit?ward=99999",
                "/api/analysis/lighting/out-of-service?ward=99999",
                "/api/analysis/lighting/cabinets", "/api/analysis/lighting/cabinets/K1/lights",
                "/api/analysis/wifi/coverage?ward=99999"):
        resp = client.get(url)
        assert resp.status_code == 200 and resp.json["type"] == "FeatureCollection", url
    table = client.get("/api/analysis/wifi/coverage").json["wards"]
    assert [w["ward"] for w in table] == ["99999"]
