"""CQL2 text and JSON filters on items, translated by our visitor into bound SQL."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from layers import LAYERS
from layers.city import CITY
from tests.gisapp.features.conftest import BRIDGE_EN, BRIDGE_LONLAT, N_LIGHTS, light_rows

ITEMS = "/collections/street_lights/items"
METRIC_URI = f"http://www.opengis.net/def/crs/EPSG/0/{CITY.metric_srid}"
ROWS = light_rows()
LON, LAT = BRIDGE_LONLAT


def ids_for(client, cql: str | dict, lang: str | None = None, extra: str = "") -> list[str]:
    text = json.dumps(cql) if isinstance(cql, dict) else cql
    lang = lang or ("cql2-json" if isinstance(cql, dict) else "cql2-text")
    resp = client.get(f"{ITEMS}?limit=1000&filter-lang={lang}&filter={quote(text)}{extra}")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    body = resp.get_json()
    assert body["numberMatched"] == body["numberReturned"]
    return [f["properties"]["light_id"] for f in body["features"]]


def expected(predicate) -> list[str]:
    return [r["light_id"] for r in ROWS if predicate(r)]


def error_for(client, cql: str | dict, lang: str | None = None) -> str:
    text = json.dumps(cql) if isinstance(cql, dict) else cql
    lang = lang or ("cql2-json" if isinstance(cql, dict) else "cql2-text")
    resp = client.get(f"{ITEMS}?filter-lang={lang}&filter={quote(text)}")
    assert resp.status_code == 400, resp.get_data(as_text=True)[:500]
    return resp.get_json()["error"]["message"]


CASES = [  # (cql2-text, cql2-json, python predicate over the inserted rows)
    ("wattage > 100", {"op": ">", "args": [{"property": "wattage"}, 100]},
     lambda r: r["wattage"] > 100),
    ("100 < wattage", {"op": "<", "args": [100, {"property": "wattage"}]},
     lambda r: r["wattage"] > 100),
    ("street = 'Bạch Đằng' AND lamp_type = 'LED'",
     {"op": "and", "args": [{"op": "=", "args": [{"property": "street"}, "Bạch Đằng"]},
                            {"op": "=", "args": [{"property": "lamp_type"}, "LED"]}]},
     lambda r: r["street"] == "Bạch Đằng" and r["lamp_type"] == "LED"),
    ("status = 'out_of_service' OR pole_height >= 10.0",
     {"op": "or", "args": [{"op": "=", "args": [{"property": "status"}, "out_of_service"]},
                           {"op": ">=", "args": [{"property": "pole_height"}, 10.0]}]},
     lambda r: r["status"] == "out_of_service" or r["pole_height"] >= 10),
    ("NOT (lamp_type = 'LED')",
     {"op": "not", "args": [{"op": "=", "args": [{"property": "lamp_type"}, "LED"]}]},
     lambda r: r["lamp_type"] != "LED"),
    ("street = 'O''Brien'", {"op": "=", "args": [{"property": "street"}, "O'Brien"]},
     lambda r: r["street"] == "O'Brien"),
    ("street LIKE 'Street 2%'", {"op": "like", "args": [{"property": "street"}, "Street 2%"]},
     lambda r: r["street"].startswith("Street 2")),
    ("light_id IN ('L001', 'L005', 'L999')",
     {"op": "in", "args": [{"property": "light_id"}, ["L001", "L005", "L999"]]},
     lambda r: r["light_id"] in ("L001", "L005")),
    ("wattage BETWEEN 100 AND 150",
     {"op": "between", "args": [{"property": "wattage"}, [100, 150]]},
     lambda r: 100 <= r["wattage"] <= 150),
    ("cabinet_id IS NULL", {"op": "isNull", "args": [{"property": "cabinet_id"}]},
     lambda r: False),
    ("CASEI(street) = CASEI('STREET 12')",
     {"op": "=", "args": [{"op": "casei", "args": [{"property": "street"}]}, "street 12"]},
     lambda r: r["street"] == "Street 12"),
    ("CASEI(street) LIKE CASEI('BẠCH ĐẰNG%')",
     {"op": "like", "args": [{"op": "casei", "args": [{"property": "street"}]},
                             {"op": "casei", "args": ["bạch đằng%"]}]},
     lambda r: r["street"] == "Bạch Đằng"),
    ("id <= 3", {"op": "<=", "args": [{"property": "id"}, 3]},
     lambda r: r["light_id"] in ("L000", "L001", "L002")),
]


@pytest.mark.parametrize("text, _json, predicate", CASES, ids=[c[0] for c in CASES])
def test_cql2_text_filters(lights, text, _json, predicate):
    assert ids_for(lights, text) == expected(predicate)


@pytest.mark.parametrize("_text, tree, predicate", CASES, ids=[c[0] for c in CASES])
def test_cql2_json_filters(lights, _text, tree, predicate):
    assert ids_for(lights, tree) == expected(predicate)


def test_filter_combines_with_bbox_and_paging(lights):
    body = lights.get(f"{ITEMS}?limit=2&filter={quote('wattage >= 100')}").get_json()
    assert body["numberMatched"] == len(expected(lambda r: r["wattage"] >= 100))
    assert "filter=wattage" in [l for l in body["links"] if l["rel"] == "next"][0]["href"]


def square(half: float) -> str:
    return (f"POLYGON(({LON - half} {LAT - half}, {LON + half} {LAT - half}, "
            f"{LON + half} {LAT + half}, {LON - half} {LAT + half}, {LON - half} {LAT - half}))")


def test_s_intersects_and_s_within_a_polygon(lights):
    near = ["L000", "L001", "L002", "L003", "L004"]
    assert ids_for(lights, f"S_INTERSECTS(geom, {square(0.002)})") == near
    assert ids_for(lights, f"S_WITHIN(geom, {square(0.002)})") == near
    ring = [[LON - .002, LAT - .002], [LON + .002, LAT - .002], [LON + .002, LAT + .002],
            [LON - .002, LAT + .002], [LON - .002, LAT - .002]]
    polygon = {"type": "Polygon", "coordinates": [ring]}
    assert ids_for(lights, {"op": "s_intersects", "args": [{"property": "geom"}, polygon]}) == near


def test_s_contains_a_point_matches_that_light(lights):
    point = ROWS[0]["geom"].split(";")[1]  # exactly as stored
    assert ids_for(lights, f"S_CONTAINS(geom, {point})") == ["L000"]


def test_s_intersects_a_bbox_literal(lights):
    box = f"BBOX({LON - .002}, {LAT - .002}, {LON + .002}, {LAT + .002})"
    assert ids_for(lights, f"S_INTERSECTS(geom, {box})") == ["L000", "L001", "L002", "L003",
                                                               "L004"]


@pytest.mark.parametrize("cql", [
    f"S_DWITHIN(geom, POINT({LON!r} {LAT!r}), 100, meters)",
    f"DWITHIN(geom, POINT({LON!r} {LAT!r}), 100)",
    f"S_DWITHIN(geom, POINT({LON!r} {LAT!r}), 0.1, km)",
    {"op": "s_dwithin", "args": [{"property": "geom"},
                                 {"type": "Point", "coordinates": [LON, LAT]}, 100]},
])
def test_dwithin_measures_metres_in_vn2000(lights, cql):
    # lights stand 0, 50, 99, 101, 150 and 400 m east of the bridge (measured in EPSG:5899)
    assert ids_for(lights, cql) == ["L000", "L001", "L002"]


def test_filter_crs_takes_literals_in_vn2000_metres(lights):
    e, n = BRIDGE_EN
    cql = f"S_DWITHIN(geom, POINT({e!r} {n!r}), 120, meters)"
    assert ids_for(lights, cql, extra=f"&filter-crs={METRIC_URI}") \
        == ["L000", "L001", "L002", "L003"]


@pytest.mark.parametrize("layer_id", LAYERS)
def test_every_listed_queryable_can_be_filtered_and_sorted_on(lights, layer_id):
    names = set(lights.get(f"/collections/{layer_id}/queryables").get_json()["properties"])
    for name in sorted(names - {"geom"}):
        resp = lights.get(f"/collections/{layer_id}/items?limit=1&sortby=-{name}"
                          f"&filter={quote(name + ' IS NOT NULL')}")
        assert resp.status_code == 200, (name, resp.get_json())


@pytest.mark.parametrize("cql, words", [
    ("nope = 1", "no queryable property 'nope'"),
    ("install_year > 2000", "no queryable property 'install_year'"),
    ("wattage = 'abc'", "wattage is integer"),
    ("street > 5", "street is text"),
    ("wattage >", "not valid cql2-text"),
    ("wattage LIKE 'a%'", "LIKE needs a text property"),
    ("CASEI(wattage) LIKE CASEI('a%')", "LIKE needs a text property"),
    ("street LIKE wattage", "LIKE needs a text pattern"),
    ("street = wattage", "cannot compare street"),
    ("S_INTERSECTS(street, POINT(1 2))", "spatial predicates compare the property 'geom'"),
    ("S_INTERSECTS(geom, POINT(500 2))", "outside longitude"),
    ("S_INTERSECTS(geom, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "invalid geometry literal"),
    ("S_DWITHIN(geom, POINT(108 16), 100, furlongs)", "distance unit 'furlongs'"),
    ("S_DWITHIN(geom, POINT(108 16), 1000000, meters)", "out of range"),
    ("wattage + 1 > 2", "arithmetic"),
])
def test_bad_filters_are_400_naming_the_problem(lights, cql, words):
    assert words in error_for(lights, cql)


def test_bad_cql2_json_is_400(lights):
    assert "not valid JSON" in error_for(lights, "{not json", "cql2-json")
    assert "not valid cql2-json" in error_for(lights, {"op": "frobnicate", "args": []})
    assert "no queryable property" in error_for(
        lights, {"op": "=", "args": [{"property": "x"}, 1]})
