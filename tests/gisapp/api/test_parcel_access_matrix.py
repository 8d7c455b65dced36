"""The personal-data matrix beyond lookups: each role × the parcels collection (items, one
item, CSV, queryables, as_of), vector tiles and text search gets exactly its fields."""
from __future__ import annotations

import csv
import io

import mapbox_vector_tile
import psycopg
import pytest

from layers import ROLES, levels_for
from layers.land import PARCELS
from layers.model import Access
from tests.auth_helpers import auth_headers
from tests.land_world import PARTIES, POINT_IN_125, UID, load_land_world, lonlat
from tiles.grid import tile_of

SECRETS = [text for party in PARTIES for text in (party[2], party[3])]  # names, ID numbers
TILE_ZOOM = 17


@pytest.fixture()
def scratch_url(kept_world) -> str:
    """The land world (built once, kept while the tests leave it unchanged)."""
    return kept_world(load_land_world)


@pytest.fixture()
def world(scratch_app):
    return scratch_app.test_client()


def parcel_fields(role: str) -> set[str]:
    return {f.name for f in PARCELS.fields if f.access in levels_for(role)}


def assert_no_secret(text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert leaked == []


@pytest.mark.parametrize("role", list(ROLES))
def test_parcel_collection_items_item_csv_and_queryables_follow_the_role(world, scratch_url,
                                                                          role):
    headers = auth_headers(scratch_url, role)
    items = world.get("/collections/parcels/items", headers=headers)
    features = items.json["features"]
    assert features and all(set(f["properties"]) == parcel_fields(role) for f in features)
    one = world.get(f"/collections/parcels/items/{features[0]['id']}", headers=headers)
    assert set(one.json["properties"]) == parcel_fields(role)
    table = world.get("/collections/parcels/items?f=csv", headers=headers).get_data(as_text=True)
    assert set(next(csv.reader(io.StringIO(table)))) - {"id", "wkt"} == parcel_fields(role)
    queryables = world.get("/collections/parcels/queryables", headers=headers).json
    assert set(queryables["properties"]) - {"id", "geom"} == parcel_fields(role)
    past = world.get("/collections/parcels/items?as_of=2024-01-01", headers=headers).json
    assert past["features"] and all(set(f["properties"]) == parcel_fields(role)
                                    for f in past["features"])
    for body in (items, one, past):
        assert_no_secret(str(body))
    assert_no_secret(table)
    assert ("CS 00125" in table) == (Access.STAFF in levels_for(role))


def tile_properties(client, headers: dict[str, str]) -> dict:
    """The properties of parcel 125 in the z17 parcels tile that holds its centre."""
    x, y = tile_of(*lonlat(*POINT_IN_125), TILE_ZOOM)
    resp = client.get(f"/tiles/parcels/{TILE_ZOOM}/{x}/{y}.mvt", headers=headers)
    assert resp.status_code == 200
    features = mapbox_vector_tile.decode(resp.data)["parcels"]["features"]
    return next(f["properties"] for f in features if f["properties"].get("parcel_uid") == UID)


def stored_values(url: str) -> dict:
    """Parcel 125's stored values, for the fields a tile could carry (nulls are never in MVT)."""
    with psycopg.connect(url) as conn:
        cur = conn.execute("SELECT * FROM parcels WHERE parcel_uid = %s", (UID,))
        row = dict(zip([d.name for d in cur.description], cur.fetchone()))
    return {f.name: row[f.name] for f in PARCELS.fields if row[f.name] is not None}


@pytest.mark.parametrize("role", list(ROLES))
def test_parcel_tiles_carry_exactly_the_roles_non_personal_fields(world, scratch_url, role):
    props = tile_properties(world, auth_headers(scratch_url, role))
    expected = {name for name in stored_values(scratch_url)
                if name in parcel_fields(role)
                and PARCELS.field(name).access is not Access.PERSONAL}
    assert set(props) == expected
    assert ("certificate_no" in props) == (Access.STAFF in levels_for(role))
    assert_no_secret(str(props))


def test_a_staff_tile_served_first_never_reaches_a_public_caller(world, scratch_url):
    staff = tile_properties(world, auth_headers(scratch_url, "admin"))
    public = tile_properties(world, {})
    hidden = {f.name for f in PARCELS.fields if f.access is not Access.PUBLIC}
    assert hidden & set(staff) and not hidden & set(public)


@pytest.mark.parametrize("role", list(ROLES))
def test_text_search_carries_no_staff_or_personal_field_for_any_role(world, scratch_url, role):
    resp = world.get("/api/parcels/search", query_string={"q": "Tran Phu"},
                     headers=auth_headers(scratch_url, role))
    hits = resp.json["results"]
    assert UID in [h["parcel_uid"] for h in hits]
    staff = {f.name for f in PARCELS.fields if f.access is not Access.PUBLIC}
    assert all(not staff & set(h) for h in hits)
    assert_no_secret(str(resp.json))
