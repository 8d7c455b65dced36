"""A versioned collection as it was at the end of a day (as_of), from its versions table."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from etl.pipeline import ImportRequest, run_import
from gisapp.versions import version_history
from layers import ROLES
from layers.city import CITY
from layers.planning import ZONING
from store.tables import VERSION_TABLES
from tests.gisapp.features.conftest import BRIDGE_LONLAT

PARCELS = "/collections/parcels/items"


def land_uses(client, query: str) -> dict[int, str]:
    resp = client.get(f"{PARCELS}?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return {f["id"]: f["properties"]["land_use"] for f in resp.get_json()["features"]}


@pytest.mark.parametrize("day, expected", [
    ("2023-12-31", {}),
    ("2024-03-01", {1: "ODT"}),
    ("2024-05-31", {1: "ODT"}),  # the change took effect at midnight starting 1 June
    ("2024-06-01", {1: "TMD"}),
    ("2024-07-31", {1: "TMD"}),
    ("2024-08-01", {1: "TMD", 2: "ODT"}),
])
def test_as_of_returns_the_versions_valid_at_the_end_of_that_day(history_app, day, expected):
    assert land_uses(history_app.test_client(), f"as_of={day}") == expected


def test_without_as_of_the_live_table_is_read(history_app):
    assert land_uses(history_app.test_client(), "") == {1: "TMD", 2: "ODT"}


def test_as_of_combines_with_filter_and_counts(history_app):
    client = history_app.test_client()
    body = client.get(f"{PARCELS}?as_of=2024-03-01&filter=land_use%3D'TMD'").get_json()
    assert body["numberMatched"] == 0
    assert land_uses(client, "as_of=2024-08-01&filter=land_use%3D'ODT'") == {2: "ODT"}


def test_one_item_as_of_a_day(history_app):
    client = history_app.test_client()
    assert client.get("/collections/parcels/items/1?as_of=2024-03-01").get_json()[
        "properties"]["land_use"] == "ODT"
    assert client.get("/collections/parcels/items/2?as_of=2024-03-01").status_code == 404


@pytest.mark.parametrize("url, words", [
    ("/collections/parcels/items?as_of=2024-13-01", "YYYY-MM-DD"),
    ("/collections/parcels/items?as_of=9999-12-31", "out of range"),
    ("/collections/roads/items?as_of=2024-01-01", "roads keeps no history"),
])
def test_bad_as_of_is_400(history_app, url, words):
    resp = history_app.test_client().get(url)
    assert resp.status_code == 400 and words in resp.get_json()["error"]["message"]


def _zoning_file(tmp_path: Path, floors: int) -> Path:
    """One zone near the bridge allowing `floors` floors, as GeoJSON."""
    lon, lat = BRIDGE_LONLAT
    ring = [[lon, lat], [lon + .001, lat], [lon + .001, lat + .001], [lon, lat + .001], [lon, lat]]
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
        "properties": {"zone_code": "Z-1", "category": "residential", "max_floors": floors}}]}
    path = tmp_path / f"zoning-{floors}.geojson"
    path.write_text(json.dumps(doc))
    return path


def test_every_versioned_layer_answers_as_of_from_its_own_versions(scratch_url, scratch_app,
                                                                    tmp_path):
    """Zoning, versioned like parcels: an amended plan still says what it allowed before."""
    assert ZONING.versioned
    run_import(scratch_url, ImportRequest(ZONING.id, _zoning_file(tmp_path, 5)))
    with psycopg.connect(scratch_url) as conn:  # the first plan was loaded ten days ago
        conn.execute("UPDATE zoning_versions SET valid_from = valid_from - interval '10 days'")
    run_import(scratch_url, ImportRequest(ZONING.id, _zoning_file(tmp_path, 9), mode="upsert"))
    today = datetime.now(CITY.tz).date()
    client = scratch_app.test_client()

    def floors(query: str) -> list[int]:
        resp = client.get(f"/collections/zoning/items?{query}")
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        return [f["properties"]["max_floors"] for f in resp.get_json()["features"]]

    assert floors("") == [9]
    assert floors(f"as_of={today - timedelta(days=3)}") == [5]
    assert floors(f"as_of={today - timedelta(days=20)}") == []
    assert floors(f"as_of={today}") == [9]
    with scratch_app.extensions["engine"].connect() as conn:
        versions = version_history(conn, ZONING, VERSION_TABLES["zoning"].c.zone_code == "Z-1",
                                   ROLES["public"])
    assert [(v["change"], v["properties"]["max_floors"], v["current"]) for v in versions] == [
        ("insert", 5, False), ("update", 9, True)]
