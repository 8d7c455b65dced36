"""Text PostgreSQL cannot store (NUL) is a 400 naming where it was, never a 500."""
from __future__ import annotations

from urllib.parse import quote

import psycopg
import pytest

from tests.auth_helpers import auth_headers, csrf_from
from tests.land_world import UID, load_land_world

NUL_URLS = [
    "/api/parcels/a%00b", "/api/parcels/a%00b/history", "/api/parcels/search?q=Tr%00n",
    "/api/parcels?ward=20242%00&sheet=14&parcel=125", "/api/parcels/at?lon=108.2%00&lat=16",
    "/collections/parcels/items?filter=" + quote("address = 'a\x00'"),
    "/collections/parcels/items?filter-lang=cql2-json&filter="
    + quote('{"op": "like", "args": [{"property": "address"}, "a\\u0000%"]}'),
    "/collections/parcels/items?a%00=1", "/tiles/parcels%00/16/0/0.mvt",
]


@pytest.fixture()
def scratch_url(kept_world) -> str:
    """The land world (built once, kept while the tests leave it unchanged)."""
    return kept_world(load_land_world)


@pytest.fixture()
def world(scratch_app):
    return scratch_app.test_client()


@pytest.mark.parametrize("url", NUL_URLS)
def test_nul_in_the_path_or_query_is_400(world, url):
    resp = world.get(url)
    assert resp.status_code == 400
    assert "NUL" in resp.json["error"]["message"]


def test_nul_in_a_json_body_is_400_and_changes_nothing(world, scratch_url):
    resp = world.post("/api/parcels/merge", json={"parcels": [UID, "x\x00"]},
                      headers=auth_headers(scratch_url, "permit_officer"))
    assert resp.status_code == 400 and "JSON body" in resp.json["error"]["message"]
    assert world.get(f"/api/parcels/{UID}").status_code == 200


def test_json_body_nested_past_the_parser_is_400(world, scratch_url):
    resp = world.post("/api/parcels/merge", data="[" * 20_000 + "]" * 20_000,
                      content_type="application/json",
                      headers=auth_headers(scratch_url, "permit_officer"))
    assert resp.status_code == 400


def test_nul_in_the_login_form_is_400_and_not_counted(world, scratch_url):
    form = world.get("/login").get_data(as_text=True)
    resp = world.post("/login", data={"username": "a\x00b", "password": "x",
                                      "csrf_token": csrf_from(form)})
    assert resp.status_code == 400
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute("SELECT count(*) FROM login_failures").fetchone()[0] == 0
