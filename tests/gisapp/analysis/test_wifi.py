"""Wi-Fi coverage on ward 99999 (conftest.py ward_url)."""
import math

import pytest

from gisapp.analysis.wifi import coverage_geojson, coverage_table, ward_coverage

DISCS = math.pi * 30 ** 2 + math.pi * 20 ** 2 / 4  # A1 whole, A2 a quarter; A3 is offline


def test_ward_coverage_share_of_area_and_parcels(ward_engine):
    with ward_engine.connect() as conn:
        f = ward_coverage(conn, "99999").figures
    assert f["covered_m2"] == pytest.approx(DISCS, rel=5e-4)
    assert f["covered_pct"] == pytest.approx(100 * DISCS / 20_000, rel=5e-4)
    assert (f["parcels"], f["parcels_touched"], f["parcels_touched_pct"]) == (3, 1, 33.33)
    assert f["parcel_area_covered_pct"] == pytest.approx(33.33, abs=0.01)  # 400 of 1 200 m²
    assert f["uncovered_public_places"] == 2


def test_uncovered_public_places_and_coverage_as_geojson(ward_engine):
    with ward_engine.connect() as conn:
        fc = coverage_geojson(conn, "99999")
        table = coverage_table(conn)
    kinds = [(x["properties"]["feature"], x["properties"].get("land_use")) for x in fc["features"]]
    assert kinds == [("coverage", None), ("uncovered_public_place", "DGD"),
                     ("uncovered_public_place", "DKV")]
    assert fc["features"][0]["geometry"]["type"] == "MultiPolygon"
    assert [row["ward"] for row in table] == ["99999"]
