"""CORS for anonymous reads (never for signed-in ones) and gzip for the features documents."""
from __future__ import annotations

import gzip
import json

import pytest

from tests.auth_helpers import auth_headers

PUBLIC_URLS = ("/?f=json", "/conformance", "/collections", "/collections/street_lights",
               "/collections/street_lights/queryables", "/collections/street_lights/items",
               "/collections/street_lights/items/1", "/openapi.json")


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_anonymous_reads_may_be_read_by_any_origin(lights, url):
    resp = lights.get(url, headers={"Origin": "https://example.org"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in resp.headers


def test_preflight_is_answered(lights):
    resp = lights.options("/collections/street_lights/items", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Accept"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in resp.headers["Access-Control-Allow-Methods"]
    assert "Accept" in resp.headers["Access-Control-Allow-Headers"]


def test_signed_in_reads_are_not_shared_with_other_origins(lights, lights_url):
    headers = {**auth_headers(lights_url, "planner"), "Origin": "https://example.org"}
    resp = lights.get("/collections/street_lights/items?limit=2", headers=headers)
    assert resp.status_code == 200 and "install_year" in resp.get_json()["features"][0][
        "properties"]
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_json_is_gzipped_when_accepted(lights):
    plain = lights.get("/collections/street_lights/items?limit=30")
    packed = lights.get("/collections/street_lights/items?limit=30",
                        headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 3
    unpacked = json.loads(gzip.decompress(packed.data))
    plain_doc = plain.get_json()
    assert unpacked["features"] == plain_doc["features"]


def test_small_answers_and_refused_gzip_stay_plain(lights):
    small = lights.get("/collections/street_lights/items/999999",  # a 404 of 80 bytes
                       headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 404 and len(small.data) < 1024
    refused = lights.get("/collections", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in small.headers and "Content-Encoding" not in refused.headers
    assert refused.get_json()["collections"]
