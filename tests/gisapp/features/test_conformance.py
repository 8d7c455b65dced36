"""OGC API – Features conformance, written against the abstract test suites of the classes
/conformance advertises: Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS), Part 3
(Filter, Features Filter, Queryables, Queryables as query parameters), Part 8 (Sorting) and
CQL2 (text, JSON, Basic, Advanced Comparison, case- and accent-insensitive comparison, basic
spatial functions with and without plus, spatial functions).

One test per requirement group, named after it; each checks what that group's abstract
tests ask, over the demo city. Expected counts come from the test's own SQL.
"""
from __future__ import annotations

import json
from urllib.parse import quote

import psycopg
import pytest

from layers import LAYERS
from layers.city import CITY

PARCELS = "/collections/parcels"
ITEMS = PARCELS + "/items"
SPEC = "http://www.opengis.net/spec/"
OAS30 = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
# The Features and CQL2 classes this module tests; /conformance must list exactly these
# (other APIs' classes, such as Tiles', are tested with those APIs).
TESTED = [SPEC + c for c in (
    "ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
    "ogcapi-features-1/1.0/conf/html", "ogcapi-features-1/1.0/conf/oas30",
    "ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/filter",
    "ogcapi-features-3/1.0/conf/features-filter", "ogcapi-features-3/1.0/conf/queryables",
    "ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "ogcapi-features-8/1.0/conf/sorting", "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json",
    "cql2/1.0/conf/basic-cql2", "cql2/1.0/conf/advanced-comparison-operators",
    "cql2/1.0/conf/case-insensitive-comparison", "cql2/1.0/conf/accent-insensitive-comparison",
    "cql2/1.0/conf/basic-spatial-functions", "cql2/1.0/conf/basic-spatial-functions-plus",
    "cql2/1.0/conf/spatial-functions")]


@pytest.fixture(scope="module")
def db(test_url):
    """Counts by the test's own SQL."""
    with psycopg.connect(test_url) as conn:
        yield lambda sql, *p: conn.execute(sql, p or None).fetchone()[0]


def get(client, url: str, **headers):
    resp = client.get(url, headers=headers)
    resp.close()
    return resp


def matched(client, query: str, lang: str = "cql2-text", layer: str = "parcels") -> int:
    resp = get(client, f"/collections/{layer}/items?limit=1&filter-lang={lang}&filter="
               + quote(query))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["numberMatched"]


def rels(doc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for link in doc["links"]:
        out.setdefault(link["rel"], []).append(link)
    return out


# --- Part 1: Core -------------------------------------------------------------------------

def test_core_landing_page(client):
    resp = get(client, "/?f=json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    links = rels(resp.get_json())
    for rel in ("self", "service-desc", "conformance", "data"):
        assert rel in links, rel
    assert links["service-desc"][0]["type"] == OAS30
    assert all(link["href"].startswith("http://") for link in resp.get_json()["links"])


def test_core_api_definition(client):
    resp = get(client, "/openapi.json")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == OAS30
    assert resp.get_json()["openapi"].startswith("3.0")


def test_core_conformance(client):
    resp = get(client, "/conformance")
    assert resp.status_code == 200
    classes = resp.get_json()["conformsTo"]
    ours = [c for c in classes if c.startswith((SPEC + "ogcapi-features-", SPEC + "cql2/"))]
    assert ours == TESTED


def test_core_http(client):
    resp = get(client, "/collections", **{"Accept-Encoding": "identity"})
    assert resp.status_code == 200 and resp.headers["Content-Length"]


def test_core_query_param_invalid(client):
    for query in ("limit=abc", "limit=0", "bbox=1,2,3", "bbox=a,b,c,d", "datetime=yesterday"):
        resp = get(client, f"{ITEMS}?{query}")
        assert resp.status_code == 400, query
        assert resp.get_json()["error"]["message"]


def test_core_query_param_unknown(client):
    resp = get(client, f"{ITEMS}?colour=red")
    assert resp.status_code == 400 and "colour" in resp.get_json()["error"]["message"]
    assert get(client, f"{ITEMS}?limit=1&lang=en").status_code == 200  # the page switch


def test_core_fc_md_op_and_success(client):
    doc = get(client, "/collections").get_json()
    assert "self" in rels(doc)
    assert [c["id"] for c in doc["collections"]] == list(LAYERS)


def test_core_fc_md_links_and_items(client):
    for collection in get(client, "/collections").get_json()["collections"]:
        links = rels(collection)
        assert any(x["type"] == GEOJSON for x in links["items"]), collection["id"]
        assert links["self"][0]["href"].endswith(f"/collections/{collection['id']}?f=json")


def test_core_fc_md_extent(client, db):
    for collection in get(client, "/collections").get_json()["collections"]:
        bbox = collection["extent"]["spatial"]["bbox"][0]
        assert collection["extent"]["spatial"]["crs"].endswith("CRS84")
        assert bbox[0] <= bbox[2] and bbox[1] <= bbox[3]
    x = db("SELECT ST_XMin(ST_Extent(geom)) FROM parcels")
    parcels = get(client, PARCELS).get_json()["extent"]
    assert parcels["spatial"]["bbox"][0][0] == pytest.approx(x)
    first = db("SELECT min(valid_from) FROM parcel_versions")
    assert parcels["temporal"]["interval"][0][0] == first.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_core_sfc_md_op_and_success(client):
    doc = get(client, PARCELS).get_json()
    assert doc["id"] == "parcels" and doc["itemType"] == "feature"
    assert get(client, "/collections/nowhere").status_code == 404


def test_core_fc_op_and_response(client, db):
    doc = get(client, ITEMS + "?limit=5").get_json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 5
    assert doc["numberMatched"] == db("SELECT count(*) FROM parcels")
    assert doc["numberReturned"] == 5 and doc["timeStamp"].endswith("Z")


def test_core_fc_limit_definition_and_response(client, app):
    params = {p["name"]: p for p in get(client, "/openapi.json").get_json()[
        "paths"]["/collections/parcels/items"]["get"]["parameters"]}
    limit = params["limit"]["schema"]
    assert limit["minimum"] == 1 and limit["default"] == 100
    assert limit["maximum"] == app.extensions["settings"].max_features_per_page
    assert len(get(client, ITEMS + "?limit=7").get_json()["features"]) == 7
    assert len(get(client, ITEMS).get_json()["features"]) == 100


def test_core_fc_bbox_definition_and_response(client, db):
    box = (108.22, 16.06, 108.225, 16.065)
    doc = get(client, ITEMS + "?limit=1&bbox=" + ",".join(map(str, box))).get_json()
    assert doc["numberMatched"] == db(
        "SELECT count(*) FROM parcels WHERE ST_Intersects(geom, ST_MakeEnvelope(%s,%s,%s,%s,4326))",
        *box) > 0


def test_core_fc_time_definition_and_response(client, db):
    first = db("SELECT min(valid_from) FROM parcel_versions")
    before = first.strftime("%Y-%m-%dT%H:%M:%SZ").replace(first.strftime("%Y"), "2000", 1)
    assert get(client, ITEMS + f"?limit=1&datetime=../{before}").get_json()["numberMatched"] == 0
    now = get(client, ITEMS + "?limit=1&datetime=2999-01-01T00:00:00Z").get_json()
    assert now["numberMatched"] == db("SELECT count(*) FROM parcels")
    resp = get(client, "/collections/roads/items?datetime=2024-01-01")
    assert resp.status_code == 400 and "no time field" in resp.get_json()["error"]["message"]


def test_core_fc_links_and_paging(client):
    doc = get(client, ITEMS + "?limit=3").get_json()
    links = rels(doc)
    assert links["self"][0]["type"] == GEOJSON and "alternate" in links
    page2 = get(client, links["next"][0]["href"].replace("http://localhost", "")).get_json()
    assert [f["id"] for f in page2["features"]][0] > doc["features"][-1]["id"]


def test_core_f_op_success_and_links(client):
    first = get(client, ITEMS + "?limit=1").get_json()["features"][0]
    doc = get(client, f"{ITEMS}/{first['id']}").get_json()
    assert doc["type"] == "Feature" and doc["id"] == first["id"]
    assert {"self", "collection"} <= set(rels(doc))
    assert get(client, f"{ITEMS}/999999999").status_code == 404


# --- Part 1: GeoJSON, HTML, OpenAPI 3.0 ------------------------------------------------------

def test_geojson_definition_and_content(client):
    resp = get(client, ITEMS + "?limit=2", Accept=GEOJSON)
    assert resp.mimetype == GEOJSON
    feature = resp.get_json()["features"][0]
    assert feature["geometry"]["type"] == "MultiPolygon" and "land_use" in feature["properties"]
    assert get(client, f"{ITEMS}/{feature['id']}").mimetype == GEOJSON


@pytest.mark.parametrize("url", ["/", "/conformance", "/collections", PARCELS,
                                 PARCELS + "/queryables", ITEMS + "?limit=3", ITEMS + "/{first}"])
def test_html_definition_and_content(client, url):
    # the first parcel the collection lists (ids depend on the test database's load history)
    first = get(client, ITEMS + "?limit=1").get_json()["features"][0]["id"]
    url = url.replace("{first}", str(first))
    by_f = get(client, url + ("&" if "?" in url else "?") + "f=html")
    by_accept = get(client, url, Accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
    for resp in (by_f, by_accept):
        assert resp.status_code == 200 and resp.mimetype == "text/html"
        assert "<html" in resp.get_data(as_text=True)
    json_again = get(client, url, Accept="application/json")
    assert json_again.status_code == 200 and json_again.mimetype != "text/html"


def test_oas30_completeness_and_service_desc(client):
    doc = get(client, "/openapi.json").get_json()
    for path in ("/", "/conformance", "/collections", "/collections/{layer_id}",
                 "/collections/{layer_id}/items", "/collections/{layer_id}/items/{feature_id}"):
        assert "get" in doc["paths"][path], path
    items = doc["paths"]["/collections/parcels/items"]["get"]
    assert GEOJSON in items["responses"]["200"]["content"]
    path_params = [p for p in doc["paths"]["/collections/{layer_id}/items/{feature_id}"]["get"][
        "parameters"] if p["in"] == "path"]
    assert all(p["required"] for p in path_params) and len(path_params) == 2


# --- Part 2: CRS ------------------------------------------------------------------------------

def test_crs_discovery(client):
    doc = get(client, PARCELS).get_json()
    assert f"http://www.opengis.net/def/crs/EPSG/0/{CITY.metric_srid}" in doc["crs"]
    assert doc["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_crs_fc_crs_and_content_crs(client):
    uri = f"http://www.opengis.net/def/crs/EPSG/0/{CITY.metric_srid}"
    resp = get(client, ITEMS + "?limit=1&crs=" + quote(uri))
    assert resp.headers["Content-Crs"] == f"<{uri}>"
    x, y = resp.get_json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 500_000 < x < 600_000 and 1_700_000 < y < 1_800_000  # metres in VN-2000 / TM-3
    assert get(client, ITEMS + "?crs=EPSG:99999").status_code == 400


def test_crs_fc_bbox_crs(client, db):
    lonlat = get(client, ITEMS + "?limit=1&bbox=108.22,16.06,108.225,16.065").get_json()
    latlon = get(client, ITEMS + "?limit=1&bbox=16.06,108.22,16.065,108.225&bbox-crs="
                 + quote("http://www.opengis.net/def/crs/EPSG/0/4326")).get_json()
    assert lonlat["numberMatched"] == latlon["numberMatched"] > 0


# --- Part 3: Queryables, Filter, Features Filter -----------------------------------------------

def test_queryables_op_and_response(client):
    resp = get(client, PARCELS + "/queryables")
    assert resp.mimetype == "application/schema+json"
    doc = resp.get_json()
    assert doc["type"] == "object" and doc["$schema"].startswith("https://json-schema.org")
    assert doc["properties"]["legal_area"]["type"] == "number"
    assert "use_term" not in doc["properties"]  # staff fields are not the public's queryables
    link = rels(get(client, PARCELS).get_json())[
        "http://www.opengis.net/def/rel/ogc/1.0/queryables"][0]
    assert link["type"] == "application/schema+json"


def test_queryables_query_parameters(client, db):
    doc = get(client, ITEMS + "?limit=1&land_use=TMD&sheet_no=3").get_json()
    assert doc["numberMatched"] == db(
        "SELECT count(*) FROM parcels WHERE land_use = 'TMD' AND sheet_no = 3") > 0
    assert get(client, ITEMS + "?sheet_no=three").status_code == 400
    params = {p["name"] for p in get(client, "/openapi.json").get_json()[
        "paths"]["/collections/parcels/items"]["get"]["parameters"]}
    assert {"land_use", "sheet_no", "legal_area"} <= params


def test_filter_filter_param_and_filter_lang(client, db):
    expected = db("SELECT count(*) FROM parcels WHERE legal_area > 300")
    assert matched(client, "legal_area > 300") == expected
    assert matched(client, json.dumps({"op": ">", "args": [{"property": "legal_area"}, 300]}),
                   "cql2-json") == expected
    assert get(client, ITEMS + "?filter=x&filter-lang=ecql").status_code == 400


def test_filter_filter_crs(client):
    box = "POLYGON((108.22 16.06, 108.225 16.06, 108.225 16.065, 108.22 16.065, 108.22 16.06))"
    flipped = "POLYGON((16.06 108.22, 16.06 108.225, 16.065 108.225, 16.065 108.22, 16.06 108.22))"
    plain = matched(client, f"S_INTERSECTS(geom, {box})")
    resp = get(client, ITEMS + "?limit=1&filter-crs=" + quote(
        "http://www.opengis.net/def/crs/EPSG/0/4326") + "&filter=" + quote(
        f"S_INTERSECTS(geom, {flipped})"))
    assert resp.get_json()["numberMatched"] == plain > 0


def test_features_filter_unknown_queryable_is_rejected(client):
    resp = get(client, ITEMS + "?filter=" + quote("colour = 'red'"))
    assert resp.status_code == 400 and "colour" in resp.get_json()["error"]["message"]


# --- Part 8: Sorting ------------------------------------------------------------------------

def test_sorting_sortby(client):
    doc = get(client, ITEMS + "?limit=20&sortby=-legal_area").get_json()
    areas = [f["properties"]["legal_area"] for f in doc["features"]]
    assert areas == sorted(areas, reverse=True)
    assert get(client, ITEMS + "?sortby=colour").status_code == 400


# --- CQL2 -----------------------------------------------------------------------------------

def test_cql2_text_and_json_encodings_agree(client):
    text = "land_use = 'TMD' AND NOT (legal_area < 200)"
    as_json = {"op": "and", "args": [
        {"op": "=", "args": [{"property": "land_use"}, "TMD"]},
        {"op": "not", "args": [{"op": "<", "args": [{"property": "legal_area"}, 200]}]}]}
    assert matched(client, text) == matched(client, json.dumps(as_json), "cql2-json") > 0


def test_cql2_basic_cql2(client, db):
    total = db("SELECT count(*) FROM parcels")
    assert matched(client, "TRUE") == total and matched(client, "FALSE") == 0
    assert matched(client, "sheet_no <> 3 OR land_use = 'ODT'") == db(
        "SELECT count(*) FROM parcels WHERE sheet_no <> 3 OR land_use = 'ODT'")
    assert matched(client, "street IS NULL") == db(
        "SELECT count(*) FROM parcels WHERE street IS NULL")
    assert matched(client, "legal_area >= 100.5 AND legal_area <= 120") == db(
        "SELECT count(*) FROM parcels WHERE legal_area BETWEEN 100.5 AND 120")
    assert matched(client, "street IS NOT NULL AND NOT TRUE") == 0


def test_cql2_advanced_comparison_operators(client, db):
    assert matched(client, "land_use IN ('TMD', 'DGD')") == db(
        "SELECT count(*) FROM parcels WHERE land_use IN ('TMD', 'DGD')")
    assert matched(client, "land_use NOT IN ('ODT')") == db(
        "SELECT count(*) FROM parcels WHERE land_use <> 'ODT'")
    assert matched(client, "legal_area BETWEEN 100 AND 150") == db(
        "SELECT count(*) FROM parcels WHERE legal_area BETWEEN 100 AND 150")
    assert matched(client, "street LIKE 'Hàm%'") == db(
        "SELECT count(*) FROM parcels WHERE street LIKE 'Hàm%'") > 0
    assert matched(client, json.dumps({"op": "between", "args": [
        {"property": "legal_area"}, 100, 150]}), "cql2-json") == matched(
        client, "legal_area BETWEEN 100 AND 150")


def test_cql2_case_insensitive_comparison(client, db):
    expected = db("SELECT count(*) FROM parcels WHERE land_use = 'TMD'")
    assert matched(client, "CASEI(land_use) = CASEI('tmd')") == expected
    assert matched(client, "CASEI(street) LIKE CASEI('hàm%')") == db(
        "SELECT count(*) FROM parcels WHERE street LIKE 'Hàm%'")


def test_cql2_accent_insensitive_comparison(client):
    assert matched(client, "ACCENTI(name) = ACCENTI('Hai Chau')", layer="wards") == 1
    assert matched(client, "name = 'Hai Chau'", layer="wards") == 0
    assert matched(client, "CASEI(ACCENTI(name)) = CASEI(ACCENTI('hải châu'))",
                   layer="wards") == 1
    hits = get(client, "/collections/wards/items?filter=" + quote(
        "ACCENTI(name) = ACCENTI('Hai Chau')")).get_json()["features"]
    assert [f["properties"]["name"] for f in hits] == ["Hải Châu"]
    assert matched(client, json.dumps({"op": "=", "args": [
        {"op": "accenti", "args": [{"property": "street"}]},
        {"op": "accenti", "args": ["Hoang Dieu"]}]}), "cql2-json") == matched(
        client, "street = 'Hoàng Diệu'") > 0


def test_cql2_accenti_maps_d_with_stroke(client, db):
    expected = db("SELECT count(*) FROM parcels WHERE address LIKE '%Đ%'")
    assert expected > 0
    assert matched(client, "ACCENTI(address) LIKE ACCENTI('%Đ%')") >= matched(
        client, "ACCENTI(address) LIKE '%D%' AND address LIKE '%Đ%'") == expected


def test_cql2_basic_spatial_functions(client, db):
    sql = ("SELECT count(*) FROM parcels WHERE ST_Intersects(geom, "
           "ST_MakeEnvelope(108.22, 16.06, 108.225, 16.065, 4326))")
    assert matched(client, "S_INTERSECTS(geom, BBOX(108.22, 16.06, 108.225, 16.065))") == db(sql)
    assert matched(client, json.dumps({"op": "s_intersects", "args": [
        {"property": "geom"}, {"bbox": [108.22, 16.06, 108.225, 16.065]}]}), "cql2-json") == db(sql)
    x, y = db("SELECT ST_X(ST_PointOnSurface(geom)) || ' ' || ST_Y(ST_PointOnSurface(geom)) "
              "FROM parcels ORDER BY id LIMIT 1").split()
    assert matched(client, f"S_INTERSECTS(geom, POINT({x} {y}))") >= 1


def test_cql2_basic_spatial_functions_plus(client, db):
    line = "LINESTRING(108.22 16.06, 108.225 16.065)"
    assert matched(client, f"S_INTERSECTS(geom, {line})") == db(
        f"SELECT count(*) FROM parcels WHERE ST_Intersects(geom, ST_GeomFromText('{line}', 4326))")


def test_cql2_spatial_functions(client, db):
    box = "POLYGON((108.22 16.06, 108.225 16.06, 108.225 16.065, 108.22 16.065, 108.22 16.06))"
    for op, fn in (("S_WITHIN", "ST_Within"), ("S_DISJOINT", "ST_Disjoint"),
                   ("S_OVERLAPS", "ST_Overlaps"), ("S_TOUCHES", "ST_Touches")):
        assert matched(client, f"{op}(geom, {box})") == db(
            f"SELECT count(*) FROM parcels WHERE {fn}(geom, ST_GeomFromText('{box}', 4326))"), op
    assert matched(client, f"S_CONTAINS(geom, {box})") == 0
