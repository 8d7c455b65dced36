"""/collections/{layer}/items: bbox, limit/offset paging, properties, sortby, formats."""
from __future__ import annotations

import csv
import dataclasses
import io
from urllib.parse import parse_qs, urlsplit

import pytest

from layers.city import CITY
from tests.gisapp.features.conftest import BRIDGE_EN, BRIDGE_LONLAT, N_LIGHTS

ITEMS = "/collections/street_lights/items"
METRIC_URI = f"http://www.opengis.net/def/crs/EPSG/0/{CITY.metric_srid}"


def get_json(client, url, status=200, **kwargs):
    resp = client.get(url, **kwargs)
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    return resp.get_json()


def error_message(client, url) -> str:
    body = get_json(client, url, 400)
    assert body["error"]["code"] == "bad_request"
    return body["error"]["message"]


def link(body, rel):
    found = [l["href"] for l in body["links"] if l["rel"] == rel]
    return found[0] if found else None


def test_items_default_page_has_counts_and_geojson(lights):
    resp = lights.get(ITEMS)
    assert resp.mimetype == "application/geo+json"
    body = resp.get_json()
    assert body["type"] == "FeatureCollection"
    assert (body["numberMatched"], body["numberReturned"]) == (N_LIGHTS, N_LIGHTS)
    first = body["features"][0]
    assert first["id"] == 1 and first["geometry"]["type"] == "Point"
    assert first["geometry"]["coordinates"] == pytest.approx(list(BRIDGE_LONLAT), abs=1e-7)
    assert first["properties"]["light_id"] == "L000"
    assert link(body, "next") is None and link(body, "prev") is None


def test_paging_by_next_links_walks_every_feature_once(lights):
    seen, url, pages = [], ITEMS + "?limit=5&sortby=-wattage", 0
    while url:
        body = get_json(lights, url)
        assert body["numberMatched"] == N_LIGHTS
        assert body["numberReturned"] == len(body["features"]) <= 5
        seen += [f["id"] for f in body["features"]]
        url, pages = link(body, "next"), pages + 1
        if url:
            assert parse_qs(urlsplit(url).query)["sortby"] == ["-wattage"]
    assert pages == 8
    assert sorted(seen) == list(range(1, N_LIGHTS + 1))
    assert len(seen) == len(set(seen))


def test_prev_link_returns_the_previous_page(lights):
    first = get_json(lights, ITEMS + "?limit=4")
    second = get_json(lights, ITEMS + "?limit=4&offset=4")
    back = get_json(lights, link(second, "prev"))
    assert [f["id"] for f in back["features"]] == [f["id"] for f in first["features"]]
    assert [f["id"] for f in second["features"]] == [5, 6, 7, 8]


def test_next_links_in_the_default_order_continue_after_the_last_id(lights):
    seen, url = [], ITEMS + "?limit=10"
    while url:
        page = get_json(lights, url)
        seen += [f["id"] for f in page["features"]]
        url = next((x["href"] for x in page["links"] if x["rel"] == "next"), None)
        assert url is None or "after=" in url and "offset=" not in url
    assert seen == list(range(1, N_LIGHTS + 1))


def test_keyset_pages_are_not_counted_and_take_no_sortby(lights):
    page = get_json(lights, ITEMS + "?limit=5&after=30")
    assert "numberMatched" not in page and page["numberReturned"] == 5
    assert [f["id"] for f in page["features"]] == [31, 32, 33, 34, 35]
    resp = lights.get(ITEMS + "?after=3&sortby=-wattage")
    assert resp.status_code == 400 and "after" in resp.get_json()["error"]["message"]


def test_limit_above_the_maximum_is_clamped_to_the_setting(lights_app, monkeypatch):
    settings = lights_app.extensions["settings"]
    monkeypatch.setitem(lights_app.extensions, "settings",
                        dataclasses.replace(settings, max_features_per_page=7))
    body = get_json(lights_app.test_client(), ITEMS + "?limit=1000")
    assert body["numberReturned"] == 7
    assert "limit=7" in link(body, "next")


@pytest.mark.parametrize("query, words", [
    ("limit=0", "limit 0 is out of range"), ("limit=abc", "limit 'abc' must be an integer"),
    ("limit=99999999999999999999", "must be an integer"), ("offset=-1", "offset -1"),
    ("f=xml", "f 'xml' is not supported"), ("filter-lang=sql", "filter-lang 'sql'"),
])
def test_bad_paging_and_format_parameters_are_400(lights, query, words):
    assert words in error_message(lights, f"{ITEMS}?{query}")


def test_offset_past_the_end_is_an_empty_page(lights):
    body = get_json(lights, ITEMS + f"?offset={N_LIGHTS + 5}")
    assert body["numberReturned"] == 0 and body["numberMatched"] == N_LIGHTS
    assert link(body, "next") is None and link(body, "prev") is not None


def bridge_box(half_deg: float) -> tuple[float, float, float, float]:
    lon, lat = BRIDGE_LONLAT
    return lon - half_deg, lat - half_deg, lon + half_deg, lat + half_deg


def test_bbox_selects_the_lights_near_the_bridge(lights):
    minx, miny, maxx, maxy = bridge_box(0.002)  # about 210 m: offsets 0..150 m
    body = get_json(lights, ITEMS + f"?bbox={minx},{miny},{maxx},{maxy}")
    assert [f["properties"]["light_id"] for f in body["features"]] == [
        "L000", "L001", "L002", "L003", "L004"]
    assert body["numberMatched"] == 5


def test_bbox_with_six_numbers_ignores_heights(lights):
    minx, miny, maxx, maxy = bridge_box(0.002)
    body = get_json(lights, ITEMS + f"?bbox={minx},{miny},-10,{maxx},{maxy},100")
    assert body["numberMatched"] == 5


@pytest.mark.parametrize("crs", ["http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326"])
def test_bbox_crs_4326_takes_latitude_first(lights, crs):
    minx, miny, maxx, maxy = bridge_box(0.002)
    body = get_json(lights, ITEMS + f"?bbox={miny},{minx},{maxy},{maxx}&bbox-crs={crs}")
    assert body["numberMatched"] == 5


def test_bbox_crs_vn2000_tm3_in_metres(lights):
    e, n = BRIDGE_EN
    body = get_json(lights, ITEMS + f"?bbox={e - 10},{n - 10},{e + 120},{n + 10}"
                                    f"&bbox-crs={METRIC_URI}")
    assert [f["properties"]["light_id"] for f in body["features"]] == [
        "L000", "L001", "L002", "L003"]


@pytest.mark.parametrize("bbox, words", [
    ("1,2,3", "4 or 6"), ("a,b,c,d", "4 or 6"), ("1,2,3,nan", "finite"),
    ("0,50,10,40", "latitude"), ("170,0,-170,10", "antimeridian"), ("0,0,500,10", "longitude"),
])
def test_bad_bbox_is_400_naming_the_problem(lights, bbox, words):
    assert words in error_message(lights, f"{ITEMS}?bbox={bbox}")


def test_unknown_bbox_crs_is_400(lights):
    assert "bbox-crs 'EPSG:32649' is not supported" in error_message(
        lights, ITEMS + "?bbox=1,2,3,4&bbox-crs=EPSG:32649")


def test_properties_returns_only_the_named_fields(lights):
    body = get_json(lights, ITEMS + "?properties=wattage,light_id&limit=2")
    assert [set(f["properties"]) for f in body["features"]] == [{"wattage", "light_id"}] * 2


def test_empty_properties_returns_no_fields(lights):
    body = get_json(lights, ITEMS + "?properties=&limit=1")
    assert body["features"][0]["properties"] == {}


@pytest.mark.parametrize("name", ["nope", "geom_3857", "source_run_id", "install_year"])
def test_unknown_or_hidden_property_is_400(lights, name):
    message = error_message(lights, ITEMS + f"?properties=light_id,{name}")
    assert repr(name) in message and "allowed: light_id" in message


def test_sortby_orders_by_several_keys(lights):
    body = get_json(lights, ITEMS + "?sortby=-wattage,+light_id&properties=wattage,light_id")
    keys = [(f["properties"]["wattage"], f["properties"]["light_id"]) for f in body["features"]]
    assert keys == sorted(keys, key=lambda k: (-k[0], k[1]))


def test_sortby_unknown_or_hidden_name_is_400(lights):
    assert "cannot be sorted by 'install_year'" in error_message(
        lights, ITEMS + "?sortby=install_year")
    assert "cannot be sorted by 'id;drop'" in error_message(lights, ITEMS + "?sortby=id;drop")


def test_public_callers_never_see_staff_fields(lights):
    body = get_json(lights, ITEMS)
    assert all("install_year" not in f["properties"] for f in body["features"])


def test_csv_has_a_header_every_row_and_wkt(lights):
    resp = lights.get(ITEMS + "?f=csv&limit=3&properties=light_id,street")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == ["id", "light_id", "street", "wkt"]
    assert [r[:3] for r in rows[1:]] == [["1", "L000", "Bạch Đằng"],
                                         ["2", "L001", "Bạch Đằng"],
                                         ["3", "L002", "Bạch Đằng"]]
    assert all(r[3].startswith("POINT(108.2") for r in rows[1:])


def test_html_page_lists_the_features_in_a_table(lights):
    resp = lights.get(ITEMS + "?f=html&limit=3")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert html.count("<tr>") == 4 and "L002" in html and "L003" not in html
    assert 'rel="next"' in html


def test_browsers_get_html_and_scripts_get_geojson(lights):
    assert lights.get(ITEMS, headers={"Accept": "text/html,*/*;q=0.8"}).mimetype == "text/html"
    assert lights.get(ITEMS, headers={"Accept": "*/*"}).mimetype == "application/geo+json"


def test_one_item_by_id(lights):
    body = get_json(lights, "/collections/street_lights/items/3")
    assert body["type"] == "Feature" and body["id"] == 3
    assert body["properties"]["light_id"] == "L002"
    assert "install_year" not in body["properties"]


@pytest.mark.parametrize("fid", ["99999", "abc", "1e3", "-1", "99999999999999999999999"])
def test_missing_or_malformed_item_id_is_404(lights, fid):
    assert get_json(lights, f"/collections/street_lights/items/{fid}", 404)["error"]["code"] \
        == "not_found"


def test_unknown_collection_is_404(lights):
    assert get_json(lights, "/collections/nope/items", 404)["error"]["code"] == "unknown_layer"


def test_output_crs_vn2000_gives_metres_and_says_so(lights):
    resp = lights.get(f"/collections/street_lights/items/1?crs={CITY.metric_crs}")
    assert resp.headers["Content-Crs"] == f"<{METRIC_URI}>"
    assert resp.get_json()["geometry"]["coordinates"] == pytest.approx(list(BRIDGE_EN), abs=0.002)


def test_output_crs_4326_puts_latitude_first(lights):
    body = get_json(lights, ITEMS + "?crs=http://www.opengis.net/def/crs/EPSG/0/4326&limit=1")
    lon, lat = BRIDGE_LONLAT
    assert body["features"][0]["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-6)


def test_default_output_is_crs84(lights):
    resp = lights.get(ITEMS + "?limit=1")
    assert resp.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


def test_unknown_output_crs_is_400(lights):
    assert "crs 'EPSG:2000' is not supported" in error_message(lights, ITEMS + "?crs=EPSG:2000")
