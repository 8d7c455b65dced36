"""Hostile filters, sort keys and names: each is refused (400) or matched as plain data,
and the table is byte-for-byte the same afterwards."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.gisapp.features.conftest import N_LIGHTS, table_checksum

ITEMS = "/collections/street_lights/items"


def nested_json(depth: int) -> str:
    """`depth` NOTs around a comparison, as JSON text (too deep for json.dumps)."""
    inner = '{"op": "=", "args": [{"property": "wattage"}, 1]}'
    return '{"op": "not", "args": [' * depth + inner + "]}" * depth


REFUSED_TEXT = [
    "wattage > 1; DROP TABLE street_lights",
    "wattage > 1 -- comment",
    "wattage > 1 /* comment */",
    "street = 'x'; DELETE FROM street_lights; --'",
    "pg_sleep(5) = 1",
    "upper(street) = 'X'",
    "S_INTERSECTS(geom, ST_Buffer(geom, 1))",
    "\"street; DROP TABLE street_lights\" = 'x'",
    "\"id) OR (1=1\" = 1",
    "geom_3857 = 1",
    "source_run_id = 1",
    "install_year = 2001",
    "pg_catalog.pg_user = 1",
    "wattage = 99999999999999999999999",
    "pole_height > 1e400",
    "wattage > -1e999",
    "street = 'x' UNION SELECT 1",
    "S_INTERSECTS(geom, POINT(1e400 0))",
    "S_DWITHIN(geom, POINT(108 16), 1e308, meters)",
    "(" * 30 + "wattage = 1" + ")" * 30 + " AND " + "NOT (" * 25 + "wattage = 1" + ")" * 25,
    "wattage IN (" + ",".join(str(i) for i in range(1001)) + ")",
]
REFUSED_JSON = [
    {"op": "=", "args": [{"property": "street) OR 1=1 --"}, "x"]},
    {"op": "=", "args": [{"property": "geom_3857"}, 1]},
    {"op": "pg_sleep", "args": [10]},
    {"op": "=", "args": [{"function": {"name": "pg_sleep", "arguments": [10]}}, 1]},
    {"op": "s_intersects", "args": [{"property": "geom"},
                                    {"type": "Point", "coordinates": ["1; DROP", 2]}]},
    {"op": "s_intersects", "args": [{"property": "geom"},
                                    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}]},
    {"op": "=", "args": [{"property": "wattage"}, 10**30]},
    {"op": "=", "args": [{"property": "wattage"}, "1 OR 1=1"]},
    nested_json(25),
    nested_json(100),  # deeper filters no longer fit in GISAPP_MAX_URL_BYTES
    "[" * 50 + "]" * 50,
]
MATCHED_AS_DATA = [  # valid CQL2 whose hostile text is just a string to compare with
    "street = 'x'' OR ''1''=''1'",
    "street = 'x''; DROP TABLE street_lights; --'",
    "street LIKE '%'' OR 1=1 --'",
]


@pytest.fixture()
def unchanged(lights_url):
    """Asserts after the test that street_lights is exactly as before."""
    before = table_checksum(lights_url, "street_lights")
    yield
    assert table_checksum(lights_url, "street_lights") == before


@pytest.mark.parametrize("cql", REFUSED_TEXT, ids=lambda c: c[:40])
def test_hostile_cql2_text_is_400_and_changes_nothing(lights, unchanged, cql):
    resp = lights.get(f"{ITEMS}?filter={quote(cql)}")
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["error"]["code"] == "bad_request"


def test_a_filter_longer_than_the_url_limit_is_414_and_changes_nothing(lights, unchanged):
    cql = "street = '" + "x" * 30_000 + "'"
    resp = lights.get(f"{ITEMS}?filter={quote(cql)}")
    assert resp.status_code == 414, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["error"]["code"] == "uri_too_long"


def as_text(tree: dict | str) -> str:
    return tree if isinstance(tree, str) else json.dumps(tree)


@pytest.mark.parametrize("tree", REFUSED_JSON, ids=lambda t: as_text(t)[:40])
def test_hostile_cql2_json_is_400_and_changes_nothing(lights, unchanged, tree):
    resp = lights.get(f"{ITEMS}?filter-lang=cql2-json&filter={quote(as_text(tree))}")
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]


def test_deep_json_beyond_the_parser_recursion_limit_is_400(lights, unchanged):
    deep = "[" * 1200 + "]" * 1200  # past Python's recursion limit, inside the URL limit
    resp = lights.get(f"{ITEMS}?filter-lang=cql2-json&filter={quote(deep)}")
    assert resp.status_code == 400


@pytest.mark.parametrize("cql", MATCHED_AS_DATA)
def test_quotes_inside_literals_are_data_not_sql(lights, unchanged, cql):
    body = lights.get(f"{ITEMS}?filter={quote(cql)}").get_json()
    assert body["numberMatched"] == 0


@pytest.mark.parametrize("query", [
    "sortby=wattage;DROP TABLE street_lights", "sortby=-(select 1)", "sortby=geom",
    "properties=light_id,(select 1)", "properties=*", "bbox=1,2,3,4);DROP TABLE x;--",
    "limit=1;DROP", "offset=1 OR 1=1", "bbox-crs=EPSG:4326';--", "filter-crs=x'--",
])
def test_hostile_parameters_are_400_and_change_nothing(lights, unchanged, query):
    resp = lights.get(f"{ITEMS}?{query}")
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]


def test_hostile_collection_names_are_404(lights, unchanged):
    for name in ["street_lights;DROP TABLE x", "pg_user", "spatial_ref_sys", "parties"]:
        assert lights.get(f"/collections/{quote(name)}/items").status_code == 404


def test_all_rows_are_still_there(lights, unchanged):
    assert lights.get(ITEMS).get_json()["numberMatched"] == N_LIGHTS
