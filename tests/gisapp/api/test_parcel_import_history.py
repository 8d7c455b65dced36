"""as_of and history before and after an upsert import through the real ETL pipeline."""
from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import psycopg
import shapely

from etl.pipeline import ImportRequest, run_import
from gisapp.land.source import CITY_TZ
from tests.land_world import E0, N0, lonlat

UID, OTHER = "20242-20245-14-125", "20242-20245-14-124"


def _frame(land_use_125: str) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, (no, use) in enumerate(((124, "ODT"), (125, land_use_125))):
        e1, e2 = E0 + 10 * i, E0 + 10 * i + 10
        geoms.append(shapely.Polygon([lonlat(e, n) for e, n in
                                      ((e1, N0), (e2, N0), (e2, N0 + 20), (e1, N0 + 20))]))
        rows.append({"ward_code": "20242", "former_ward_code": "20245", "sheet_no": 14,
                     "parcel_no": no, "land_use": use, "legal_area": 200.0,
                     "address": f"{10 + 2 * i} Trần Phú", "street": "Trần Phú"})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def _import(url: str, frame: gpd.GeoDataFrame, path) -> None:
    frame.to_file(path, driver="GeoJSON")
    result = run_import(url, ImportRequest("parcels", path, mode="upsert"))
    assert result.status == "succeeded", result


def test_as_of_before_and_after_an_upsert_import(scratch_app, scratch_url, tmp_path):
    _import(scratch_url, _frame("ODT"), tmp_path / "first.geojson")
    with psycopg.connect(scratch_url) as conn:  # the first import happened ten days ago
        conn.execute("UPDATE parcel_versions SET valid_from = valid_from - interval '10 days'")
    _import(scratch_url, _frame("TMD"), tmp_path / "second.geojson")
    client = scratch_app.test_client()
    today = datetime.now(CITY_TZ).date()  # as_of days are Da Nang days
    before = (today - timedelta(days=5)).isoformat()
    assert client.get(f"/api/parcels/{UID}?as_of={before}").json["land_use"]["code"] == "ODT"
    assert client.get(f"/api/parcels/{UID}").json["land_use"]["code"] == "TMD"
    now = client.get(f"/api/parcels/{UID}?as_of={today.isoformat()}").json
    assert now["land_use"]["code"] == "TMD"
    too_early = (today - timedelta(days=20)).isoformat()
    assert client.get(f"/api/parcels/{UID}?as_of={too_early}").status_code == 404
    versions = client.get(f"/api/parcels/{UID}/history").json["versions"]
    assert [(v["change"], v["properties"]["land_use"], v["current"]) for v in versions] == [
        ("insert", "ODT", False), ("update", "TMD", True)]
    unchanged = client.get(f"/api/parcels/{OTHER}/history").json["versions"]
    assert [v["change"] for v in unchanged] == ["insert"]
